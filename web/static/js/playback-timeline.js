// The session timeline: phase bands (a caucus the viewer may not watch is shown
// as such, with no media), feedback markers coloured by skill, the playhead, and
// seeking by click, drag or keyboard. It is one ARIA slider over session time.
// Below it, each seat's troubled network stretches (the server's `trouble`
// events), so a reviewer can tell a hesitation from a frozen link.
import { el } from "./dom.js";
import { stamp } from "./playback-clock.js";
import { bandLabel } from "./playback-labels.js";

const STEP_MS = 5000;
const PAGE_MS = 30000;

/** Keys that move or start the clock; true if `event` was one of them (and is handled). */
export function transportKey(event, clock) {
  if (event.altKey || event.ctrlKey || event.metaKey) return false;
  switch (event.key) {
    case " ": case "Spacebar": case "k": clock.toggle(); break;
    case "ArrowLeft": case "ArrowDown": clock.skip(-STEP_MS); break;
    case "ArrowRight": case "ArrowUp": clock.skip(STEP_MS); break;
    case "PageDown": clock.skip(-PAGE_MS); break;
    case "PageUp": clock.skip(PAGE_MS); break;
    case "Home": clock.seek(0); break;
    case "End": clock.seek(clock.duration); break;
    default: return false;
  }
  event.preventDefault();
  return true;
}

/** "video frozen 3.2 s — 18 % loss on Wanjiru Kamau's link" (what the server said, whose link). */
export function troubleLabel(stretch, names) {
  const what = typeof stretch.what === "string" && stretch.what ? stretch.what : "unsteady link";
  return `${what} on ${names.name(stretch.seat)}'s link`;
}

/** What ends each kind of outage on the timeline: a dropped connection ends when the
 * seat is back (or released); media lost ends when it is restored. */
const OUTAGES = {
  drop: { ends: ["resume", "join", "replace", "leave"], what: "connection lost" },
  media_lost: { ends: ["media_restored", "drop", "leave"], what: "media lost" },
};

/** Outages as stretches: from a seat's `drop` (or `media_lost`) to what ended it, or to
 * the end of the recording; the viewer only gets the events it may see. */
function outages(events, duration) {
  const open = new Map();
  const found = [];
  const close = (key, t, how) => {
    const start = open.get(key);
    open.delete(key);
    const [kind, seat] = key.split("|");
    const secs = ((t - start) / 1000).toFixed(1);
    const end = how === "leave" ? ", seat released" : how ? ", back" : "";
    found.push({ seat, t_ms: start, end_ms: t, what: `${OUTAGES[kind].what} ${secs} s${end}` });
  };
  const ordered = [...(events || [])].filter((e) => e.seat).sort((a, b) => a.t_ms - b.t_ms);
  for (const e of ordered) {
    for (const [kind, outage] of Object.entries(OUTAGES)) {
      const key = `${kind}|${e.seat}`;
      if (open.has(key) && outage.ends.includes(e.kind) && e.t_ms > open.get(key)) close(key, e.t_ms, e.kind);
    }
    if (OUTAGES[e.kind] && !open.has(`${e.kind}|${e.seat}`)) open.set(`${e.kind}|${e.seat}`, e.t_ms);
  }
  for (const key of [...open.keys()]) if (open.get(key) < duration) close(key, duration, null);
  return found;
}

/** The viewer's troubled stretches (the server's `trouble` events and the outages) grouped
 * by seat, in the order seats first had trouble. */
function troubleBySeat(events, duration) {
  const bySeat = new Map();
  const stretches = [...(events || []).filter((e) => e.kind === "trouble"), ...outages(events, duration)];
  for (const e of stretches.sort((a, b) => a.t_ms - b.t_ms)) {
    if (!e.seat || !(e.end_ms > e.t_ms) || e.t_ms >= duration) continue;
    if (!bySeat.has(e.seat)) bySeat.set(e.seat, []);
    bySeat.get(e.seat).push(e);
  }
  return bySeat;
}

/**
 * container: the element to fill; bands: the recording's phases; names:
 * createSeatNames(); clock: createClock(); events: the recording's timeline (its
 * `trouble` stretches are shaded). Returns {update(t), setNotes(notes, skills, describe)}.
 */
export function createTimeline({ container, bands, names, clock, events = [] }) {
  const duration = Math.max(1, clock.duration);
  const pct = (t) => `${(100 * Math.max(0, Math.min(duration, t))) / duration}%`;
  const markers = el("div", { class: "marker-lane" });
  const playhead = el("div", { class: "playhead", "aria-hidden": "true" });
  const track = el("div", {
    class: "track", role: "slider", tabindex: 0, "aria-label": "Session time",
    "aria-valuemin": 0, "aria-valuemax": duration, "aria-valuenow": 0,
    "aria-describedby": "timeline-keys",
  });
  for (const band of bands.filter((b) => b.end_ms > b.start_ms)) {
    const label = bandLabel(band, names);
    const kind = String(band.phase).split(":")[0];
    track.append(el("div", {
      class: "band",
      dataset: { kind, phase: band.phase, hidden: String(Boolean(band.hidden)) },
      style: `left:${pct(band.start_ms)};width:${pct(band.end_ms - band.start_ms)}`,
      title: `${label}: ${stamp(band.start_ms)}–${stamp(band.end_ms)}`,
    }, el("span", { class: "band-label" }, label)));
  }
  const trouble = troubleBySeat(events, duration);
  const rows = [];
  for (const [seat, stretches] of trouble) {
    const row = el("div", {
      class: "trouble-row", role: "group", dataset: { seat },
      "aria-label": `Network trouble on ${names.name(seat)}'s link`,
    }, el("span", { class: "trouble-seat", "aria-hidden": "true" }, names.name(seat)));
    for (const s of stretches) {
      const when = `${stamp(s.t_ms)}–${stamp(s.end_ms)}`;
      const label = `${troubleLabel(s, names)}, ${when}`;
      const where = `left:${pct(s.t_ms)};width:${pct(s.end_ms - s.t_ms)}`;
      // the shade on the track itself, where the eye already is
      track.append(el("div", { class: "trouble-shade", dataset: { seat }, style: where, "aria-hidden": "true" }));
      row.append(el("button", {
        type: "button", class: "trouble", dataset: { seat, start: s.t_ms, end: s.end_ms },
        style: where, title: label, "aria-label": label,
        onclick: () => clock.seek(s.t_ms),
      }));
    }
    rows.push(row);
  }
  track.append(playhead);
  const troubleLane = rows.length
    ? el("div", { class: "trouble-lane" }, ...rows)
    : null;
  const scale = el("div", { class: "scale", "aria-hidden": "true" },
    el("span", {}, stamp(0)), el("span", {}, stamp(duration)));
  const keys = el("p", { id: "timeline-keys", class: "hint keys" },
    "Click the timeline to jump. Keys: Space play/pause, ← → 5 s, Page Up/Down 30 s, Home/End.");
  container.replaceChildren(...[markers, track, troubleLane, scale, keys].filter(Boolean));

  function timeAt(clientX) {
    const box = track.getBoundingClientRect();
    return ((clientX - box.left) / box.width) * duration;
  }

  let dragging = false;
  track.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    dragging = true;
    track.setPointerCapture(event.pointerId);
    clock.seek(timeAt(event.clientX));
  });
  track.addEventListener("pointermove", (event) => {
    if (dragging) clock.seek(timeAt(event.clientX));
  });
  const stop = () => { dragging = false; };
  track.addEventListener("pointerup", stop);
  track.addEventListener("pointercancel", stop);
  track.addEventListener("keydown", (event) => {
    if (transportKey(event, clock)) event.stopPropagation();
  });

  let spoken = "";
  function update(t) {
    playhead.style.left = pct(t);
    track.setAttribute("aria-valuenow", String(Math.round(t)));
    const band = bands.find((b) => b.start_ms <= t && t < b.end_ms) || bands[bands.length - 1];
    const text = `${stamp(t).slice(0, -2)} of ${stamp(duration).slice(0, -2)}${band ? `, ${bandLabel(band, names)}` : ""}`;
    if (text !== spoken) {
      spoken = text; // once a second, not every frame
      track.setAttribute("aria-valuetext", text);
    }
  }

  /** notes: top-level notes; skills: createSkills(); describe(note) → label text. */
  function setNotes(notes, skills, describe) {
    markers.replaceChildren(...notes.map((note) => el("button", {
      type: "button",
      class: "marker",
      tabindex: -1, // the notes list is the keyboard way to the same places
      dataset: { note: note.id, skill: note.skill || "" },
      style: `left:${pct(note.t_ms)};--marker:${skills.colour(note.skill)}`,
      title: describe(note),
      "aria-label": describe(note),
      onclick: () => clock.seek(note.t_ms),
    })));
  }

  return { update, setNotes, track };
}
