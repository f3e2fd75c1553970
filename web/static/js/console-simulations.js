// @ts-check
// Console: simulations. Schedule one (scenario, cohort, a time in the admin's own zone,
// length, people in seats), issue guest links for the seats nobody holds, end one.
// Times come from the API in UTC ms and are shown in the admin's time zone; a typed
// time goes back as local text + zone, which the server turns into UTC.
import { $, el } from "./dom.js";
import { api, ApiError, problem, startConsole } from "./console.js";
import { confirmEnd, endSimulation } from "./console-end.js";
import { zonedText } from "./zoned-time.js";

/** @typedef {{seat: string, label: string}} Seat */
/** @typedef {{id: string, title: string, seats: Seat[]}} ScenarioChoice */
/** @typedef {{id: string, name: string}} Named */
/** @typedef {{seat: string, label: string, person: {id: string, name: string, active: boolean} | null}} SeatView */
/** @typedef {{id: string, scenario: {id: string, title: string}, cohort_id: string | null,
 *   scheduled_ms: number | null, duration_min: number | null, ends_ms: number | null,
 *   created_ms: number, status: string, seats: SeatView[], join_url: string}} Simulation */

const STATUS = { scheduled: "Scheduled", open: "Open to join", live: "Live", ended: "Ended" };

/** @type {string} */
let zone = "UTC";
/** @type {Named[] | null} people who can be seated; null: the people list is not available */
let people = null;
/** @type {Map<string, string>} cohort id → name */
const cohortNames = new Map();
/** @type {ScenarioChoice[]} */
let scenarios = [];
let isAdmin = false;

/**
 * A list from an endpoint another part of the console owns: [] if it is not there (404).
 * @param {string} path @param {string} key the list's name when it comes wrapped
 * @returns {Promise<any[] | null>}
 */
async function optionalList(path, key) {
  try {
    const data = await api(path);
    return Array.isArray(data) ? data : (data && data[key]) || [];
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
}

const input = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ ($(id));
const select = (/** @type {string} */ id) => /** @type {HTMLSelectElement} */ ($(id));

async function loadScenarios() {
  const observers = Number(input("observers").value) || 0;
  scenarios = await api(`/api/schedule/scenarios?observers=${observers}`);
  const chosen = select("scenario").value;
  select("scenario").replaceChildren(
    ...scenarios.map((s) => el("option", { value: s.id, selected: s.id === chosen }, s.title)),
  );
  drawSeatPicks();
}

function drawSeatPicks() {
  const scenario = scenarios.find((s) => s.id === select("scenario").value) || scenarios[0];
  const list = $("seat-list");
  if (!scenario) { list.replaceChildren(); return; }
  /** @type {Record<string, string>} keep what was picked when the seats are redrawn */
  const picked = {};
  for (const node of list.querySelectorAll("select")) {
    const s = /** @type {HTMLSelectElement} */ (node);
    if (s.value) picked[s.dataset.seat || ""] = s.value;
  }
  $("seats-hint").textContent = people
    ? "Seats left empty get guest links after scheduling."
    : "The people list is not available: every seat gets a guest link after scheduling.";
  list.replaceChildren(...scenario.seats.map((seat) => {
    const id = `seat-${seat.seat}`;
    const choices = [el("option", { value: "" }, "— guest link —")];
    for (const person of people || []) {
      choices.push(el("option", { value: person.id, selected: picked[seat.seat] === person.id }, person.name));
    }
    return el("div", { class: "seat-pick" },
      el("label", { for: id }, seat.label),
      el("select", { id, dataset: { seat: seat.seat }, disabled: !people }, ...choices),
    );
  }));
}

/** @param {Simulation} sim */
function when(sim) {
  if (sim.scheduled_ms === null) return `Unscheduled (created ${zonedText(sim.created_ms, zone, "short")})`;
  return zonedText(sim.scheduled_ms, zone, "short");
}

/** @param {Simulation} sim */
function seatsText(sim) {
  return sim.seats
    .filter((s) => s.seat !== "admin")
    .map((s) => `${s.label}: ${s.person ? s.person.name : "guest"}`)
    .join(" · ");
}

/** @param {{seat: string, label: string, link: string}[]} links */
function showLinks(links) {
  $("link-list").replaceChildren(...links.map((link) => {
    const copy = el("button", { type: "button" }, "Copy");
    copy.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(link.link);
        copy.textContent = "Copied";
      } catch {
        copy.textContent = "Select and copy the link";
      }
    });
    return el("li", { dataset: { seat: link.seat } },
      el("strong", {}, link.label), " ",
      el("span", { class: "copy-link" }, link.link), " ", copy);
  }));
  $("links").hidden = links.length === 0;
  if (links.length) $("links").scrollIntoView({ block: "nearest" });
}

/** @param {Simulation} sim */
async function issueLinks(sim) {
  problem("");
  try {
    const issued = await api(`/api/schedule/${encodeURIComponent(sim.id)}/links`, { method: "POST", body: {} });
    showLinks(issued.links);
    if (!issued.links.length) problem("Every seat has a person: no guest links are needed.");
  } catch (error) {
    problem(error instanceof Error ? error.message : String(error));
  }
}

/** @param {Simulation} sim */
function row(sim) {
  /** @type {HTMLElement[]} */
  const buttons = [];
  if (sim.status !== "ended") {
    if (isAdmin) buttons.push(el("button", { type: "button", onclick: () => issueLinks(sim) }, "Guest links"));
    buttons.push(
      el("a", { href: `/join/${encodeURIComponent(sim.id)}` }, "Join"),
      el("button", {
        type: "button", class: "danger",
        onclick: async () => {
          if (!(await confirmEnd(`${sim.scenario.title}, ${when(sim)}`))) return;
          try { await endSimulation(sim.id); } catch (error) { problem(error instanceof Error ? error.message : String(error)); }
          await refresh();
        },
      }, "End"),
    );
  }
  const actions = el("div", { class: "actions" }, ...buttons);
  return el("tr", { dataset: { id: sim.id } },
    el("td", {}, when(sim), sim.duration_min ? el("span", { class: "hint" }, ` · ${sim.duration_min} min`) : null),
    el("td", {}, sim.scenario.title),
    el("td", {}, sim.cohort_id ? cohortNames.get(sim.cohort_id) || sim.cohort_id : "—"),
    el("td", { class: "seats-cell" }, seatsText(sim)),
    el("td", {}, el("span", { class: "status-pill", dataset: { status: sim.status } }, STATUS[sim.status] || sim.status)),
    el("td", {}, actions),
  );
}

async function refresh() {
  /** @type {Simulation[]} */
  const all = await api("/api/schedule");
  const now = Date.now();
  const DAY_MS = 24 * 3600 * 1000;
  // past: ended, over, or (unscheduled, made by the CLI or the API) older than a day
  const past = all.filter((s) => s.status === "ended"
    || (s.ends_ms !== null ? s.ends_ms < now : s.scheduled_ms === null && s.created_ms < now - DAY_MS));
  const upcoming = all.filter((s) => !past.includes(s));
  past.reverse(); // the latest first
  for (const [name, list] of /** @type {[string, Simulation[]][]} */ ([["upcoming", upcoming], ["past", past]])) {
    const table = /** @type {HTMLTableElement} */ ($(name));
    table.tBodies[0].replaceChildren(...list.map(row));
    table.hidden = list.length === 0;
    $(`${name}-empty`).hidden = list.length > 0;
  }
}

async function create(/** @type {SubmitEvent} */ event) {
  event.preventDefault();
  problem("");
  const button = /** @type {HTMLButtonElement} */ ($("create"));
  /** @type {Record<string, string>} */
  const seats = {};
  for (const node of $("seat-list").querySelectorAll("select")) {
    const s = /** @type {HTMLSelectElement} */ (node);
    if (s.value) seats[s.dataset.seat || ""] = s.value;
  }
  const body = {
    scenario: select("scenario").value,
    cohort: select("cohort").value || null,
    local_time: input("starts").value,
    time_zone: zone,
    duration_min: Number(input("duration").value),
    observers: Number(input("observers").value),
    seats,
  };
  button.disabled = true;
  try {
    /** @type {Simulation} */
    const created = await api("/api/schedule", { method: "POST", body });
    $("create-status").textContent = `Scheduled for ${zonedText(/** @type {number} */ (created.scheduled_ms), zone)}.`;
    await refresh();
    if (created.seats.some((s) => !s.person && s.seat !== "admin")) await issueLinks(created);
    else $("links").hidden = true;
  } catch (error) {
    problem(error instanceof Error ? error.message : String(error));
  } finally {
    button.disabled = false;
  }
}

async function start() {
  const me = await startConsole("simulations");
  zone = me.time_zone || "UTC";
  $("zone-hint").textContent = `(your time, ${zone})`;
  const admin = (isAdmin = me.role === "admin");
  const cohorts = await optionalList("/api/cohorts", "cohorts");
  for (const c of cohorts || []) cohortNames.set(c.id, c.name || c.id);
  if (admin) {
    const found = await optionalList("/api/people", "people");
    people = found === null ? null : found.filter((p) => p.active !== false);
    select("cohort").replaceChildren(
      el("option", { value: "" }, cohorts === null ? "— (cohorts not available) —" : "— none —"),
      ...[...cohortNames].map(([id, name]) => el("option", { value: id }, name)),
    );
    await loadScenarios();
    select("scenario").addEventListener("change", drawSeatPicks);
    input("observers").addEventListener("change", () => loadScenarios().catch((e) => problem(e.message)));
    $("schedule").addEventListener("submit", create);
    $("schedule").hidden = false;
  }
  await refresh();
}

start().catch((error) => problem(error instanceof Error ? error.message : String(error)));
