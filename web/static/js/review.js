// The review page (/review): the sessions the viewer may watch, newest run first,
// with who was in them and a filter; sessions never run are grouped apart.
// Each links to its playback page. The token comes from the link's fragment.
import { $, clock, el } from "./dom.js";
import { createApi, viewerOf, viewerToken } from "./playback-api.js";
import { seatLabel } from "./seats.js";

const STATUS = {
  complete: "",
  recording: "still being recorded",
  interrupted: "interrupted",
  empty: "nothing recorded",
};

function when(ms) {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? "" : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** The day a recording ran, as the date inputs write it (local time): "2026-12-02". */
function dayOf(ms) {
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}`;
}

/** Ran: its role-play started (past the lobby) or something was recorded. */
const ran = (r) => (r.ran_ms ?? null) !== null || r.status !== "empty";

function people(recording) {
  return (recording.people || []).map((p) => `${p.name} (${seatLabel(p.seat)})`).join(", ");
}

function item(recording, token) {
  // The token rides in the fragment (never sent to the server), so the link also works in a new tab.
  const href = `/recordings/${encodeURIComponent(recording.id)}#token=${encodeURIComponent(token)}`;
  const started = recording.ran_ms ?? recording.t0_ms ?? recording.created_ms;
  const facts = [
    ran(recording) ? `Ran ${when(started)}` : `Created ${when(recording.created_ms)}`,
    ran(recording) ? `${clock(recording.duration_ms)} long` : "",
    STATUS[recording.status] ?? recording.status,
  ].filter(Boolean).join(" · ");
  const who = people(recording);
  return el("li", { class: "card recording-item", dataset: { room: recording.id, ranMs: String(recording.ran_ms ?? "") } },
    el("div", {},
      el("a", { href }, recording.title),
      el("p", { class: "recording-meta" }, facts),
      who ? el("p", { class: "recording-people" }, who) : null),
    el("span", { class: "recording-seat" }, recording.your_seat ? `You were ${seatLabel(recording.your_seat)}` : "Admin"));
}

/** Whether `recording` passes the filter: words in its title or people, and the date range. */
function matches(recording, { text, from, to }) {
  const haystack = `${recording.title} ${people(recording)}`.toLowerCase();
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.every((w) => haystack.includes(w))) return false;
  const day = dayOf(recording.ran_ms ?? recording.created_ms);
  return (!from || day >= from) && (!to || day <= to);
}

function render(recordings, token) {
  const value = (id) => /** @type {HTMLInputElement} */ ($(id)).value;
  const filter = { text: value("filter-text"), from: value("filter-from"), to: value("filter-to") };
  const shown = recordings.filter((r) => ran(r) && matches(r, filter));
  $("recordings").replaceChildren(...shown.map((r) => item(r, token)));
  const ranCount = recordings.filter(ran).length;
  if (!ranCount) $("recordings").append(el("li", { class: "hint" }, "No recordings yet."));
  else if (!shown.length) $("recordings").append(el("li", { class: "hint" }, "No recording matches the filter."));
  $("filter-count").textContent = ranCount && shown.length !== ranCount ? `${shown.length} of ${ranCount} recordings shown.` : "";
  const notRun = recordings.filter((r) => !ran(r));
  $("not-run").hidden = notRun.length === 0;
  $("not-run-summary").textContent = `Not run yet (${notRun.length})`;
  $("not-run-list").replaceChildren(...notRun.map((r) => item(r, token)));
}

async function start() {
  const token = viewerToken();
  const loading = $("review-loading");
  if (!token) {
    loading.hidden = true;
    $("review-problem").textContent = "This link has no access token. Open the review link you were given (it ends in #token=…).";
    return;
  }
  const viewer = viewerOf(token);
  $("you").textContent = viewer.admin ? "Admin review" : "Your recordings";
  if (viewer.admin) $("review-hint").textContent = "Every recorded session. Open one to watch it with its feedback.";
  try {
    const recordings = await createApi(token).get("/api/recordings");
    // Newest run first; the date is when it ran, not when the link was made.
    recordings.sort((a, b) => (b.ran_ms ?? b.created_ms) - (a.ran_ms ?? a.created_ms));
    render(recordings, token);
    $("review-filter").hidden = false;
    $("review-filter").addEventListener("input", () => render(recordings, token));
    $("review-filter").addEventListener("submit", (event) => event.preventDefault());
  } catch (error) {
    $("review-problem").textContent = error.message;
  } finally {
    loading.hidden = true;
  }
}

start();
