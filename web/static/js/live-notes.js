// Live notes in the room (coach and admin): "n" stamps the moment and opens a
// note; a skill button (or its number key) tags the moment at once. Each note is
// sent with `lag_ms`, how long ago the coach *saw* that moment (docs/protocol.md):
//   (now − keystroke) + video playout delay + media RTT/2 + signalling RTT/2
// so the server places it where the recording shows what the coach reacted to.
import { clock, el } from "./dom.js";
import { createSkills } from "./playback-labels.js";
import { seatLabel } from "./seats.js";

const MAX_CHARS = 2000;
const MAX_LAG_MS = 60000; // the server's limit
const PROBE_EVERY_MS = 15000;
const RTT_SAMPLES = 5;
/**
 * Who reads a live note. Shared by default: a live note is feedback the trainees
 * should find with their recording (a caucus note still only reaches those who were
 * in that caucus); a coach who wants a private aside picks "Coaches only".
 */
const SHARING = [["all", "Everyone in the session"], ["coach", "Coaches only"]];

function typing(target) {
  return target instanceof Element && Boolean(target.closest("input, textarea, select, [contenteditable]"));
}

/**
 * Signalling round trip, from timing a cheap acknowledged request (reading a
 * brief). The ack of a note itself cannot be used: its lag is sent with it.
 */
function createRttProbe(request, briefSeat) {
  const samples = [];
  let timer = null;
  async function probe() {
    const seat = briefSeat();
    if (!seat) return;
    const sent = performance.now();
    const reply = await request("brief", { seat });
    if (!reply || reply.code === "offline" || reply.code === "timeout") return;
    samples.push(performance.now() - sent);
    if (samples.length > RTT_SAMPLES) samples.shift();
  }
  return {
    start() {
      if (timer) return;
      probe();
      timer = setInterval(probe, PROBE_EVERY_MS);
    },
    probe,
    /** The median of the recent samples (robust to one slow answer); 0 before the first. */
    get ms() {
      if (!samples.length) return 0;
      const sorted = [...samples].sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)];
    },
  };
}

/**
 * section: the (hidden) card to fill. request(event, payload) → ack; socket: for
 * `annotation` events; media: createMedia() (playoutDelayMs, mediaRttMs); now():
 * the session time as this page sees it (for display only: the server places notes).
 */
export function createLiveNotes(section, { request, socket, media, now }) {
  let state = null;
  let skills = createSkills([]);
  let rubricKey = "";
  let stampedAt = null; // when the keystroke that started the draft happened (performance.now() clock)
  const seen = new Set();

  const heading = el("h2", { id: "live-notes-heading" }, "Live notes");
  const hint = el("p", { class: "hint", id: "live-notes-hint" },
    "Press N to note this moment; a skill button (or its number key) tags it at once. Notes land on the recording where you saw it.");
  const sharing = el("select", { id: "live-note-sharing", "aria-describedby": "live-note-sharing-hint" },
    ...SHARING.map(([value, label]) => el("option", { value }, label)));
  // Whom a note is for: the trainee finds it on their home page as feedback addressed to them.
  const target = el("select", { id: "live-note-target" }, el("option", { value: "" }, "Nobody in particular"));
  const targetRow = el("div", { class: "sharing-row" }, el("label", { for: "live-note-target" }, "For"), target);
  let targetKey = "";
  const sharingRow = el("div", { class: "sharing-row" },
    el("label", { for: "live-note-sharing" }, "Notes and tags are shared with"), sharing,
    el("p", { class: "hint", id: "live-note-sharing-hint" },
      "Trainees read shared notes with their recording after the session."));
  // The room's stylesheet is shared: reuse its rows, whisper log and form styles.
  const buttons = el("div", { class: "skill-buttons", role: "group", "aria-label": "Tag this moment with a skill" });
  const when = el("span", { class: "hint", id: "live-note-when" }, "");
  const box = el("textarea", { id: "live-note-text", rows: 2, maxlength: MAX_CHARS, "aria-describedby": "live-notes-hint" });
  const save = el("button", { type: "submit", class: "primary" }, "Save note");
  const cancel = el("button", { type: "button" }, "Cancel");
  const problem = el("p", { class: "problem", role: "alert" });
  const form = el("form", { class: "whisper-form live-note-form" },
    el("label", { for: "live-note-text" }, "Note ", when),
    box, el("div", { class: "row" }, save, cancel), problem);
  // Polite, but not role="log": the whispers are the room's log, and a note is not a message.
  const log = el("ol", { class: "whisper-log live-log", "aria-live": "polite", "aria-label": "Live notes so far" });
  section.replaceChildren(heading, hint, buttons, form, targetRow, sharingRow, log);
  section.hidden = false;

  const rtt = createRttProbe(request, () => {
    if (!state) return null;
    const keys = Object.keys(state.briefs || {});
    return keys.includes(state.you.seat) ? state.you.seat : keys[0] || null;
  });

  function stamp(at) {
    stampedAt = at;
    when.textContent = `at ${clock(now())}`;
    when.dataset.sessionMs = String(Math.round(now()));
  }

  function clear() {
    stampedAt = null;
    box.value = "";
    when.textContent = "";
    problem.textContent = "";
  }

  async function lagSince(at) {
    const [playout, mediaRtt] = await Promise.all([
      media.playoutDelayMs().catch(() => 0), media.mediaRttMs().catch(() => 0),
    ]);
    const lag = performance.now() - at + playout + mediaRtt / 2 + rtt.ms / 2;
    return Math.max(0, Math.min(MAX_LAG_MS, Math.round(lag)));
  }

  function show(note, mine) {
    if (seen.has(note.id)) return;
    seen.add(note.id);
    const who = mine ? "You" : seatLabel(note.author_seat || "admin");
    const tag = note.skill ? `[${skills.name(note.skill)}] ` : "";
    const shared = note.visibility === "coach" ? "coaches only" : "shared";
    const item = el("li", {
      class: `live-note ${mine ? "mine" : "theirs"}`, dataset: { note: note.id, tMs: String(note.t_ms), visibility: note.visibility || "" },
    },
      el("span", { class: "whisper-meta" }, `${who} · ${clock(note.t_ms)} · ${shared}${note.target ? ` · for ${seatLabel(note.target)}` : ""}`),
      el("span", { class: "whisper-text" }, `${tag}${note.text || ""}`));
    item.style.borderLeftColor = skills.colour(note.skill); // CSSOM, not a style attribute (CSP)
    log.prepend(item);
  }

  async function send(payload, at) {
    const lag_ms = await lagSince(at);
    const reply = await request("annotate", { ...payload, visibility: sharing.value, target: target.value || null, lag_ms });
    if (reply && reply.ok) {
      show(reply.annotation, true);
      rtt.probe(); // keep the estimate fresh for the next note
      return true;
    }
    problem.textContent = `Not saved: ${(reply && reply.message) || "try again."}`;
    return false;
  }

  /** Tag the moment of `at` (an event's timeStamp: the click or key, not when we got to it). */
  function tag(skill, at) {
    problem.textContent = "";
    send({ skill: skill.id }, at);
  }

  /** The trainees' seats (the mediator and the parties) to address a note to. */
  function renderTargets() {
    const seats = ["mediator", ...(state.scenario.parties || []).map((p) => p.seat)];
    const key = seats.join(",");
    if (key === targetKey) return;
    targetKey = key;
    const chosen = target.value;
    target.replaceChildren(el("option", { value: "" }, "Nobody in particular"),
      ...seats.map((seat) => el("option", { value: seat, selected: seat === chosen }, seatLabel(seat))));
  }

  function renderButtons() {
    const key = JSON.stringify(skills.list);
    if (key === rubricKey) return;
    rubricKey = key;
    buttons.replaceChildren(...skills.list.map((skill, i) => {
      const button = el("button", {
        type: "button", class: "skill-button", dataset: { skill: skill.id },
        "aria-keyshortcuts": i < 9 ? String(i + 1) : undefined,
        onclick: (event) => tag(skill, event.timeStamp),
      }, i < 9 ? el("kbd", {}, String(i + 1)) : null, skill.name);
      button.style.borderLeftColor = skills.colour(skill.id); // CSSOM, not a style attribute (CSP)
      return button;
    }));
    buttons.hidden = skills.list.length === 0;
  }

  box.addEventListener("focus", () => { if (stampedAt === null) stamp(performance.now()); });
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape") {
      clear();
      box.blur();
    }
  });
  cancel.addEventListener("click", clear);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) { problem.textContent = "Write the note first (or press a skill button)."; return; }
    const at = stampedAt ?? performance.now();
    // Back to watching at once: the next "n" or number key works while this one is sent.
    clear();
    box.blur();
    if (!(await send({ text }, at)) && !box.value) {
      box.value = text; // not lost: the coach can send it again, still for its moment
      stampedAt = at;
    }
  });

  document.addEventListener("keydown", (event) => {
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    if (event.key === "n" || event.key === "N") {
      event.preventDefault(); // the "n" is not typed into the note
      stamp(event.timeStamp); // the moment is the keystroke, not when the note is sent
      // The panel must not jump under the coach's eyes: scroll only if the box is out of view.
      const r = box.getBoundingClientRect();
      box.focus({ preventScroll: r.top >= 0 && r.bottom <= innerHeight });
    } else if (/^[1-9]$/.test(event.key) && skills.list[Number(event.key) - 1]) {
      event.preventDefault();
      tag(skills.list[Number(event.key) - 1], event.timeStamp);
    }
  });
  socket.on("annotation", (note) => { if (note && note.id) show(note, false); });

  return {
    update(next) {
      state = next;
      rtt.start(); // once: the probe needs the state (which brief to ask for)
      skills = createSkills(next.scenario.rubric);
      renderButtons();
      renderTargets();
    },
  };
}
