// The form a coach (or admin) writes feedback in: text, an optional rubric skill
// and rating, an optional trainee it is addressed to and who may read it. It
// adds a note at the playhead, or edits one (keeping its time unless asked).
import { el } from "./dom.js";
import { stamp } from "./playback-clock.js";

const MAX_CHARS = 2000;

const VISIBILITY = [
  ["coach", "Coaches only"],
  ["target", "Coaches and the trainee it is for"],
  ["all", "Everyone in the session"],
];

function options(select, entries) {
  select.replaceChildren(...entries.map(([value, label]) => el("option", { value }, label)));
}

/**
 * section: element to fill; skills: createSkills(); trainees: [seat]; names:
 * createSeatNames(); clock; save(payload, editing) → resolves or throws ApiError.
 */
export function createNoteForm({ section, skills, trainees, names, clock, save }) {
  const heading = el("h2", { id: "note-form-heading" }, "Add a note");
  const when = el("p", { class: "note-when", id: "note-when" });
  const now = el("button", { type: "button", class: "quiet small", id: "note-now" }, "Use current time");
  const text = el("textarea", { id: "note-text", rows: 2, maxlength: MAX_CHARS, "aria-describedby": "note-when" });
  const skill = el("select", { id: "note-skill" });
  const rating = el("select", { id: "note-rating" });
  const target = el("select", { id: "note-target" });
  const visibility = el("select", { id: "note-visibility" });
  const submit = el("button", { type: "submit", class: "primary" }, "Add note");
  const cancel = el("button", { type: "button", hidden: true }, "Cancel");
  const problem = el("p", { class: "problem", role: "alert" });
  const field = (id, label, control) => el("div", { class: "field" }, el("label", { for: id }, label), control);
  // Without a rubric (the API may not send one) the skill fields stay hidden, unless a
  // note being edited has a skill: it must survive the edit.
  const skillFields = [field("note-skill", "Rubric skill", skill), field("note-rating", "Rating", rating)];
  for (const f of skillFields) f.hidden = skills.list.length === 0;
  const form = el("form", { class: "note-form", "aria-labelledby": "note-form-heading" },
    el("div", { class: "note-when-row" }, el("label", { for: "note-text" }, "Note"), when, now), text,
    el("div", { class: "note-fields" }, ...skillFields,
      field("note-target", "For", target), field("note-visibility", "Who can read it", visibility)),
    el("div", { class: "row" }, submit, cancel), problem);
  section.replaceChildren(heading, form);
  section.hidden = false;

  options(skill, [["", "No skill"], ...skills.list.map((s) => [s.id, s.name])]);
  options(rating, [["", "No rating"], ...[1, 2, 3, 4, 5].map((n) => [String(n), `${n} of 5`])]);
  options(target, [["", "Nobody in particular"], ...trainees.map((s) => [s, names.short(s)])]);
  options(visibility, VISIBILITY);

  let at = 0; // the note's session time
  let editing = null; // the note being edited, or null when adding
  let pinned = false; // `at` was taken for the draft being written

  function setTime(t) {
    if (Math.round(t) === at && when.textContent) return; // called on every frame while playing
    at = Math.round(t);
    when.dataset.tMs = String(at);
    when.textContent = `At ${stamp(at)}`;
  }

  function coherent() {
    // The server's rules, said before sending: a rating needs a skill, "target" needs a person.
    rating.disabled = !skill.value;
    if (!skill.value) rating.value = "";
    const targetOption = visibility.querySelector('option[value="target"]');
    targetOption.disabled = !target.value;
    if (!target.value && visibility.value === "target") visibility.value = "coach";
  }

  function reset() {
    editing = null;
    pinned = false;
    form.reset();
    heading.textContent = "Add a note";
    submit.textContent = "Add note";
    cancel.hidden = true;
    problem.textContent = "";
    coherent();
    setTime(clock.now());
  }

  // The note is about what is on screen when you start writing it: take the time then.
  text.addEventListener("focus", () => {
    if (editing || pinned || text.value) return;
    clock.pause();
    setTime(clock.now());
    pinned = true;
  });
  now.addEventListener("click", () => { setTime(clock.now()); pinned = true; });
  skill.addEventListener("change", coherent);
  target.addEventListener("change", () => {
    if (target.value && visibility.value === "coach") visibility.value = "target";
    coherent();
  });
  cancel.addEventListener("click", reset);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!text.value.trim() && !skill.value) {
      problem.textContent = "Write a note or choose a rubric skill.";
      text.focus();
      return;
    }
    const payload = {
      t_ms: at,
      text: text.value.trim(),
      skill: skill.value || null,
      rating: skill.value && rating.value ? Number(rating.value) : null,
      target: target.value || null,
      visibility: visibility.value,
    };
    problem.textContent = "";
    submit.setAttribute("aria-busy", "true");
    try {
      await save(payload, editing);
      reset();
    } catch (error) {
      problem.textContent = error.message;
    } finally {
      submit.setAttribute("aria-busy", "false");
    }
  });

  coherent();
  setTime(0);

  return {
    /** Follow the playhead while no draft is being written. */
    follow(t) { if (!editing && !pinned && !text.value) setTime(t); },
    /** Put `note` into the form to change it. */
    edit(note) {
      reset();
      editing = note;
      heading.textContent = "Edit note";
      submit.textContent = "Save changes";
      cancel.hidden = false;
      text.value = note.text || "";
      if (note.skill && !skill.querySelector(`option[value="${CSS.escape(note.skill)}"]`)) {
        skill.append(el("option", { value: note.skill }, skills.name(note.skill)));
        for (const f of skillFields) f.hidden = false;
      }
      skill.value = note.skill || "";
      if (note.target && !target.querySelector(`option[value="${CSS.escape(note.target)}"]`)) {
        target.append(el("option", { value: note.target }, names.short(note.target)));
      }
      target.value = note.target || "";
      coherent();
      rating.value = note.rating ? String(note.rating) : "";
      visibility.value = note.visibility || "coach";
      setTime(note.t_ms);
      section.scrollIntoView({ block: "nearest" });
      text.focus();
    },
    /** Start a note at the current moment (the "n" key). */
    start() { text.focus(); },
    get editing() { return editing; },
    cancelEdit(noteId) { if (editing && editing.id === noteId) reset(); },
  };
}
