// Entry point of the join page: read the seat token from the link's fragment (or,
// without one, ask for the signed-in person's own seat), run the device check and
// consent, then take the seat and show the room.
import { $, announce } from "./dom.js";
import { createDeviceCheck } from "./devices.js";
import { createMedia } from "./media.js";
import { audioContext, resumeAudioOnGesture } from "./meter.js";
import { createBrowserCopy } from "./browser-copy.js";
import { createRoom } from "./room.js";
import { peekToken, seatLabel } from "./seats.js";
import { connectSeat } from "./signal.js";
import { zonedText } from "./zoned-time.js";

const room = decodeURIComponent(location.pathname.split("/").pop());
let token = new URLSearchParams(location.hash.slice(1)).get("token");

function notice(title, text, action = null) {
  $("setup").hidden = true;
  $("room").hidden = true;
  $("conn-banner").hidden = true;
  $("notice-title").textContent = title;
  $("notice-text").textContent = text;
  // an action is a button ({label, run}) or a link to another page ({label, href})
  const button = $("notice-action");
  const link = /** @type {HTMLAnchorElement} */ ($("notice-link"));
  button.hidden = !action || Boolean(action.href);
  link.hidden = !action || !action.href;
  if (action && action.href) {
    link.textContent = action.label;
    link.href = action.href;
  } else if (action) {
    button.textContent = action.label;
    button.onclick = action.run;
  }
  $("notice").hidden = false;
  $("main").focus();
}

const reload = (label) => ({ label, run: () => location.reload() });

// How long the page waits for the server's preview before asking as for a trainee.
const PREVIEW_PATIENCE_MS = 8000;

/**
 * What the server tells about this link before joining: the scenario's title,
 * whether this seat already answered the recording question (a reload), and what
 * the seat does (actions: publish, consent). Null if it cannot say; the join itself
 * reports a bad link.
 */
async function preview() {
  try {
    const response = await fetch(`/api/join/${encodeURIComponent(room)}`, {
      headers: { Authorization: `Bearer ${token}` }, cache: "no-store",
      signal: AbortSignal.timeout(PREVIEW_PATIENCE_MS),
    });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

let bannerTimer = null;
/** kind: see connectSeat(); detail: the join outcome, or why the link is down. */
function linkStatus(kind, outcome) {
  const pill = $("link");
  const banner = $("conn-banner");
  pill.hidden = false; // nothing to say about the link before the person joins
  pill.dataset.state = kind;
  $("room").dataset.link = kind; // dims what may be out of date while the link is down
  clearTimeout(bannerTimer);
  if (kind === "connecting" || kind === "joining") {
    pill.textContent = kind === "joining" ? "Joining…" : "Connecting…";
    if (kind === "connecting" && outcome) {
      // The first connection failed (detail is the error): say so while Socket.IO retries.
      banner.dataset.state = "down";
      banner.textContent = "Cannot reach the Caucus server. Retrying…";
      banner.hidden = false;
    }
  } else if (kind === "reconnecting" || kind === "rejoining") {
    pill.textContent = "Reconnecting…";
    banner.dataset.state = "down";
    banner.textContent = kind === "rejoining"
      ? "Connection is back. Returning you to your seat…"
      : "Connection lost. Reconnecting… Your seat is kept for you.";
    banner.hidden = false;
  } else if (kind === "connected") {
    pill.textContent = "Connected";
    if (outcome === "resumed" || outcome === "replaced" || banner.dataset.state === "down") {
      banner.dataset.state = "resumed";
      banner.textContent = "Reconnected. You are back in your seat.";
      banner.hidden = false;
      bannerTimer = setTimeout(() => { banner.hidden = true; }, 6000);
    } else {
      banner.hidden = true;
    }
  }
}

/** The recording answer to send on joining: null for staff and observers, and when
 * this seat already answered in this session (a reload: the server kept it). */
function consentToSend(asks) {
  if (!asks) return null;
  return { recording: /** @type {HTMLInputElement} */ ($("consent")).checked };
}

/** Where this person finds the recording and their feedback afterwards. */
function feedbackUrl() {
  return `/recordings/${encodeURIComponent(room)}#token=${encodeURIComponent(token)}`;
}

/** Where the room runs now: the preview's origin ("" = this page's), null if unknown. */
async function whereNow() {
  const info = await preview();
  return info ? info.origin || location.origin : null;
}

/** asks: whether to send the recording answer chosen on this page (see consentToSend).
 * origin: the node the preview named ("" = this page's origin). */
function enter(check, asks, local, origin) {
  const audioOnly = check.audioOnly();
  const consent = consentToSend(asks);
  $("setup").hidden = true;
  $("room").hidden = false;
  $("main").focus();

  let view = null;
  let media = null;
  let copy = null; // the browser's second copy of this seat's media
  let ended = false;
  const signal = connectSeat({
    token,
    room,
    consent,
    origin,
    where: whereNow,
    on: {
      state: (state) => { view.render(state); copy.update(state); },
      status: (kind, outcome) => {
        if (kind === "left") {
          copy.stop();
          media.close();
          notice("You have left the session", "Your seat is free again. Use your link to come back.", reload("Rejoin"));
        } else {
          linkStatus(kind, outcome);
        }
      },
      whisper: (message) => view.whisper(message),
      // After the end nothing is sent or received: a late offer is not answered.
      offer: (payload) => { if (!ended) media.handleOffer(payload); },
      ice: (payload) => media.handleIce(payload),
      video: (payload) => view.video(payload),
      linkDown: () => media.reset(),
      replaced: () => {
        media.close();
        notice(
          "This seat was opened somewhere else",
          "Your link was opened in another window or on another device, so this page has stopped and will not reconnect.",
          reload("Use this window instead"),
        );
      },
      fatal: (message) => {
        media.close();
        notice("Could not join", message);
      },
    },
  });
  media = createMedia({
    socket: signal.socket,
    onTrack: (seat, _kind, stream) => view.track(seat, stream),
    onTrackEnded: (seat) => view.track(seat, null),
    onStats: (seat, stats) => view.stats(seat, stats),
    onError: (message) => announce(message),
  });
  media.setLocalStream(local);
  copy = createBrowserCopy({ room, token, clock: signal.clock, local });
  media.setAudioOnly(audioOnly);
  view = createRoom({
    signal, media, local, audioOnly, feedbackUrl: feedbackUrl(),
    onEnded: () => {
      // The page says it may be closed: camera and microphone go off now, and the
      // connection that carried them closes (the server receives nothing more).
      ended = true;
      media.close();
    },
  });
  $("leave").addEventListener("click", () => signal.leave());
}

// How long the devices may take before the page offers to join without them.
const DEVICE_PATIENCE_MS = 5000;

/**
 * A permission prompt left unanswered (or a camera driver that hangs) must not
 * keep someone out of the session: after a while, offer to join without
 * devices. `chosen` settles when they take that offer.
 */
function offerToJoinWithout() {
  const button = $("join-without");
  let choose;
  const chosen = new Promise((resolve) => { choose = resolve; });
  const timer = setTimeout(() => {
    $("join-hint").textContent = "Your camera and microphone have not answered yet. "
      + "Answer your browser's permission prompt, or join without them to watch and listen.";
    button.hidden = false;
    button.focus(); // the join button is disabled: keyboard users land on the way in
  }, DEVICE_PATIENCE_MS);
  button.addEventListener("click", choose, { once: true });
  return {
    chosen,
    withdraw() {
      clearTimeout(timer);
      button.removeEventListener("click", choose);
      button.hidden = true;
    },
  };
}

/**
 * Without a link, a signed-in person asks for their own seat (POST my-seat, with the
 * session's CSRF token). True once `token` holds their seat token; otherwise the page
 * says why not (not signed in, no seat here, not open yet, ended).
 */
async function ownSeat() {
  const signIn = { label: "Sign in", href: `/login?next=${encodeURIComponent(location.pathname)}` };
  let me = null;
  try {
    const response = await fetch("/api/me", { credentials: "same-origin", cache: "no-store" });
    me = response.ok ? await response.json() : null;
  } catch {
    me = null;
  }
  if (!me) {
    notice(
      "Sign in to join",
      "This page needs your personal join link, or sign in and it finds your seat.",
      signIn,
    );
    return false;
  }
  let answer = null;
  let status = 0;
  try {
    const response = await fetch(`/api/simulations/${encodeURIComponent(room)}/my-seat`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": me.csrf, Accept: "application/json" },
    });
    status = response.status;
    answer = await response.json();
  } catch {
    notice("Could not reach Caucus", "Check your connection and try again.", reload("Try again"));
    return false;
  }
  if (status === 200 && answer.token) {
    token = answer.token;
    return true;
  }
  const code = answer && answer.code;
  if (code === "not_yet_open") {
    notice(
      "This simulation is not open yet",
      `You can join from ${zonedText(answer.opens_ms, me.time_zone)} (your time), `
        + "15 minutes before it starts.",
      reload("Try again"),
    );
  } else if (code === "ended") {
    notice("This simulation has ended", "Your home page lists your sessions and their recordings.", {
      label: "Go to your home page", href: "/",
    });
  } else if (code === "not_found") {
    notice("There is no such simulation", "Check the address, or open it from your home page.");
  } else {
    notice("You have no seat in this simulation", (answer && answer.message) || "Ask your administrator.");
  }
  return false;
}

async function setup() {
  if (!token && !(await ownSeat())) return;
  const claims = peekToken(token) || {};
  const seat = typeof claims.seat === "string" ? claims.seat : "";
  const name = typeof claims.name === "string" ? claims.name : "";
  const label = seatLabel(seat);
  // "Coach, Coach" says nothing twice: a name that is only the seat's label is said once.
  const who = name && name !== label ? `${name}, ${label}` : label;
  $("setup-who").textContent = seat ? `You are joining as ${who}.` : "You are joining a simulation.";
  const info = await preview();
  // What this seat does comes from the server. Without its answer (a bad link, no
  // network) the page asks as it would a trainee; the join itself reports a bad link.
  const actions = (info && info.actions) || { publish: true, consent: true };
  const known = Boolean(info) && actions.consent && info.consent !== "pending"; // a reload
  if (info && info.title) {
    $("setup-scenario").textContent = info.title;
    $("setup-scenario").hidden = false;
    $("title").textContent = info.title;
    document.title = `${info.title} — join — Caucus`;
  }
  $("setup").hidden = false;
  resumeAudioOnGesture();

  const check = createDeviceCheck({
    preview: /** @type {HTMLVideoElement} */ ($("preview")),
    previewNote: $("preview-note"),
    cameraSelect: $("camera-select"),
    micSelect: $("mic-select"),
    meter: $("mic-level"),
    audioOnly: $("audio-only"),
    error: $("device-error"),
  });
  const joinButton = /** @type {HTMLButtonElement} */ ($("join-button"));
  const answers = [$("consent"), $("consent-no")].map((a) => /** @type {HTMLInputElement} */ (a));
  const mustAnswer = actions.consent && !known;
  $("consent-box").hidden = !mustAnswer;
  $("consent-known").hidden = !known;
  $("setup").dataset.preview = "done"; // the questions are decided: tests wait for it
  // Seats that publish without being asked (the coach) are told they are recorded.
  $("staff-recording").hidden = !(actions.publish && !actions.consent);
  function gate() {
    const answered = answers.some((a) => a.checked);
    joinButton.disabled = mustAnswer && !answered;
    $("join-hint").textContent = joinButton.disabled ? "Choose whether you agree to be recorded." : "";
  }
  answers.forEach((a) => a.addEventListener("change", gate));
  gate();

  if (actions.publish) {
    check.start();
  } else {
    $("device-check").hidden = true;
    $("watch-note").hidden = false;
  }
  joinButton.addEventListener("click", async () => {
    if (joinButton.disabled) return;
    audioContext(); // inside the click: browsers start audio only after a gesture
    joinButton.disabled = true;
    answers.forEach((a) => a.removeEventListener("change", gate));
    $("join-hint").textContent = "Waiting for your camera and microphone…";
    let local = null;
    if (actions.publish) {
      // publish whatever the device check ends with, not the nothing it may hold mid-start
      const without = offerToJoinWithout();
      local = await check.release(without.chosen);
      without.withdraw();
    } else {
      check.discard();
    }
    // the node that runs the room: asked again now, the preview may be minutes old
    const origin = (await whereNow()) || (info && info.origin) || "";
    enter(check, actions.consent && !known, local, origin === location.origin ? "" : origin);
  }, { once: true });
}

setup();
