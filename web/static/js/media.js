// One RTCPeerConnection to the server, which is the only offerer: the page
// answers each `media_offer`, publishes its microphone and camera on the
// m-sections the server set aside for them, trickles its ICE candidates and
// hands every incoming track to the page by seat.
//
// Media that recovers: an offer marked `restart` (or naming another
// `connection`) replaces the peer connection, publishing the same local tracks.
// The page also watches its own connection: disconnected for a few seconds, or
// failed, it asks the server for a new one (`media_restart`); the server stays
// the only offerer.
import { SELF, summarise } from "./linkstats.js";
import { shapeLayers } from "./simulcast.js";

export { SELF };

const STATS_INTERVAL_MS = 2000;
const ACK_TIMEOUT_MS = 15000;
/** "disconnected" often heals by itself within a second or two; longer, ask for a new connection */
const DISCONNECTED_GRACE_MS = 3000;
/** a restart asked for (or refused as too soon) is asked again after this, while still down */
const RESTART_RETRY_MS = 5000;
/**
 * No answer to `media_restart` this soon while our media is down too: the socket is
 * most likely dead as well (an address change leaves it looking open until the
 * heartbeat gives up, up to a minute later), so reconnect it now; the re-join
 * brings a new offer.
 */
const RESTART_ACK_MS = 3000;

/** Shown instead of tiles that can never play: this browser has no WebRTC at all. */
export const NO_WEBRTC_MESSAGE = "This browser cannot take part in live audio and video (it has no WebRTC). "
  + "Open your link in a recent Chrome or Chromium, Microsoft Edge, Firefox or Safari.";

/** Whether this browser can hold a media connection at all. */
export function webrtcSupported() {
  return typeof window.RTCPeerConnection === "function";
}

/**
 * The seat an incoming track belongs to. The offer names it per m-section
 * (`tracks[mid].seat`); failing that, the msid stream id is the seat id.
 * (The mapping is not final: this is the one place to change.)
 */
export function seatOfTrack(event, offerPayload) {
  const mid = event.transceiver ? event.transceiver.mid : null;
  const tracks = offerPayload && offerPayload.tracks;
  const entry = tracks && mid !== null && mid !== undefined ? tracks[mid] : null;
  if (entry && typeof entry.seat === "string") return entry.seat;
  const stream = event.streams && event.streams[0];
  return stream ? stream.id : null;
}

/** Each m-section of an SDP: {kind, mid, direction} (direction as the SDP's author sees it). */
export function sections(sdp) {
  return String(sdp).split(/\r?\nm=/).slice(1).map((block) => {
    const kind = block.split(" ", 1)[0];
    const mid = (/\r?\na=mid:(\S+)/.exec(block) || [])[1] || null;
    const direction = (/\r?\na=(sendrecv|sendonly|recvonly|inactive)\b/.exec(block) || [])[1] || "sendrecv";
    return { kind, mid, direction };
  });
}

/** The mids the server receives our audio and video on: its `publish` map, else the SDP. */
export function publishMids(offerPayload) {
  if (offerPayload.publish && typeof offerPayload.publish === "object") return offerPayload.publish;
  const mids = {};
  for (const s of sections(offerPayload.sdp)) {
    if (!mids[s.kind] && (s.direction === "recvonly" || s.direction === "sendrecv")) mids[s.kind] = s.mid;
  }
  return mids;
}

/**
 * socket: the Socket.IO socket (used for `media_answer`, `media_ice` and `media_restart`).
 * onTrack(seat, kind, stream), onTrackEnded(seat, kind), onStats(seat, stats), onError(message).
 * Returns {supported, status, onStatus, setLocalStream, setAudioOnly, handleOffer, handleIce,
 * setMuted, setCamera, replaceVideo, reset, close, playoutDelayMs, mediaRttMs}.
 * @param {{socket: import("socket.io-client").Socket,
 *   onTrack: (seat: string, kind: string, stream: MediaStream) => void,
 *   onTrackEnded?: (seat: string, kind: string) => void,
 *   onStats?: (seat: string, stats: object) => void,
 *   onError?: (message: string) => void}} options
 */
export function createMedia({ socket, onTrack, onTrackEnded = () => {}, onStats = () => {}, onError = () => {} }) {
  const supported = webrtcSupported();
  let pc = null;
  let connection = null; // the server's number for the current peer connection
  let status = "none"; // "none" | "connecting" | "connected" | "reconnecting"
  const statusListeners = [];
  let downTimer = null;
  let restartAsked = 0; // when we last asked for a new connection (ms)
  let local = null;
  let audioOnly = false;
  let offer = null; // the payload of the offer being (or last) answered
  let pendingIce = [];
  let queue = Promise.resolve();
  let statsTimer = null;
  let statsState = null;
  const remote = new Map(); // seat → MediaStream of that seat's received tracks
  const midSeat = new Map(); // mid → seat, for stats
  const jitterBefore = new Map(); // inbound video stream id → {delay, emitted} at the last look

  async function emit(event, payload, timeoutMs = ACK_TIMEOUT_MS) {
    if (!socket.connected) return { ok: false, code: "offline" };
    try {
      return await socket.timeout(timeoutMs).emitWithAck(event, payload);
    } catch {
      return { ok: false, code: "timeout" };
    }
  }

  function remoteStream(seat) {
    if (!remote.has(seat)) remote.set(seat, new MediaStream());
    return remote.get(seat);
  }

  function dropTrack(seat, kind) {
    const stream = remote.get(seat);
    if (!stream) return;
    for (const t of stream.getTracks()) if (t.kind === kind) stream.removeTrack(t);
    onTrackEnded(seat, kind);
  }

  function setStatus(next) {
    if (next === status) return;
    status = next;
    for (const listener of statusListeners) listener(status);
  }

  /** Ask the server for a new connection while ours stays down (it may refuse: too soon). */
  async function askRestart(peer, reason) {
    if (peer !== pc || !socket.connected) return;
    const now = Date.now();
    if (now - restartAsked < RESTART_RETRY_MS) return;
    restartAsked = now;
    const reply = await emit("media_restart", { reason }, RESTART_ACK_MS);
    if (reply && reply.code === "timeout" && peer === pc && socket.connected) {
      socket.disconnect(); // the page re-joins at once (signal.js) and gets a new offer
      socket.connect();
      return;
    }
    if (reply && !reply.ok && reply.code !== "rate_limited") {
      console.warn("media restart refused", reply);
    }
    // Still down after a while (refused, or the new offer never came): ask again.
    clearTimeout(downTimer);
    downTimer = setTimeout(() => {
      if (peer === pc && isDown(peer)) askRestart(peer, peer.connectionState === "failed" ? "failed" : "disconnected");
    }, RESTART_RETRY_MS);
  }

  function isDown(peer) {
    return ["disconnected", "failed"].includes(peer.iceConnectionState)
      || peer.connectionState === "failed";
  }

  function watch(peer) {
    const changed = () => {
      if (peer !== pc) return;
      if (peer.connectionState === "connected"
          && !["disconnected", "failed"].includes(peer.iceConnectionState)) {
        clearTimeout(downTimer);
        downTimer = null;
        setStatus("connected");
        return;
      }
      if (peer.connectionState === "failed" || peer.iceConnectionState === "failed") {
        setStatus("reconnecting");
        askRestart(peer, "failed");
      } else if (peer.iceConnectionState === "disconnected" || peer.connectionState === "disconnected") {
        setStatus("reconnecting");
        if (!downTimer) {
          downTimer = setTimeout(() => {
            downTimer = null;
            if (peer === pc && isDown(peer)) askRestart(peer, "disconnected");
          }, DISCONNECTED_GRACE_MS);
        }
      }
    };
    peer.addEventListener("connectionstatechange", changed);
    peer.addEventListener("iceconnectionstatechange", changed);
  }

  function open(payload) {
    const peer = new RTCPeerConnection({
      iceServers: Array.isArray(payload.iceServers) ? payload.iceServers : [],
      bundlePolicy: "max-bundle",
    });
    const number = typeof payload.connection === "number" ? payload.connection : undefined;
    peer.addEventListener("icecandidate", ({ candidate }) => {
      const c = candidate && candidate.candidate
        ? { candidate: candidate.candidate, sdpMid: candidate.sdpMid ?? undefined,
            sdpMLineIndex: candidate.sdpMLineIndex ?? undefined }
        : { candidate: "" }; // end of candidates
      // a late candidate of a replaced connection names it, so the server ignores it
      emit("media_ice", number === undefined ? c : { ...c, connection: number });
    });
    watch(peer);
    peer.addEventListener("track", (event) => {
      const seat = seatOfTrack(event, offer);
      if (!seat) return;
      const kind = event.track.kind;
      if (event.transceiver && event.transceiver.mid !== null) midSeat.set(event.transceiver.mid, seat);
      const stream = remoteStream(seat);
      for (const t of stream.getTracks()) if (t.kind === kind && t !== event.track) stream.removeTrack(t);
      if (!stream.getTracks().includes(event.track)) stream.addTrack(event.track);
      event.track.addEventListener("ended", () => dropTrack(seat, kind));
      onTrack(seat, kind, stream);
    });
    startStats(peer);
    return peer;
  }

  async function publish(payload) {
    const mids = publishMids(payload);
    const remoteDirection = new Map(sections(payload.sdp).map((s) => [s.mid, s.direction]));
    for (const transceiver of pc.getTransceivers()) {
      const mid = transceiver.mid;
      if (mid === null || transceiver.currentDirection === "stopped") continue;
      const kind = mids.audio === mid ? "audio" : mids.video === mid ? "video" : null;
      const theirs = remoteDirection.get(mid) || "sendrecv";
      const theySend = theirs === "sendrecv" || theirs === "sendonly";
      if (kind) {
        const wanted = !(kind === "video" && audioOnly);
        const track = wanted && local ? local.getTracks().find((t) => t.kind === kind) : null;
        await transceiver.sender.replaceTrack(track || null);
        if (track && local && transceiver.sender.setStreams) transceiver.sender.setStreams(local);
        transceiver.direction = track ? (theySend ? "sendrecv" : "sendonly") : (theySend ? "recvonly" : "inactive");
        if (track && kind === "video") await shapeLayers(transceiver.sender, track);
      } else if (transceiver.receiver.track.kind === "video" && audioOnly) {
        transceiver.direction = "inactive"; // a weak link does not receive video either
      } else if (theySend) {
        transceiver.direction = "recvonly";
      }
    }
  }

  async function negotiate(payload) {
    if (!payload || payload.type !== "offer" || typeof payload.sdp !== "string") return;
    const number = typeof payload.connection === "number" ? payload.connection : null;
    if (pc && (payload.restart || (number !== null && connection !== null && number !== connection))) {
      // The server rebuilt our media connection: answer from a new peer connection.
      closePeer();
      setStatus("reconnecting");
    }
    if (!pc || pc.signalingState === "closed") {
      pc = open(payload);
      if (status !== "reconnecting") setStatus("connecting");
    }
    connection = number;
    offer = payload;
    for (const [mid, entry] of Object.entries(payload.tracks || {})) {
      if (entry && entry.seat) midSeat.set(mid, entry.seat);
      if (entry && entry.active === false && entry.seat) dropTrack(entry.seat, entry.kind);
    }
    await pc.setRemoteDescription({ type: "offer", sdp: payload.sdp });
    await publish(payload);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    const waiting = pendingIce;
    pendingIce = [];
    for (const c of waiting) await addIce(c);
    const description = { sdp: pc.localDescription.sdp, type: "answer" };
    if (number !== null) description.connection = number;
    const reply = await emit("media_answer", description);
    if (!reply || !reply.ok) onError(`The server did not take our media answer (${reply && reply.code}).`);
  }

  async function addIce(payload) {
    try {
      await pc.addIceCandidate(payload.candidate ? payload : { candidate: "" });
    } catch (error) {
      console.warn("ICE candidate refused", error);
    }
  }

  function startStats(peer) {
    clearInterval(statsTimer);
    statsState = null;
    statsTimer = setInterval(async () => {
      if (peer.connectionState !== "connected") return;
      try {
        const report = await peer.getStats();
        const { seats, state } = summarise(report, (mid) => midSeat.get(mid), statsState);
        statsState = state;
        for (const [seat, stats] of seats) onStats(seat, stats);
      } catch { /* the connection closed between ticks */ }
    }, STATS_INTERVAL_MS);
  }

  function closePeer() {
    clearInterval(statsTimer);
    statsTimer = null;
    clearTimeout(downTimer);
    downTimer = null;
    if (pc) pc.close();
    pc = null;
    connection = null;
    offer = null;
    pendingIce = [];
    midSeat.clear();
    jitterBefore.clear();
    for (const [seat, stream] of remote) {
      for (const t of stream.getTracks()) dropTrack(seat, t.kind);
    }
    remote.clear();
  }

  function serial(task) {
    queue = queue.then(task).catch((error) => {
      console.warn("media negotiation failed", error);
      onError("Audio and video could not be set up; the session goes on without them.");
    });
    return queue;
  }

  return {
    /** False in a browser without RTCPeerConnection: offers are ignored, the page says why. */
    supported,
    /** This page's own media connection: "none", "connecting", "connected", "reconnecting". */
    get status() { return status; },
    /** Call `listener(status)` on every change of `status`. */
    onStatus(listener) { statusListeners.push(listener); },
    /** The microphone/camera stream to publish (null to publish nothing). */
    setLocalStream(stream) { local = stream; },
    /** Weak connection: publish no camera and receive no video, from the next offer on. */
    setAudioOnly(on) { audioOnly = Boolean(on); },
    handleOffer: (payload) => (supported ? serial(() => negotiate(payload)) : Promise.resolve()),
    handleIce: (payload) => serial(async () => {
      if (!payload) return;
      if (!pc || !pc.remoteDescription) pendingIce.push(payload);
      else await addIce(payload);
    }),
    setMuted(muted) {
      if (local) local.getAudioTracks().forEach((t) => { t.enabled = !muted; });
    },
    setCamera(on) {
      if (local) local.getVideoTracks().forEach((t) => { t.enabled = Boolean(on); });
    },
    /**
     * Send `track` (null: nothing) on our camera's m-section now, without a new offer
     * (audio only mid-session, and back). The local stream should already hold it (or
     * not), so later offers publish the same.
     */
    replaceVideo: (track) => serial(async () => {
      const mid = pc && offer ? publishMids(offer).video : null;
      const transceiver = mid ? pc.getTransceivers().find((t) => t.mid === mid) : null;
      if (transceiver) await transceiver.sender.replaceTrack(track || null);
    }),
    /**
     * How long received video waits in the jitter buffer before it is shown (ms,
     * averaged over the inbound video streams since the last call; 0 without video).
     * Live notes use it to place a note at the moment the coach saw it.
     */
    async playoutDelayMs() {
      if (!pc) return 0;
      const delays = [];
      (await pc.getStats()).forEach((s) => {
        if (s.type !== "inbound-rtp" || s.kind !== "video" || !s.jitterBufferEmittedCount) return;
        const then = jitterBefore.get(s.id) || { delay: 0, emitted: 0 };
        jitterBefore.set(s.id, { delay: s.jitterBufferDelay, emitted: s.jitterBufferEmittedCount });
        const emitted = s.jitterBufferEmittedCount - then.emitted;
        const delay = emitted > 0 ? (s.jitterBufferDelay - then.delay) / emitted : s.jitterBufferDelay / s.jitterBufferEmittedCount;
        delays.push(delay * 1000);
      });
      return delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : 0;
    },
    /** The media round trip to the server (ms; 0 while there is no connected candidate pair). */
    async mediaRttMs() {
      if (!pc) return 0;
      let rtt = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded" && typeof s.currentRoundTripTime === "number") {
          rtt = s.currentRoundTripTime * 1000;
        }
      });
      return rtt;
    },
    /** The link to the server dropped: its peer connection is gone, our tracks stay. */
    reset: () => serial(async () => {
      const had = pc !== null;
      closePeer();
      if (had) setStatus("reconnecting"); // the re-join brings a new offer
    }),
    close() {
      closePeer();
      if (local) local.getTracks().forEach((t) => t.stop());
      local = null;
    },
  };
}
