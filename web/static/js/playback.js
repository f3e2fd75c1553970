// Entry point of the playback page (/recordings/<id>, or /static/playback.html?room=<id>):
// every seat the viewer may watch on one clock and one timeline, with the
// session's feedback alongside. The viewer's token comes from the link's fragment.
import { $, el } from "./dom.js";
import { createApi, roomFromLocation, viewerToken } from "./playback-api.js";
import { createClock, stamp } from "./playback-clock.js";
import { createSeatNames, createSkills, seatOrder } from "./playback-labels.js";
import { createNoteForm } from "./playback-note-form.js";
import { createNotesList } from "./playback-notes.js";
import { createSeatPlayer } from "./playback-player.js";
import { createTimeline, transportKey } from "./playback-timeline.js";
import { seatLabel } from "./seats.js";

const STATUS = {
  recording: "Still being recorded: reload for the latest",
  interrupted: "The recording was interrupted: it plays up to the last saved moment",
  empty: "Nothing was recorded",
};

function notice(title, text) {
  $("playback").hidden = true;
  $("notice-title").textContent = title;
  $("notice-text").textContent = text;
  $("notice").hidden = false;
  $("main").focus();
}

/** Whether `event` belongs to the focused control rather than to the page's shortcuts. */
function forControl(event) {
  const target = event.target;
  if (!(target instanceof Element)) return false;
  if (target.closest("input, textarea, select, [contenteditable]")) return true;
  // Space and Enter press a focused button or follow a link; the other keys are free.
  return (event.key === " " || event.key === "Enter") && Boolean(target.closest("button, a"));
}

/** Seats whose recording starts this close after the first one are waited for. */
const TOGETHER_MS = 5000;

/**
 * Where the page opens: the first moment every seat recorded from the start shows
 * media (the lobby is never recorded, and a video segment starts at its first
 * keyframe). A seat that joined much later is not waited for. 0 if nothing was recorded.
 */
export function firstRecordedMoment(segments) {
  const first = new Map(); // seat → start of its first video segment, else its first audio
  for (const s of segments) {
    const known = first.get(s.seat);
    const better = !known || (s.kind === "video" && known.kind !== "video")
      || (s.kind === known.kind && s.start_ms < known.start_ms);
    if (better) first.set(s.seat, s);
  }
  const starts = [...first.values()].map((s) => s.start_ms);
  if (!starts.length) return 0;
  const earliest = Math.min(...starts);
  return Math.max(...starts.filter((t) => t <= earliest + TOGETHER_MS));
}

function playersFor(recording, names, clock) {
  const bySeat = new Map();
  const copies = new Map(); // seat → its browser copy's chunks (they fill the server's gaps)
  for (const segment of recording.segments) {
    if (!bySeat.has(segment.seat)) bySeat.set(segment.seat, []);
    bySeat.get(segment.seat).push(segment);
  }
  for (const chunk of recording.browser_copy || []) {
    if (!bySeat.has(chunk.seat)) bySeat.set(chunk.seat, []);
    if (!copies.has(chunk.seat)) copies.set(chunk.seat, []);
    copies.get(chunk.seat).push(chunk);
  }
  const hiddenBands = recording.phases.filter((b) => b.hidden);
  return [...bySeat.keys()].sort(seatOrder(recording.roles)).map((seat) =>
    createSeatPlayer({ seat, names, segments: bySeat.get(seat), copies: copies.get(seat) || [], hiddenBands, clock }));
}

function exportsFor(api, room) {
  const problem = $("export-problem");
  const formats = [["vtt", "Captions (.vtt)"], ["csv", "Spreadsheet (.csv)"], ["json", "Data (.json)"]];
  $("exports").replaceChildren(...formats.map(([fmt, label]) => el("button", {
    type: "button",
    dataset: { format: fmt },
    onclick: async (event) => {
      problem.textContent = "";
      event.currentTarget.setAttribute("aria-busy", "true");
      const button = event.currentTarget;
      try {
        await api.download(`/api/recordings/${encodeURIComponent(room)}/annotations.${fmt}`, `caucus-${room}-feedback.${fmt}`);
      } catch (error) {
        problem.textContent = error.message;
      } finally {
        button.setAttribute("aria-busy", "false");
      }
    },
  }, label)));
}

/**
 * recording: GET /api/recordings/{id}, whose `viewer` says what this person may do
 * (docs/protocol.md); the page enables its controls from it alone.
 */
function show(recording, api, room) {
  const names = createSeatNames(recording.parties, recording.timeline, recording.roles);
  const skills = createSkills(recording.rubric);
  const viewer = recording.viewer;
  const yourSeat = viewer.seat;
  document.title = `${recording.title} — recording — Caucus`;
  $("title").textContent = recording.title;
  $("you").textContent = yourSeat ? `Recording · you were ${seatLabel(yourSeat)}` : "Recording · admin review";
  const status = STATUS[recording.status];
  $("status").hidden = !status;
  $("status").textContent = status || "";

  const playButton = $("play");
  const time = $("time");
  const total = stamp(recording.duration_ms);
  let players = [];
  let timeline = null;
  let form = null;
  let notes = null;
  let wasPlaying = null;
  const clock = createClock(recording.duration_ms, (t, { playing, seeked }) => {
    for (const player of players) player.sync(t, playing, seeked);
    if (timeline) timeline.update(t);
    time.textContent = `${stamp(t)} / ${total}`;
    time.dataset.tMs = String(t);
    if (playing !== wasPlaying) {
      wasPlaying = playing;
      playButton.textContent = playing ? "Pause" : "Play";
      playButton.dataset.playing = String(playing);
    }
    if (form) form.follow(t);
    if (notes) notes.highlight(t);
  });

  players = playersFor(recording, names, clock);
  $("players").replaceChildren(...players.map((p) => p.element));
  $("players").dataset.count = String(players.length);
  if (!players.length) $("players").append(el("li", { class: "empty" }, "There is no recorded audio or video you may watch."));
  timeline = createTimeline({
    container: $("timeline"), bands: recording.phases, names, clock, events: recording.timeline,
  });
  playButton.addEventListener("click", () => clock.toggle());

  if (viewer.may_annotate) {
    form = createNoteForm({
      section: $("note-form-card"), skills, trainees: viewer.note_targets, names, clock,
      save: (payload, editing) => notes.save(payload, editing),
    });
  } else {
    $("notes-hint").textContent = "Feedback your coach shared with you. You can reply to notes addressed to you.";
  }
  notes = createNotesList({
    list: $("notes"), count: $("note-count"), api, room, viewer, skills, names, clock, form,
    onChange: (top, describe) => timeline.setNotes(top, skills, describe),
  });
  exportsFor(api, room);

  document.addEventListener("keydown", (event) => {
    if (forControl(event)) return;
    if (form && event.key === "n" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      form.start();
      return;
    }
    transportKey(event, clock);
  });

  $("notice").hidden = true;
  $("playback").hidden = false;
  clock.seek(firstRecordedMoment(recording.segments));
  notes.load().catch((error) => { $("notes-problem").textContent = error.message; });
}

async function start() {
  const room = roomFromLocation();
  const token = viewerToken();
  if (!room) {
    notice("No recording chosen", "Open a recording from your list of recordings.");
    return;
  }
  const api = createApi(token); // no token: the signed-in person's cookie
  let recording;
  try {
    recording = await api.get(`/api/recordings/${encodeURIComponent(room)}`);
  } catch (error) {
    if (!token && error.status === 401) {
      notice("This link has no access", "Sign in, or open the review link you were given (it ends in #token=…), or ask your coach or administrator for one.");
    } else {
      notice("Could not open this recording", error.message);
    }
    return;
  }
  show(recording, api, room);
}

start();
