// The session clock as this page knows it. The server stamps each room state with
// `now_ms` (ms since the session's t0). A state received at local time r says the
// offset (session ms − performance.now()) is at least now_ms − r; the join ack,
// answered between the join's send s and its arrival a, also says it is at most
// now_ms − s. The clock is the middle of what is known, and its error bound is half
// the width: RTT/2 of the best join, less once room states narrow it from below.

/** @typedef {{now: () => number, errorMs: () => number, known: () => boolean,
 *   sample: (nowMs: number, receivedAt: number, sentAt?: number) => void}} SessionClock */

/** @returns {SessionClock} */
export function createSessionClock() {
  let lower = -Infinity; // offset ≥ lower
  let upper = Infinity; // offset ≤ upper

  function offset() {
    if (upper === Infinity) return lower;
    if (lower === -Infinity) return upper;
    return (lower + upper) / 2;
  }

  return {
    now: () => Math.round(performance.now() + offset()),
    errorMs: () => (upper === Infinity || lower === -Infinity ? Infinity : Math.max(0, (upper - lower) / 2)),
    known: () => lower !== -Infinity,
    sample(nowMs, receivedAt, sentAt) {
      lower = Math.max(lower, nowMs - receivedAt);
      if (sentAt !== undefined) upper = Math.min(upper, nowMs - sentAt);
      // a server restart may move t0: a sample outside what we knew starts over
      if (lower > upper) {
        lower = nowMs - receivedAt;
        upper = sentAt === undefined ? Infinity : nowMs - sentAt;
      }
    },
  };
}
