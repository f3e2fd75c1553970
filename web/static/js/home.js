// @ts-check
// A person's home page: their sessions coming up, in their own time zone, with a Join
// button that opens at the scheduled moment (no reload); past sessions with the
// recording and the feedback addressed to them; their calendar feed to copy.
import { $, clock, el } from "./dom.js";
import { api, ApiError } from "./console.js";
import { seatLabel } from "./seats.js";

/** @typedef {{seat: string, name: string}} Sitter */
/** @typedef {{id: string, t_ms: number, text: string, skill: string | null, rating: number | null}} Note */
/**
 * @typedef {{id: string, title: string, seat: string | null, character: string | null,
 *   role: string, coaching: boolean, scheduled_ms: number | null, duration_min: number | null,
 *   with: Sitter[], calendar_url: string}} Common
 * @typedef {Common & {join_opens_ms: number, join_url: string}} Upcoming
 * @typedef {Common & {took_part: boolean, ended_ms: number | null, session_ms: number,
 *   recording_url: string | null, notes?: number, feedback?: {count: number, latest: Note[]}}} Past
 * @typedef {{now_ms: number, person: {id: string, name: string, time_zone: string, role: string},
 *   upcoming: Upcoming[], past: Past[], calendar_feed: string}} Home
 */

// setTimeout's longest delay (about 24.8 days); a later opening re-arms the timer.
const MAX_DELAY_MS = 2 ** 31 - 1;

/** The server's clock as this page reckons it (a wrong computer clock opens no door early). */
let skewMs = 0;
const serverNow = () => Date.now() + skewMs;

/**
 * "Tue 10 Mar, 19:00 (Africa/Nairobi)": a moment in the person's own zone, the zone named.
 * @param {number} ms @param {string} timeZone
 */
export function formatWhen(ms, timeZone) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).formatToParts(new Date(ms));
  /** @param {string} type */
  const part = (type) => (parts.find((p) => p.type === type) || { value: "" }).value;
  return `${part("weekday")} ${part("day")} ${part("month")}, ${part("hour")}:${part("minute")} (${timeZone})`;
}

/** @param {Common} s */
function seatLine(s) {
  if (!s.seat) return "Coaching (your cohort)";
  const label = seatLabel(s.seat);
  return s.character ? `${label} · as ${s.character}` : label;
}

/** @param {Sitter[]} sitters */
function withLine(sitters) {
  return sitters.length ? `With ${sitters.map((s) => `${s.name} (${seatLabel(s.seat)})`).join(", ")}` : "";
}

/**
 * A Join button that opens by itself at `opensMs` (server time).
 * @param {Upcoming} s @param {string} timeZone
 */
function joinControl(s, timeZone) {
  const button = /** @type {HTMLButtonElement} */ (el("button", { type: "button", class: "primary join" }, "Join"));
  const hint = el("span", { class: "hint" });
  button.addEventListener("click", () => location.assign(s.join_url));
  const update = () => {
    const wait = s.join_opens_ms - serverNow();
    button.disabled = wait > 0;
    hint.textContent = wait > 0 ? `Opens ${formatWhen(s.join_opens_ms, timeZone)}` : "Open now";
    if (wait > 0) setTimeout(update, Math.min(wait, MAX_DELAY_MS));
  };
  update();
  // A sleeping laptop or a background tab delays timers: look again when it is seen.
  document.addEventListener("visibilitychange", () => { if (!document.hidden && button.disabled) update(); });
  return el("div", { class: "actions" }, button, hint);
}

/** @param {Upcoming} s @param {string} timeZone */
function upcomingItem(s, timeZone) {
  const when = s.scheduled_ms === null ? "Not scheduled: open now" : formatWhen(s.scheduled_ms, timeZone);
  const length = s.duration_min ? ` · ${s.duration_min} min` : "";
  return el("li", { class: "card session", dataset: { id: s.id } },
    el("h3", {}, s.title),
    el("p", { class: "when" }, el("time", { datetime: s.scheduled_ms === null ? undefined : new Date(s.scheduled_ms).toISOString() }, when), length),
    el("p", {}, seatLine(s)),
    s.with.length ? el("p", { class: "hint" }, withLine(s.with)) : null,
    joinControl(s, timeZone),
    s.scheduled_ms === null ? null : el("a", { href: s.calendar_url, class: "calendar-link" }, "Add to calendar (.ics)"),
  );
}

/** @param {Note} n */
function noteItem(n) {
  const skill = n.skill ? ` · ${n.skill}${n.rating ? ` ${n.rating}/5` : ""}` : "";
  return el("li", {}, el("span", { class: "at" }, clock(n.t_ms)), " ", n.text, el("span", { class: "hint" }, skill));
}

/** @param {Past} s @param {string} timeZone */
function pastItem(s, timeZone) {
  const moment = s.scheduled_ms ?? s.ended_ms;
  const when = moment === null ? "" : formatWhen(moment, timeZone);
  const length = s.session_ms ? ` · ran ${clock(s.session_ms)}` : "";
  const feedback = [];
  if (s.feedback) {
    const { count, latest } = s.feedback;
    feedback.push(el("p", { class: "feedback-count" },
      count ? `${count} ${count === 1 ? "note" : "notes"} from your coach` : "No feedback for you yet"));
    if (latest.length) feedback.push(el("ul", { class: "notes" }, latest.map(noteItem)));
  } else if (s.notes !== undefined) {
    feedback.push(el("p", { class: "feedback-count" }, `You coached this session · ${s.notes} ${s.notes === 1 ? "note" : "notes"}`));
  }
  const link = s.recording_url
    ? el("a", { href: s.recording_url, class: "button-link" }, s.coaching ? "Review the recording" : "Recording and feedback")
    : el("p", { class: "hint" }, "No recording");
  return el("li", { class: "card session", dataset: { id: s.id } },
    el("h3", {}, s.title),
    el("p", { class: "when" }, when, length),
    el("p", {}, seatLine(s), s.took_part || s.coaching ? "" : " · you did not join"),
    s.with.length ? el("p", { class: "hint" }, withLine(s.with)) : null,
    ...feedback,
    link,
  );
}

function copyFeed() {
  const input = /** @type {HTMLInputElement} */ ($("feed-url"));
  const done = () => { $("feed-copied").textContent = "Copied."; };
  if (navigator.clipboard) {
    navigator.clipboard.writeText(input.value).then(done, () => { input.select(); });
  } else {
    input.select();
  }
}

async function start() {
  /** @type {Home} */
  let home;
  try {
    home = await api("/api/home");
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      $("home-problem").textContent = `Could not load your sessions: ${error instanceof Error ? error.message : error}`;
    }
    return;
  }
  skewMs = home.now_ms - Date.now();
  const zone = home.person.time_zone;
  $("you").textContent = `${home.person.name} · ${home.person.role}`;
  if (home.person.role === "admin" || home.person.role === "coach") {
    $("home-nav").prepend(el("a", { href: "/admin" }, "Console"));
  }
  $("zone").replaceChildren(`Times are shown in ${zone}. `, el("a", { href: "/settings" }, "Change your time zone"));
  $("upcoming").replaceChildren(...home.upcoming.map((s) => upcomingItem(s, zone)));
  $("upcoming-none").hidden = home.upcoming.length > 0;
  $("past").replaceChildren(...home.past.map((s) => pastItem(s, zone)));
  $("past-none").hidden = home.past.length > 0;
  /** @type {HTMLInputElement} */ ($("feed-url")).value = new URL(home.calendar_feed, location.origin).href;
  $("feed-copy").addEventListener("click", copyFeed);
  $("upcoming").dataset.loaded = "true";
}

start();
