// Connection quality from RTCPeerConnection.getStats(): round trip, packet loss
// and jitter per seat, computed from the change since the previous sample.

/** The key under which the page's own uplink is reported. */
export const SELF = "self";

function pct(lost, received) {
  const total = lost + received;
  return total > 0 ? Math.max(0, Math.min(100, (100 * lost) / total)) : 0;
}

/**
 * Summarise a stats report. `seatOfMid(mid)` names the seat an inbound stream
 * comes from; `previous` is the state returned by the last call (or null).
 * Returns {seats: Map(seat → {rttMs, lossPct, jitterMs, kind, stalled}), state}.
 * `stalled`: the seat's streams delivered packets before and none since the
 * previous call (a dropped link shows this long before signalling notices).
 */
export function summarise(report, seatOfMid, previous) {
  const before = (previous && previous.counters) || new Map();
  const counters = new Map();
  const seats = new Map();
  const flow = new Map(); // seat → {before: packets until the last call, since: packets since}
  let rttMs = null;
  let uplinkLoss = null;

  report.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded"
        && typeof s.currentRoundTripTime === "number") {
      rttMs = Math.round(s.currentRoundTripTime * 1000);
    }
  });
  report.forEach((s) => {
    if (s.type === "inbound-rtp") {
      const seat = seatOfMid(s.mid);
      if (!seat) return;
      const key = `in:${s.mid}`;
      const now = { lost: s.packetsLost || 0, received: s.packetsReceived || 0 };
      counters.set(key, now);
      const then = before.get(key) || { lost: 0, received: 0 };
      const loss = pct(now.lost - then.lost, now.received - then.received);
      const f = flow.get(seat) || { before: 0, since: 0 };
      f.before += then.received;
      f.since += Math.max(0, now.received - then.received);
      flow.set(seat, f);
      const jitterMs = typeof s.jitter === "number" ? Math.round(s.jitter * 1000) : null;
      const seen = seats.get(seat);
      // Audio decides how a seat sounds: prefer its figures over video's.
      if (!seen || (s.kind === "audio" && seen.kind !== "audio")) {
        seats.set(seat, { rttMs, lossPct: loss, jitterMs, kind: s.kind });
      }
    } else if (s.type === "remote-inbound-rtp") {
      // What the server reports about our outgoing stream.
      if (typeof s.fractionLost === "number") {
        uplinkLoss = Math.max(uplinkLoss || 0, s.fractionLost * 100);
      }
      if (rttMs === null && typeof s.roundTripTime === "number") {
        rttMs = Math.round(s.roundTripTime * 1000);
      }
    }
  });
  for (const [seat, value] of seats) {
    const f = flow.get(seat);
    value.rttMs = rttMs;
    value.stalled = Boolean(previous && f && f.before > 0 && f.since === 0);
  }
  seats.set(SELF, { rttMs, lossPct: uplinkLoss === null ? 0 : uplinkLoss, jitterMs: null, kind: "uplink" });
  return { seats, state: { counters } };
}

/** "good" | "fair" | "poor" for a round trip and a loss rate (rough, for a glance); "stalled". */
export function quality({ rttMs, lossPct, stalled }) {
  if (stalled) return "stalled";
  if ((lossPct || 0) >= 8 || (rttMs || 0) >= 800) return "poor";
  if ((lossPct || 0) >= 2 || (rttMs || 0) >= 400) return "fair";
  return "good";
}
