// @ts-check
// Console: live rooms. Every 2 s (polling: a room changes on people's actions and a
// link is sampled every 2 s, so a push would show nothing sooner) the rooms an admin
// (all) or coach (their cohorts) may see: phase, who sits where and whether they are
// connected, each seat's link quality, the recording; an End button per room.
import { $, clock, el } from "./dom.js";
import { api, problem, startConsole } from "./console.js";
import { confirmEnd, endSimulation } from "./console-end.js";

const POLL_MS = 2000;
/** the viewer's own time zone (their account's): "Updated" is their clock, not the browser's */
let zone = "UTC";

/** @typedef {{at_ms: number, loss_pct: number, rtt_ms: number | null, jitter_ms: number | null,
 *   kbps: number | null, frozen: boolean, quality: string}} Link */
/** @typedef {{seat: string, label: string, assigned: {id: string, name: string} | null,
 *   occupant: {name: string, connected: boolean, consent: string} | null, media: string, link: Link | null}} SeatRow */
/** @typedef {{id: string, scenario: {id: string, title: string}, now_ms: number, connected: number,
 *   phase: {name: string, kind: string, started_ms: number, planned_ms: number | null},
 *   recording: {on: boolean, status: string, fault: string | null}, seats: SeatRow[]}} LiveRoom */

const PHASES = { lobby: "Lobby", joint: "Joint session", caucus: "Caucus", timeout: "Time-out", debrief: "Debrief", ended: "Ended" };

/** @param {LiveRoom} room */
function phaseText(room) {
  const phase = room.phase;
  const name = phase.kind === "caucus" ? `Caucus with ${phase.name.split(":")[1]}` : PHASES[phase.kind] || phase.name;
  if (phase.kind === "ended") return name;
  const elapsed = clock(room.now_ms - phase.started_ms);
  return phase.planned_ms ? `${name} · ${elapsed} of ${clock(phase.planned_ms)}` : `${name} · ${elapsed}`;
}

/** @param {LiveRoom} room */
function recordingText(room) {
  const r = room.recording;
  if (r.status === "failed") return `Recording failed: ${r.fault || "unknown reason"}`;
  return r.status === "recording" ? "Recording" : "Not recording";
}

/** @param {Link | null} link */
function linkText(link) {
  if (!link) return "—";
  const parts = [`${link.loss_pct} % loss`];
  if (link.rtt_ms !== null) parts.push(`${link.rtt_ms} ms RTT`);
  if (link.frozen) parts.push("video frozen");
  return `${link.quality === "good" ? "Good" : "Poor"} · ${parts.join(", ")}`;
}

/** @param {SeatRow} seat */
function whoText(seat) {
  if (seat.occupant) return seat.occupant.name;
  return seat.assigned ? `${seat.assigned.name} (not here)` : "empty";
}

/** @param {SeatRow} seat */
function stateText(seat) {
  if (!seat.occupant) return "";
  if (!seat.occupant.connected) return "Dropped, seat held";
  return seat.media === "reconnecting" ? "Reconnecting media" : "Connected";
}

/** @param {LiveRoom} room */
function card(room) {
  const end = el("button", { type: "button", class: "danger", disabled: room.phase.kind === "ended" }, "End");
  end.addEventListener("click", async () => {
    if (!(await confirmEnd(room.scenario.title))) return;
    try {
      await endSimulation(room.id);
      await poll();
    } catch (error) {
      problem(error instanceof Error ? error.message : String(error));
    }
  });
  const rows = room.seats.map((seat) => el("tr", { dataset: { seat: seat.seat } },
    el("th", { scope: "row" }, seat.label),
    el("td", {}, whoText(seat)),
    el("td", { class: "seat-state", dataset: { connected: seat.occupant ? String(seat.occupant.connected) : "none" } }, stateText(seat)),
    el("td", { class: "link-quality", dataset: { quality: seat.link ? seat.link.quality : "none" } }, linkText(seat.link)),
  ));
  return el("section", { class: "panel live-room", dataset: { id: room.id, phase: room.phase.kind }, "aria-label": room.scenario.title },
    el("div", { class: "live-head" },
      el("h2", {}, room.scenario.title),
      el("span", { class: "phase-pill", dataset: { phase: room.phase.kind } }, phaseText(room)),
      el("span", { class: "rec-state", dataset: { status: room.recording.status } }, recordingText(room)),
      el("span", { class: "hint" }, `${room.connected} connected`),
      end,
    ),
    el("table", {},
      el("thead", {}, el("tr", {},
        el("th", { scope: "col" }, "Seat"), el("th", { scope: "col" }, "Who"),
        el("th", { scope: "col" }, "Connection"), el("th", { scope: "col" }, "Link"))),
      el("tbody", {}, ...rows)),
  );
}

async function poll() {
  try {
    /** @type {{rooms: LiveRoom[]}} */
    const live = await api("/api/live");
    // the redraw keeps keyboard focus on the same room's End button
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.closest(".live-room") : null;
    const focusedId = focused instanceof HTMLElement ? focused.dataset.id : undefined;
    $("live").replaceChildren(...live.rooms.map(card));
    if (focusedId) {
      const again = $("live").querySelector(`.live-room[data-id="${CSS.escape(focusedId)}"] button`);
      if (again instanceof HTMLElement) again.focus();
    }
    $("live-empty").hidden = live.rooms.length > 0;
    $("live-updated").textContent = `Updated ${new Date().toLocaleTimeString(undefined, { timeZone: zone })}.`;
    problem("");
  } catch (error) {
    problem(`Could not update: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function start() {
  zone = (await startConsole("live")).time_zone || "UTC";
  await poll();
  setInterval(() => {
    // a confirmation open over the page keeps what it asks about in place
    if (!(/** @type {HTMLDialogElement} */ ($("confirm-end"))).open) poll();
  }, POLL_MS);
}

start().catch((error) => problem(error instanceof Error ? error.message : String(error)));
