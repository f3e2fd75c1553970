// The Socket.IO link to the server: join (and re-join after a drop) with the
// seat token, hand every server event to the page, and report link status.
import { io } from "/vendor/socket.io/socket.io.esm.min.js";
import { createSessionClock } from "./session-clock.js";

const ACK_TIMEOUT_MS = 15000; // generous: a 500 ms RTT link with loss needs a few tries
/** Join errors that trying again cannot fix. */
const FINAL = new Set([
  "token_expired", "token_invalid", "wrong_room", "unknown_room", "unknown_seat",
  "seat_taken", "bad_request", "forbidden", "token_revoked",
]);

/**
 * Connect and take the seat. `on` receives:
 *   state(roomState, outcome|null)  status(kind, detail)  whisper(msg)
 *   offer(payload)  ice(payload)  video(payload)  linkDown()  replaced(reason)  fatal(message)
 * video: the server's `media_video` (which received videos are paused for this
 * seat's weak downlink, and which simulcast layer each gets).
 * status kinds: "connecting" (detail: why a first attempt failed), "joining",
 * "connected" (detail: the join outcome), "reconnecting", "rejoining", "left".
 * `consent` ({recording: bool}, or null for seats that are never recorded) is
 * sent with the `consent` event after every join that does not already show it.
 * `origin`: the node that runs the room ("" or absent: this page's origin), from
 * the join preview; `where()`: asks the preview again (resolves to an origin, or
 * null if it cannot say). A join answered `wrong_node` moves to the origin it names;
 * a link that stays down asks `where()` and moves if the room now runs elsewhere
 * (its node died: docs/protocol.md "Placement").
 */
export function connectSeat({ token, room, consent, on, origin = "", where = async () => null }) {
  const socket = io(origin || undefined, {
    // the room rides in the URL too: `caucus serve --workers N` sends the socket to its node
    query: { room },
    transports: ["websocket"],
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
    timeout: 10000,
  });
  let stopped = false;
  let seated = false;
  let latestNow = -Infinity;
  const clock = createSessionClock();

  function acceptState(state, outcome) {
    // One connection delivers in order; this only guards a state from before a rejoin.
    if (outcome === null && state.now_ms < latestNow) return;
    latestNow = Math.max(latestNow, state.now_ms);
    if (outcome === null) clock.sample(state.now_ms, performance.now());
    on.state(state, outcome);
  }

  async function join() {
    on.status(seated ? "rejoining" : "joining");
    let reply;
    const sentAt = performance.now();
    try {
      reply = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck("join", { token, room });
    } catch {
      // No answer in time on a live socket: treat the link as broken and start
      // over. (A socket that dropped meanwhile reconnects and rejoins by itself.)
      if (!stopped && socket.connected) { socket.disconnect(); socket.connect(); }
      return;
    }
    if (stopped) return;
    if (reply && reply.code === "wrong_node" && reply.origin) {
      moveTo(reply.origin); // the room runs on another node: connect there
      return;
    }
    if (!reply || !reply.ok) {
      if (reply && FINAL.has(reply.code)) {
        stop();
        on.fatal(reply.message || "The server refused this join link.");
      } else {
        setTimeout(() => { if (!stopped && socket.connected) join(); }, 2000);
      }
      return;
    }
    seated = true;
    latestNow = -Infinity;
    if (reply.state) clock.sample(reply.state.now_ms, performance.now(), sentAt);
    acceptState(reply.state, reply.outcome);
    on.status("connected", reply.outcome);
    sendConsent(reply.state);
  }

  async function sendConsent(state) {
    // The recording consent given on the device check; observers have none to give.
    if (!consent) return;
    const wanted = consent.recording ? "given" : "declined";
    const me = (state.roster || []).find((p) => p.seat === state.you.seat);
    if (me && me.consent === wanted) return; // already on record, e.g. after a resume
    try {
      await socket.timeout(ACK_TIMEOUT_MS).emitWithAck("consent", { recording: consent.recording });
    } catch {
      // no answer in time: the next (re)join asks again
    }
  }

  // socket.io-client has no public way to change the address: its Manager reads
  // `uri` at every (re)connection attempt (pinned by package-lock.json).
  const manager = /** @type {{uri: string}} */ (/** @type {unknown} */ (socket.io));

  /** Connect to another node from now on (the manager's next attempt goes there). */
  function moveTo(next) {
    manager.uri = next;
    if (socket.connected) { socket.disconnect(); socket.connect(); }
  }

  let failedAttempts = 0;
  async function askWhere() {
    // every second failed attempt: has the room moved to another node?
    failedAttempts += 1;
    if (failedAttempts % 2) return;
    const next = await where();
    if (!stopped && next && next !== manager.uri) manager.uri = next;
  }

  function stop() {
    stopped = true;
    socket.io.reconnection(false);
    socket.disconnect();
  }

  socket.on("connect", () => { failedAttempts = 0; join(); });
  socket.on("disconnect", (reason) => {
    on.linkDown();
    if (stopped) return;
    on.status("reconnecting", reason);
    // The manager retries by itself except after a server-side disconnect
    // (e.g. a restart); a replaced seat has stopped before this point.
    if (reason === "io server disconnect") setTimeout(() => { if (!stopped) socket.connect(); }, 2000);
  });
  socket.on("connect_error", (error) => {
    if (stopped) return;
    on.status(seated ? "reconnecting" : "connecting", error && error.message);
    askWhere();
  });
  socket.io.on("reconnect_attempt", (attempt) => {
    if (!stopped) on.status("reconnecting", `attempt ${attempt}`);
  });
  // The network came back (an interface is up again): try at once rather than at the
  // end of the back-off, which may be 5 s away; media follows the re-join.
  window.addEventListener("online", () => {
    if (!stopped && !socket.connected) { socket.disconnect(); socket.connect(); }
  });
  socket.on("room_state", (state) => acceptState(state, null));
  socket.on("whisper", (message) => on.whisper(message));
  socket.on("media_offer", (payload) => on.offer(payload));
  socket.on("media_ice", (payload) => on.ice(payload));
  socket.on("media_video", (payload) => { if (on.video) on.video(payload); });
  socket.on("replaced", (payload) => {
    stop();
    on.replaced((payload && payload.reason) || "joined from another connection");
  });
  on.status("connecting");

  return {
    socket,
    /** The session clock, from the join ack's round trip and each room state. */
    clock,
    get connected() { return socket.connected && seated && !stopped; },
    /** Send a client event and wait for its ack; always resolves to {ok, ...}. */
    async request(event, payload) {
      if (!socket.connected) {
        return { ok: false, code: "offline", message: "Not connected — try again when the connection is back." };
      }
      try {
        return await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
      } catch {
        return { ok: false, code: "timeout", message: "The server did not answer in time." };
      }
    },
    /** Give up the seat at once (others see it empty) and stop reconnecting. */
    async leave() {
      const reply = await this.request("leave", {});
      stop();
      on.status("left");
      return reply;
    },
    close: stop,
  };
}
