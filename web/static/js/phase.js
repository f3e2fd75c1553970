// The phase: its name for people and the banner with its timer. Which moves the
// phase allows is the server's answer (state.actions), never worked out here.
import { announce, clock } from "./dom.js";
import { characterName } from "./seats.js";

export function phaseTitle(state) {
  const phase = state.phase;
  switch (phase.kind) {
    case "lobby": return "Waiting to start";
    case "joint": return "Joint session";
    case "caucus": return `Private caucus with ${characterName(state, phase.caucus_seat)}`;
    case "timeout": return "Time-out";
    case "debrief": return "Debrief";
    case "ended": return "Session ended";
    default: return phase.name;
  }
}

/**
 * The banner: phase title and a timer that counts down when the phase has a
 * planned length and up otherwise. Times are on the session clock; the local
 * offset is taken from `now_ms` at receipt.
 */
export function createPhaseBanner({ banner, name, timer }) {
  let state = null;
  let offset = 0; // session ms = performance.now() + offset
  let lastPhase = null;
  let ticker = null;

  function sessionNow() {
    return performance.now() + offset;
  }

  function tick() {
    if (!state) return;
    const { started_ms: started, planned_ms: planned, kind } = state.phase;
    if (kind === "ended" || started === null || started === undefined) {
      timer.textContent = "";
      return;
    }
    const elapsed = Math.max(0, sessionNow() - started);
    if (planned) {
      const left = planned - elapsed;
      timer.textContent = left >= 0 ? `${clock(left)} left` : `${clock(left)} over`;
      timer.dataset.over = String(left < 0);
      timer.setAttribute("aria-label", left >= 0 ? `${Math.ceil(left / 60000)} minutes left` : "over time");
    } else {
      timer.textContent = clock(elapsed);
      timer.dataset.over = "false";
      timer.setAttribute("aria-label", `${Math.floor(elapsed / 60000)} minutes elapsed`);
    }
  }

  return {
    update(next) {
      state = next;
      offset = next.now_ms - performance.now();
      const title = phaseTitle(next);
      banner.hidden = false;
      banner.dataset.phase = next.phase.kind;
      name.textContent = title;
      if (lastPhase !== null && lastPhase !== next.phase.name) announce(`Phase changed: ${title}.`);
      lastPhase = next.phase.name;
      tick();
      if (!ticker) ticker = setInterval(tick, 500);
    },
    /** The current session time in ms, as far as this page can tell. */
    now: sessionNow,
  };
}
