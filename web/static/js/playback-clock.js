// The one clock of the playback page. Session time runs from performance.now(),
// never from a media element: elements start late, stall and drift, and there
// may be no element at all at a given moment (nothing recorded, a hidden caucus).
// Every player follows this clock; the clock follows nobody.
import { clock } from "./dom.js";

/** "mm:ss.t" (or "h:mm:ss.t"): tenths matter when you place a note. */
export function stamp(ms) {
  const tenths = Math.floor((Math.max(0, ms) % 1000) / 100);
  return `${clock(Math.max(0, ms))}.${tenths}`;
}

/**
 * durationMs: the end of the recording. onTick(t, {playing, seeked}) is called
 * on every animation frame while playing and once after each play, pause or seek.
 */
export function createClock(durationMs, onTick) {
  let base = 0; // session ms at `since`
  let since = performance.now();
  let playing = false;
  let frame = 0;

  const clamp = (t) => Math.max(0, Math.min(durationMs, Math.round(t)));

  function now() {
    return playing ? clamp(base + (performance.now() - since)) : base;
  }

  function tell(seeked) {
    onTick(now(), { playing, seeked });
  }

  function loop() {
    frame = 0;
    if (!playing) return;
    if (now() >= durationMs) {
      pause();
      return;
    }
    tell(false);
    frame = requestAnimationFrame(loop);
  }

  function play() {
    if (playing) return;
    if (base >= durationMs) base = 0; // play from the start again
    since = performance.now();
    playing = true;
    tell(true);
    if (!frame) frame = requestAnimationFrame(loop);
  }

  function pause() {
    if (!playing) return;
    base = now();
    playing = false;
    cancelAnimationFrame(frame);
    frame = 0;
    tell(true);
  }

  return {
    now,
    get playing() { return playing; },
    get duration() { return durationMs; },
    play,
    pause,
    toggle: () => (playing ? pause() : play()),
    seek(t) {
      base = clamp(t);
      since = performance.now();
      tell(true);
    },
    /** Move by `deltaMs` from where the clock is now. */
    skip(deltaMs) { this.seek(now() + deltaMs); },
  };
}
