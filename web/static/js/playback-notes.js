// The feedback on a recording, in time order: click a note's time to go there;
// its author (or an admin) edits or deletes it; a trainee replies to feedback
// addressed to them. Note text is shown as text, whatever it contains.
import { el } from "./dom.js";
import { viewerToken } from "./playback-api.js";
import { stamp } from "./playback-clock.js";
import { seatLabel } from "./seats.js";

/** A note is "on" for this long after its time (as its WebVTT cue is). */
const CURRENT_MS = 4000;
const REPLY_CHARS = 2000;

const byTime = (a, b) => a.t_ms - b.t_ms || a.created_ms - b.created_ms;

/**
 * list: the <ol> to fill; count: element for the number of notes; api;
 * room; viewer: the recording's `viewer` ({seat, identity, admin, staff, may_reply, ...});
 * skills, names; clock; form: createNoteForm() or null; onChange(notes).
 */
export function createNotesList({ list, count, api, room, viewer, skills, names, clock, form, onChange }) {
  const base = `/api/recordings/${encodeURIComponent(room)}/annotations`;
  const staff = viewer.staff;
  let notes = [];
  let current = "";

  // The notes API says nothing per note, so the page asks of each note the viewer's rights
  // in the terms the server states them: the author and admins change a note
  // (sessions/annotations.may_change), `may_reply` names which notes take a reply.
  const mayChange = (note) => viewer.admin || (viewer.identity !== null && note.author === viewer.identity);
  function mayReply(note) {
    if (note.reply_to) return false;
    if (viewer.may_reply === "any") return true;
    return viewer.may_reply === "addressed" && note.target === viewer.seat && note.visibility !== "coach";
  }

  function skillText(note) {
    if (!note.skill) return "";
    return note.rating ? `${skills.name(note.skill)} · ${note.rating}/5` : skills.name(note.skill);
  }

  function audience(note) {
    if (note.reply_to) return "";
    if (note.visibility === "all") return "seen by everyone";
    if (note.visibility === "target" && note.target) return `seen by coaches and ${seatLabel(note.target)}`;
    return "coaches only";
  }

  /** One line for a marker's label: time, skill and the start of the text. */
  function describe(note) {
    const words = [stamp(note.t_ms), skillText(note), note.text].filter(Boolean).join(" · ");
    return words.length > 140 ? `${words.slice(0, 139)}…` : words;
  }

  function setNotes(next) {
    notes = next;
    render();
    onChange(notes.filter((n) => !n.reply_to).sort(byTime), describe);
  }

  async function act(item, task) {
    const problem = item.querySelector(":scope > .problem");
    problem.textContent = "";
    try {
      await task();
    } catch (error) {
      problem.textContent = error.message;
    }
  }

  function confirmDelete(note, item, actions) {
    const open = item.querySelector(":scope > .confirm");
    if (open) { open.querySelector("button").focus(); return; }
    const yes = el("button", { type: "button", class: "danger" }, "Delete");
    const no = el("button", { type: "button" }, "Keep it");
    const box = el("div", { class: "confirm", role: "group", "aria-label": "Confirm deleting the note" },
      el("p", {}, note.reply_to ? "Delete this reply?" : "Delete this note and its replies?"), el("div", { class: "row" }, yes, no));
    actions.after(box);
    yes.focus();
    no.addEventListener("click", () => { box.remove(); actions.querySelector(".delete")?.focus(); });
    yes.addEventListener("click", () => act(item, async () => {
      await api.delete(`${base}/${encodeURIComponent(note.id)}`);
      if (form) form.cancelEdit(note.id);
      setNotes(notes.filter((n) => n.id !== note.id && n.reply_to !== note.id));
    }));
  }

  function openReply(note, item, actions) {
    if (item.querySelector(":scope > .reply-form")) return;
    const id = `reply-${note.id}`;
    const box = el("textarea", { id, rows: 2, maxlength: REPLY_CHARS });
    const send = el("button", { type: "submit", class: "primary" }, "Send reply");
    const close = el("button", { type: "button" }, "Cancel");
    const replyForm = el("form", { class: "reply-form" },
      el("label", { for: id }, staff ? "Reply" : "Your reply to your coach"), box,
      el("div", { class: "row" }, send, close));
    actions.after(replyForm);
    box.focus();
    close.addEventListener("click", () => replyForm.remove());
    replyForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = box.value.trim();
      if (!text) { box.focus(); return; }
      act(item, async () => {
        // Trainees' reflections go to the coaches; a coach's reply reaches whoever read the note.
        const visibility = staff ? note.visibility : "coach";
        const reply = await api.post(base, {
          t_ms: note.t_ms, text, reply_to: note.id, visibility, target: staff ? note.target : null,
        });
        setNotes([...notes, reply]);
      });
    });
  }

  function noteItem(note) {
    const author = note.author_seat ? names.name(note.author_seat) : "Admin";
    const to = note.target && !note.reply_to ? ` → ${names.short(note.target)}` : "";
    const reach = audience(note);
    const edited = note.edited_ms ? " · edited" : "";
    const actions = el("div", { class: "note-actions" });
    const item = el("li", {
      class: note.reply_to ? "note reply" : "note",
      dataset: { note: note.id, tMs: String(note.t_ms), skill: note.skill || "" },
      style: `--skill:${skills.colour(note.skill)}`,
    },
    note.reply_to ? null : el("div", { class: "note-head" },
      el("button", { type: "button", class: "note-time", "aria-label": `Go to ${stamp(note.t_ms)}`, onclick: () => clock.seek(note.t_ms) },
        stamp(note.t_ms)),
      note.skill ? el("span", { class: "skill-chip" }, skillText(note)) : null),
    el("p", { class: "note-meta" }, `${author}${to}${reach ? ` · ${reach}` : ""}${edited}`),
    note.text ? el("p", { class: "note-text" }, note.text) : null,
    actions,
    el("p", { class: "problem", role: "alert" }));
    if (mayReply(note)) actions.append(el("button", { type: "button", class: "small reply", onclick: () => openReply(note, item, actions) }, "Reply"));
    if (mayChange(note)) {
      if (!note.reply_to && form) actions.append(el("button", { type: "button", class: "small edit", onclick: () => form.edit(note) }, "Edit"));
      actions.append(el("button", { type: "button", class: "small danger delete", onclick: () => confirmDelete(note, item, actions) }, "Delete"));
    }
    actions.hidden = actions.childElementCount === 0;
    const replies = notes.filter((n) => n.reply_to === note.id).sort(byTime);
    if (replies.length) item.append(el("ol", { class: "replies", "aria-label": "Replies" }, ...replies.map(noteItem)));
    return item;
  }

  function render() {
    const top = notes.filter((n) => !n.reply_to || !notes.some((p) => p.id === n.reply_to)).sort(byTime);
    list.replaceChildren(...top.map(noteItem));
    if (!top.length) list.append(el("li", { class: "empty" }, staff ? "No feedback yet. Add the first note." : "No feedback for you on this session yet."));
    count.textContent = top.length ? `(${top.length})` : "";
    current = "";
    highlight(clock.now());
    markRead();
  }

  // A note addressed to a trainee counts as read once shown to them (the tracker's
  // "every feedback note read"); only a signed-in person (no review link) is recorded.
  const marked = new Set();
  function markRead() {
    if (staff || viewer.may_reply !== "addressed" || viewerToken()) return;
    for (const note of notes) {
      if (note.target !== viewer.seat || note.author === viewer.identity || marked.has(note.id)) continue;
      marked.add(note.id);
      api.post(`/api/notes/${encodeURIComponent(note.id)}/read`).catch(() => {});
    }
  }

  function highlight(t) {
    const on = notes.filter((n) => !n.reply_to && n.t_ms <= t && t < n.t_ms + CURRENT_MS).map((n) => n.id).join(" ");
    if (on === current) return;
    current = on;
    const ids = new Set(on.split(" "));
    for (const item of list.querySelectorAll(":scope > li.note")) item.classList.toggle("current", ids.has(item.dataset.note));
  }

  return {
    async load() { setNotes(await api.get(base)); },
    /** Store the form's payload: a new note, or changes to `editing`. */
    async save(payload, editing) {
      if (editing) {
        const changed = await api.patch(`${base}/${encodeURIComponent(editing.id)}`, payload);
        setNotes(notes.map((n) => (n.id === changed.id ? changed : n)));
      } else {
        setNotes([...notes, await api.post(base, payload)]);
      }
    },
    highlight,
  };
}
