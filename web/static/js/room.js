// The room view: renders each RoomState the server sends — tiles for the seats
// this participant sees and hears, the private-caucus notice, briefs, the phase
// banner, the coach's and mediator's controls — and the mute/camera buttons.
import { $, announce, el, paragraphs } from "./dom.js";
import { SELF } from "./linkstats.js";
import { createPhaseControls } from "./coach.js";
import { createLiveNotes } from "./live-notes.js";
import { NO_WEBRTC_MESSAGE } from "./media.js";
import { createPhaseBanner } from "./phase.js";
import { characterName, partyOf, seatLabel } from "./seats.js";
import { createTiles } from "./tiles.js";
import { createWhisperPanel } from "./whisper.js";

function roleLine(state, seat) {
  const party = partyOf(state, seat);
  return party ? `${seatLabel(seat)} · as ${party.name}` : seatLabel(seat);
}

/** Why this participant sees nobody right now, or null if they see the room. */
function awayNotice(state) {
  const { phase, you, receiving } = state;
  if (phase.kind === "ended") {
    const staff = state.actions.annotate;
    return {
      title: "The session has ended",
      text: staff
        ? "Your camera and microphone are off. Review the recording and add feedback at the link below."
        : "Thank you for taking part. Your camera and microphone are off. Your coach's feedback will be with the recording.",
      link: staff ? "Review the recording" : "See your recording and feedback",
    };
  }
  if (phase.kind === "caucus" && receiving.length === 0) {
    const party = characterName(state, phase.caucus_seat);
    const text = you.role === "observer"
      ? "Observers do not watch caucuses in this scenario. You will see the room again when the joint session resumes."
      : "You cannot see or hear them, and they cannot see or hear you. You will be back together when the joint session resumes.";
    return { title: `The mediator is in a private caucus with ${party}`, text };
  }
  return null;
}

function stageNote(state) {
  switch (state.phase.kind) {
    case "lobby": return state.actions.phases.includes("joint")
      ? "Lobby: everyone can see and hear each other. Start the joint session when the trainees are ready."
      : "Waiting for the coach to start the joint session.";
    case "timeout": return "Time-out: the role-play is paused and the coach can speak to everyone.";
    case "debrief": return "Debrief: the role-play is over; the coach leads the discussion.";
    default: return "";
  }
}

/**
 * ui: element ids in join.html. signal: connectSeat()'s result; media: createMedia()'s.
 * local: the microphone/camera stream or null; audioOnly: the device-check choice.
 */
export function createRoom({ signal, media, local, audioOnly, feedbackUrl, onEnded = () => {} }) {
  const banner = createPhaseBanner({ banner: $("phase-banner"), name: $("phase-name"), timer: $("phase-timer") });
  const tiles = createTiles($("tiles"));
  if (!media.supported) tiles.showNotice(NO_WEBRTC_MESSAGE); // not blank tiles with no reason
  media.onStatus(() => { if (state) renderStage(); });
  const streams = new Map(); // seat → received MediaStream
  let state = null;
  let controls = null;
  let whispers = null;
  let liveNotes = null;
  let early = []; // whispers that arrived before the first state
  let shownBriefs = "";
  let recordingWasOn = false;
  let recordingFault = null;
  let muted = false;
  let cameraOn = Boolean(local && local.getVideoTracks().length) && !audioOnly;
  let videoDropped = false; // audio only, chosen in the room (the camera is stopped)
  let endedHandled = false;
  let signedIn = false; // at the end, a signed-in person is sent to their home page
  let consentBusy = false;

  const muteButton = /** @type {HTMLButtonElement} */ ($("mute"));
  const cameraButton = /** @type {HTMLButtonElement} */ ($("camera"));
  const hasMic = Boolean(local && local.getAudioTracks().length);
  muteButton.disabled = !hasMic;
  cameraButton.disabled = !cameraOn;
  if (!hasMic) muteButton.textContent = "No microphone";
  if (!cameraOn) cameraButton.textContent = audioOnly ? "Audio only" : "No camera";

  muteButton.addEventListener("click", () => {
    muted = !muted;
    media.setMuted(muted);
    muteButton.textContent = muted ? "Unmute microphone" : "Mute microphone";
    muteButton.classList.toggle("off", muted);
    announce(muted ? "Microphone off." : "Microphone on.");
    if (state) render(state);
  });
  // Audio only mid-session: stop the camera (its light goes off, nothing is sent), and back.
  const videoOffButton = /** @type {HTMLButtonElement} */ ($("video-off"));
  videoOffButton.hidden = !cameraOn;
  const cameraSettings = cameraOn ? local.getVideoTracks()[0].getSettings() : {};
  videoOffButton.addEventListener("click", async () => {
    videoOffButton.disabled = true;
    try {
      if (!videoDropped) {
        for (const track of local.getVideoTracks()) { local.removeTrack(track); track.stop(); }
        await media.replaceVideo(null);
        videoDropped = true;
        announce("Audio only: your camera is off and no video is sent.");
      } else {
        const constraints = cameraSettings.deviceId ? { deviceId: { exact: cameraSettings.deviceId } } : true;
        const fresh = await navigator.mediaDevices.getUserMedia({ video: constraints });
        const track = fresh.getVideoTracks()[0];
        track.enabled = cameraOn;
        local.addTrack(track);
        await media.replaceVideo(track);
        videoDropped = false;
        announce("Your video is sent again.");
      }
    } catch {
      announce("Your camera could not be started again.");
    } finally {
      videoOffButton.disabled = false;
    }
    videoOffButton.textContent = videoDropped ? "Send video again" : "Audio only";
    videoOffButton.classList.toggle("off", videoDropped);
    cameraButton.disabled = videoDropped;
    if (state) tiles.attach(state.you.seat, local, true);
  });

  // A trainee may change their recording answer at any time: recorded from the moment
  // they agree, not recorded from the moment they withdraw.
  const consentButton = /** @type {HTMLButtonElement} */ ($("consent-change"));
  consentButton.addEventListener("click", async () => {
    const me = state && state.roster.find((p) => p.seat === state.you.seat);
    if (!me || consentBusy) return;
    consentBusy = true;
    consentButton.disabled = true;
    const reply = await signal.request("consent", { recording: me.consent !== "given" });
    consentBusy = false;
    consentButton.disabled = false;
    if (!reply || !reply.ok) announce(`Not changed: ${(reply && reply.message) || "try again."}`);
  });

  cameraButton.addEventListener("click", () => {
    cameraOn = !cameraOn;
    media.setCamera(cameraOn);
    cameraButton.textContent = cameraOn ? "Turn camera off" : "Turn camera on";
    cameraButton.classList.toggle("off", !cameraOn);
    announce(cameraOn ? "Camera on." : "Camera off.");
    if (state) tiles.refresh(state.you.seat);
  });

  function renderBriefs() {
    const key = JSON.stringify([state.briefs, state.scenario.summary]);
    if (key === shownBriefs) return;
    shownBriefs = key;
    const you = state.you.seat;
    const own = state.briefs[you] ?? (state.you.role === "observer" ? state.briefs.observer : undefined);
    paragraphs($("brief"), own || "There is no confidential brief for your seat.");
    const others = state.actions.briefs.filter((k) => k !== you && !(k === "observer" && own === state.briefs.observer));
    $("other-briefs").replaceChildren(...others.map((k) => {
      const body = el("div", { class: "prose" });
      paragraphs(body, state.briefs[k]);
      const who = k === "observer" ? "Observers" : partyOf(state, k) ? `${seatLabel(k)} — ${characterName(state, k)}` : seatLabel(k);
      return el("details", { class: "brief-other", dataset: { seat: k } }, el("summary", {}, `${who}: confidential brief`), body);
    }));
    $("other-briefs").hidden = others.length === 0;
    paragraphs($("summary"), state.scenario.summary);
  }

  function tileNote(p) {
    if (!p.connected) return "reconnecting…";
    if (p.seat === state.you.seat) return muted ? "muted" : "";
    // Staff see who has not (yet) agreed to be recorded.
    if (state.actions.annotate && p.actions.consent) {
      if (p.consent === "pending") return "consent pending";
      if (p.consent === "declined") return "not recorded";
    }
    return "";
  }

  function renderConsent() {
    const me = state.roster.find((p) => p.seat === state.you.seat);
    consentButton.hidden = !state.actions.consent || !me;
    if (consentButton.hidden) return;
    consentButton.dataset.consent = me.consent;
    consentButton.textContent = me.consent === "given" ? "Stop recording me" : "Agree to be recorded";
  }

  function renderEnded() {
    if (state.phase.kind !== "ended" || endedHandled) return;
    endedHandled = true;
    onEnded();
    fetch("/api/signed-in", { credentials: "same-origin" })
      .then((r) => r.json())
      .then((who) => { signedIn = Boolean(who.signed_in); if (signedIn) renderStage(); })
      .catch(() => {});
    for (const b of [muteButton, cameraButton, videoOffButton]) b.hidden = true;
  }

  function renderRecording() {
    const rec = state.recording;
    const pill = $("recording");
    const on = Boolean(rec && rec.on);
    pill.hidden = !on;
    pill.dataset.you = String(Boolean(on && rec.you));
    pill.textContent = on ? (rec.you ? "Recording" : "Recording — not you") : "";
    // Only the coach and admin are sent a failed recording's reason (the disk, not the room).
    const fault = on && rec.status === "failed" ? rec.fault : null;
    pill.dataset.failed = String(Boolean(fault));
    pill.title = fault ? `Recording failed: ${fault}. It restarts by itself when the server can write again.` : "";
    if (fault) pill.textContent = "Recording failed";
    if (fault && fault !== recordingFault) announce(`Recording failed: ${fault}. The session goes on.`);
    recordingFault = fault;
    if (on && !recordingWasOn) announce(rec.you ? "Recording has started." : "Recording has started; you are not recorded.");
    recordingWasOn = on;
  }

  function renderStage() {
    const you = state.you.seat;
    const receiving = new Set(state.receiving);
    const notice = awayNotice(state);
    $("away").hidden = !notice;
    $("away").dataset.kind = notice ? state.phase.kind : "";
    if (notice) {
      $("away-title").textContent = notice.title;
      $("away-text").textContent = notice.text;
    }
    const link = /** @type {HTMLAnchorElement} */ ($("away-link"));
    const home = Boolean(notice && notice.link && signedIn);
    link.hidden = !(notice && notice.link && (feedbackUrl || home));
    if (!link.hidden) {
      link.textContent = home ? "Your sessions and feedback" : notice.link;
      link.href = home ? "/" : feedbackUrl;
    }
    const note = stageNote(state);
    $("stage-note").textContent = note;
    $("stage-note").hidden = !note || Boolean(notice);

    const visible = notice ? [] : state.roster.filter((p) =>
      receiving.has(p.seat) || (p.seat === you && state.actions.publish));
    tiles.render(visible.map((p) => ({
      seat: p.seat,
      name: p.name,
      role: roleLine(state, p.seat),
      connected: p.connected,
      self: p.seat === you,
      note: tileNote(p),
      // our own connection as this page sees it; the others' as the server does
      media: p.seat === you ? media.status : p.media,
    })));
    for (const p of visible) {
      if (p.seat === you) tiles.attach(you, local, true);
      else tiles.attach(p.seat, streams.get(p.seat) || null);
    }
    const outside = notice ? [] : state.roster.filter((p) =>
      p.seat !== you && p.actions.publish && !receiving.has(p.seat));
    const watching = state.roster.filter((p) => p.seat !== you && !p.actions.publish);
    const who = (list) => list.map((p) => `${p.name} (${seatLabel(p.seat)})`).join(", ");
    const lines = [
      outside.length ? `Not in your audience right now: ${who(outside)}.` : "",
      watching.length ? `Watching: ${who(watching)}.` : "",
    ].filter(Boolean);
    $("others").textContent = lines.join(" ");
    $("others").hidden = lines.length === 0;
  }

  function render(next) {
    state = next;
    document.title = `${state.scenario.title} — Caucus`;
    $("title").textContent = state.scenario.title;
    $("you").textContent = `${seatLabel(state.you.seat)}${partyOf(state, state.you.seat) ? ` · ${characterName(state, state.you.seat)}` : ""}`;
    $("room").dataset.role = state.you.role;
    $("room").dataset.phase = state.phase.kind;
    banner.update(state);
    renderEnded();
    renderRecording();
    renderConsent();
    renderStage();
    renderBriefs();
    // Every control below exists and is enabled only as state.actions says.
    const actions = state.actions;
    if (!controls && actions.phase_controls.length > 0) {
      controls = createPhaseControls($("phase-controls"), signal.request.bind(signal));
    }
    if (controls) controls.update(state);
    if (!liveNotes && actions.annotate) {
      liveNotes = createLiveNotes($("live-notes"), {
        request: signal.request.bind(signal), socket: signal.socket, media, now: banner.now,
      });
    }
    if (liveNotes) liveNotes.update(state);
    if (!whispers && actions.whisper) {
      whispers = createWhisperPanel($("whispers"), state.you, signal.request.bind(signal));
      early.forEach((w) => whispers.received(w));
      early = [];
    }
    $("self-controls").hidden = !actions.publish;
  }

  return {
    render,
    whisper(message) {
      if (whispers) whispers.received(message);
      else early.push(message);
    },
    /** A seat's received media changed (stream null: one of its tracks ended). */
    track(seat, stream) {
      if (stream) streams.set(seat, stream);
      if (state && tiles.has(seat)) tiles.attach(seat, streams.get(seat) || null);
    },
    stats(seat, stats) {
      if (state) tiles.setStats(seat === SELF ? state.you.seat : seat, stats);
    },
    /** `media_video`: {paused: [seat], layers: {seat: {layer, of}}} for this page's downlink. */
    video(payload) {
      const paused = new Set(payload && Array.isArray(payload.paused) ? payload.paused : []);
      tiles.setPaused(paused);
    },
  };
}
