// One tile per recorded seat: a <video> and an <audio> that follow the master
// clock. A seat's track is several files (a new segment after each caucus switch
// or pause); at session time t the player loads the segment that contains t and
// plays it from (t − start); outside every segment it shows why there is nothing.
// Where the server recorded nothing of a seat (a loss, an outage, a crash) and the
// seat's own page kept a copy (the browser copy: chunks with audio and video), the
// chunk that covers t plays instead, on the same clock.
import { el } from "./dom.js";

/** Re-sync an element whose position is off the master clock by more than this. */
const DRIFT_S = 0.08;
/** While playing, a drift up to this is caught up by rate (no seek, no stutter); beyond, seek. */
const SEEK_S = 1.0;
const CATCH_UP_RATE = 1.25;
/**
 * A segment's duration ends at its last frame's timestamp, so consecutive
 * segments leave a gap of one frame. Hold the last picture over such a gap
 * rather than flash "not recorded".
 */
const HOLD_MS = 250;

/** The segment with start_ms ≤ t < start_ms + duration_ms, or null. */
export function segmentAt(segments, t) {
  return segments.find((s) => s.start_ms <= t && t < s.start_ms + s.duration_ms) || null;
}

/** The server's segment at t, else the browser-copy chunk at t (filling a gap), or null. */
export function sourceAt(segments, copies, t) {
  return segmentAt(segments, t) || segmentAt(copies, t);
}

/** A media element that plays whichever of `segments` (else of `copies`) the clock is in. */
function createTrack(media, segments, clock, copies = []) {
  let current = null; // the segment whose URL the element has
  let ready = false; // its metadata is loaded: currentTime may be set
  let failed = null; // the segment whose file could not be loaded or decoded

  media.addEventListener("loadedmetadata", () => {
    ready = true;
    sync(clock.now(), clock.playing, true);
  });
  media.addEventListener("error", () => { failed = current; });

  function rest() {
    if (!media.paused) media.pause();
    media.playbackRate = 1;
  }

  /** Returns "playing" (a segment covers t), "held" (just after one), "failed" or null. */
  function sync(t, playing, force) {
    const segment = sourceAt(segments, copies, t);
    if (!segment) {
      rest();
      const held = current && ready && t >= current.start_ms && t < current.start_ms + current.duration_ms + HOLD_MS;
      return held ? "held" : null;
    }
    if (segment !== current) {
      current = segment;
      ready = false;
      media.dataset.segment = String(segment.id);
      media.dataset.source = copies.includes(segment) ? "browser" : "server";
      media.src = segment.url; // loadedmetadata brings us back here
      return "playing";
    }
    if (segment === failed) return "failed";
    if (!ready) return "playing";
    const expected = Math.min(t - segment.start_ms, segment.duration_ms) / 1000;
    const drift = media.currentTime - expected;
    if (force || !playing) {
      if (Math.abs(drift) > (force ? 0.001 : DRIFT_S)) media.currentTime = expected;
      media.playbackRate = 1;
    } else if (!media.seeking) {
      if (Math.abs(drift) > SEEK_S) {
        media.currentTime = expected;
        media.playbackRate = 1;
      } else if (Math.abs(drift) > DRIFT_S) {
        media.playbackRate = drift < 0 ? CATCH_UP_RATE : 1 / CATCH_UP_RATE;
      } else if (Math.abs(drift) < DRIFT_S / 4) {
        media.playbackRate = 1;
      }
    }
    if (playing && media.paused) media.play().catch(() => {}); // a later tick retries
    if (!playing && !media.paused) media.pause();
    return "playing";
  }

  return { sync, get segment() { return current; } };
}

const PLACEHOLDER = {
  hidden: "Private caucus — not available to you",
  none: "Not recorded",
  audio: "Audio only",
  failed: "This part of the recording could not be loaded",
};

/**
 * seat; names: createSeatNames(); segments: the seat's segments (video and audio);
 * hiddenBands: phase bands the viewer may not watch; clock: createClock().
 */
export function createSeatPlayer({ seat, names, segments, copies = [], hiddenBands, clock }) {
  const byStart = (a, b) => a.start_ms - b.start_ms;
  const videoSegments = segments.filter((s) => s.kind === "video").sort(byStart);
  const audioSegments = segments.filter((s) => s.kind === "audio").sort(byStart);
  const video = el("video", { playsinline: true, preload: "auto", "aria-hidden": "true", dataset: { seat } });
  video.muted = true; // the seat's sound is in its audio segments
  const audio = el("audio", { preload: "auto", dataset: { seat } });
  const placeholder = el("p", { class: "placeholder" });
  const name = names.name(seat);
  const li = el("li", { class: "tile player", dataset: { seat, state: "none" } },
    el("div", { class: "tile-media" }, video, placeholder, audio),
    el("div", { class: "tile-info" },
      el("div", { class: "tile-line" }, el("span", { class: "tile-name" }, name)),
      el("div", { class: "tile-line" }, el("span", { class: "tile-role" }, names.role(seat)))));
  const chunks = [...copies].sort(byStart);
  // A chunk has both kinds: the muted video element shows its picture, the audio its sound.
  const videoTrack = createTrack(video, videoSegments, clock, chunks);
  const audioTrack = createTrack(audio, audioSegments, clock, chunks);
  let state = null;

  function show(next) {
    if (next === state) return;
    state = next;
    li.dataset.state = next;
    placeholder.textContent = PLACEHOLDER[next] || "";
    li.setAttribute("aria-label", `${name}: ${next === "video" ? "on screen" : placeholder.textContent.toLowerCase()}`);
  }

  return {
    seat,
    element: li,
    video,
    audio,
    /** Follow the clock to session time t; force: after a seek, play or pause. */
    sync(t, playing, force = false) {
      const shown = videoTrack.sync(t, playing, force);
      const heard = audioTrack.sync(t, playing, force);
      const hidden = hiddenBands.some((b) => b.start_ms <= t && t < b.end_ms);
      if (shown === "failed") show("failed");
      else show(shown ? "video" : hidden ? "hidden" : heard ? "audio" : "none");
    },
  };
}
