// The review page (/review): the recordings the viewer may watch, newest first,
// each linking to its playback page. The token comes from the link's fragment.
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

function item(recording, token) {
  // The token rides in the fragment (never sent to the server), so the link also works in a new tab.
  const href = `/recordings/${encodeURIComponent(recording.id)}#token=${encodeURIComponent(token)}`;
  const facts = [when(recording.created_ms), `${clock(recording.duration_ms)} long`, STATUS[recording.status] ?? recording.status]
    .filter(Boolean).join(" · ");
  return el("li", { class: "card recording-item", dataset: { room: recording.id } },
    el("div", {},
      el("a", { href }, recording.title),
      el("p", { class: "recording-meta" }, facts)),
    el("span", { class: "recording-seat" }, recording.your_seat ? `You were ${seatLabel(recording.your_seat)}` : "Admin"));
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
    recordings.sort((a, b) => b.created_ms - a.created_ms);
    $("recordings").replaceChildren(...recordings.map((r) => item(r, token)));
    if (!recordings.length) $("recordings").append(el("li", { class: "hint" }, "No recordings yet."));
  } catch (error) {
    $("review-problem").textContent = error.message;
  } finally {
    loading.hidden = true;
  }
}

start();
