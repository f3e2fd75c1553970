// @ts-check
// Console: the scenario form's fields. Draws a scenario document into the
// editor (parties with their briefs, rubric, phase plan), reads it back, and
// adds or removes rows without losing what was typed.
import { $, el } from "./dom.js";
import { checked, setInput, value } from "./console-forms.js";

/** @typedef {{seat: string, name: string, label: string}} Party */
/** @typedef {{id: string, name: string, description: string}} Skill */
/** @typedef {{phase: string, seat?: string, minutes: number | null}} Step */
/** @typedef {{id?: string, title: string, summary: string, parties: Party[], briefs: Record<string, string>,
 *   rubric: Skill[], phase_plan: Step[], observers: string, coach_hidden: boolean}} ScenarioDocument */

export const SEATS = ["party_a", "party_b", "party_c", "party_d"];
export const PHASES = [
  ["joint", "Joint session"],
  ["caucus", "Caucus"],
  ["timeout", "Time-out"],
  ["debrief", "Debrief"],
];
export const form = /** @type {HTMLFormElement} */ ($("scenario-form"));

/** "party_b" → "Party B" @param {string} seat */
export function seatName(seat) {
  return seat.startsWith("party_") ? `Party ${seat.slice(6).toUpperCase()}` : seat[0].toUpperCase() + seat.slice(1);
}

/**
 * A labelled control with its error line.
 * @param {string} label @param {HTMLElement} control @param {string} field
 */
function labelled(label, control, field) {
  const id = `f-${field.replace(/[^a-z0-9]+/gi, "-")}`;
  control.id = id;
  control.dataset.field = field;
  return el("div", {}, el("label", { for: id }, label), control, el("p", { class: "field-error", "data-error-for": field }));
}

/** @param {string} value @param {Record<string, unknown>} [attrs] */
function input(value, attrs = {}) {
  const node = /** @type {HTMLInputElement} */ (el("input", { autocomplete: "off", ...attrs }));
  node.value = value;
  return node;
}

/** @param {string} value @param {number} rows */
function textarea(value, rows) {
  const node = /** @type {HTMLTextAreaElement} */ (el("textarea", { rows, maxlength: 12000 }));
  node.value = value;
  return node;
}

/** @param {string[][]} options @param {string} chosen */
function select(options, chosen) {
  const node = /** @type {HTMLSelectElement} */ (el("select", {}, ...options.map(([v, label]) => el("option", { value: v }, label))));
  node.value = chosen;
  return node;
}

/** @param {Party[]} parties @param {Record<string, string>} briefs */
function drawParties(parties, briefs) {
  const box = /** @type {HTMLElement} */ ($("sc-parties"));
  box.replaceChildren(
    ...parties.map((p, i) =>
      el(
        "fieldset",
        { class: "row-group", dataset: { row: "party" } },
        el("legend", {}, seatName(SEATS[i])),
        el(
          "div",
          { class: "fields" },
          labelled("Name", input(p.name, { maxlength: 120, "data-part": "name" }), `parties[${i}].name`),
          labelled("Label (who they are)", input(p.label, { maxlength: 200, "data-part": "label" }), `parties[${i}].label`),
        ),
        labelled("Confidential brief", textarea(briefs[SEATS[i]] || "", 5), `briefs.${SEATS[i]}`),
        parties.length > 2
          ? el("button", { type: "button", class: "quiet", onclick: () => redraw((d) => removeParty(d, i)) }, `Remove ${seatName(SEATS[i])}`)
          : null,
      ),
    ),
  );
  /** @type {HTMLButtonElement} */ ($("add-party")).disabled = parties.length >= SEATS.length;
}

/** @param {Skill[]} rubric */
function drawRubric(rubric) {
  /** @type {HTMLElement} */ ($("sc-rubric")).replaceChildren(
    ...rubric.map((k, i) =>
      el(
        "div",
        { class: "row-group fields three removable", dataset: { row: "skill" } },
        labelled("Name", input(k.name, { maxlength: 120, "data-part": "name" }), `rubric[${i}].name`),
        labelled("Id (snake_case; empty: from the name)", input(k.id, { maxlength: 48, "data-part": "id" }), `rubric[${i}].id`),
        labelled("What good looks like", input(k.description, { maxlength: 2000, "data-part": "description" }), `rubric[${i}].description`),
        el("button", { type: "button", class: "quiet", onclick: () => redraw((d) => d.rubric.splice(i, 1)) }, "Remove"),
      ),
    ),
  );
}

/** @param {Step[]} plan @param {Party[]} parties */
function drawPlan(plan, parties) {
  /** @type {HTMLElement} */ ($("sc-plan")).replaceChildren(
    ...plan.map((step, i) => {
      const seats = parties.map((p, j) => [SEATS[j], `${seatName(SEATS[j])}${p.name ? `: ${p.name}` : ""}`]);
      const seat = select(seats, step.seat || SEATS[0]);
      seat.dataset.part = "seat";
      seat.disabled = step.phase !== "caucus";
      const phase = select(PHASES, step.phase);
      phase.dataset.part = "phase";
      phase.addEventListener("change", () => {
        seat.disabled = phase.value !== "caucus";
      });
      const minutes = input(step.minutes === null ? "" : String(step.minutes), { type: "number", min: 1, max: 240, step: 1, "data-part": "minutes" });
      return el(
        "div",
        { class: "row-group fields three removable", dataset: { row: "step" } },
        labelled(`Step ${i + 1}`, phase, `phase_plan[${i}].phase`),
        labelled("With (a caucus)", seat, `phase_plan[${i}].seat`),
        labelled("Minutes", minutes, `phase_plan[${i}].minutes`),
        el("button", { type: "button", class: "quiet", onclick: () => redraw((d) => d.phase_plan.splice(i, 1)) }, "Remove"),
      );
    }),
  );
}

/** "Active listening" → "active_listening" @param {string} name */
function snake(name) {
  const words = name.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  return /^[a-z]/.test(words) ? words.slice(0, 48) : words ? `skill_${words}`.slice(0, 48) : "";
}

/** @param {Element} row @param {string} part */
function part(row, part) {
  return value(row, `[data-part="${part}"]`);
}

/** The document the form holds now. @returns {ScenarioDocument} */
export function collect() {
  const parties = [...document.querySelectorAll('#sc-parties [data-row="party"]')].map((row, i) => ({
    seat: SEATS[i],
    name: part(row, "name"),
    label: part(row, "label"),
  }));
  /** @type {Record<string, string>} */
  const briefs = { mediator: value(form, "#sc-brief-mediator") };
  parties.forEach((p, i) => {
    briefs[p.seat] = value(form, `[data-field="briefs.${SEATS[i]}"]`);
  });
  const coach = value(form, "#sc-brief-coach");
  const observer = value(form, "#sc-brief-observer");
  if (coach.trim()) briefs.coach = coach;
  if (observer.trim()) briefs.observer = observer;
  const rubric = [...document.querySelectorAll('#sc-rubric [data-row="skill"]')].map((row) => {
    const name = part(row, "name");
    const id = part(row, "id").trim() || snake(name);
    const idInput = row.querySelector('[data-part="id"]');
    if (idInput instanceof HTMLInputElement) idInput.value = id; // show the id it will have
    return { id, name, description: part(row, "description") };
  });
  const plan = [...document.querySelectorAll('#sc-plan [data-row="step"]')].map((row) => {
    const phase = part(row, "phase");
    const minutes = part(row, "minutes").trim();
    /** @type {Step} */
    const step = { phase, minutes: minutes === "" ? null : Number(minutes) };
    if (phase === "caucus") step.seat = part(row, "seat");
    return step;
  });
  /** @type {ScenarioDocument} */
  const document_ = {
    title: value(form, "#sc-title"),
    summary: value(form, "#sc-summary"),
    parties,
    briefs,
    rubric,
    phase_plan: plan,
    observers: value(form, "#sc-observers"),
    coach_hidden: checked("sc-coach-hidden"),
  };
  const id = value(form, "#sc-id").trim(); // an edited scenario's own id (filled in, its row hidden)
  if (id) document_.id = id;
  return document_;
}

/** @param {ScenarioDocument} d */
export function fill(d) {
  setInput("sc-title", d.title);
  setInput("sc-id", d.id || "");
  setInput("sc-summary", d.summary);
  setInput("sc-brief-mediator", d.briefs.mediator || "");
  setInput("sc-brief-coach", d.briefs.coach || "");
  setInput("sc-brief-observer", d.briefs.observer || "");
  setInput("sc-observers", d.observers);
  setInput("sc-coach-hidden", d.coach_hidden);
  drawParties(d.parties, d.briefs);
  drawRubric(d.rubric);
  drawPlan(d.phase_plan, d.parties);
}

/** Change the rows (add, remove) without losing what was typed. @param {(d: ScenarioDocument) => unknown} change */
export function redraw(change) {
  const d = collect();
  change(d);
  fill(d);
}

/** @param {ScenarioDocument} d @param {number} i */
function removeParty(d, i) {
  const removed = d.parties[i].seat;
  d.parties.splice(i, 1);
  /** @type {Record<string, string>} */
  const briefs = { mediator: d.briefs.mediator, coach: d.briefs.coach, observer: d.briefs.observer };
  d.parties.forEach((p, j) => {
    briefs[SEATS[j]] = d.briefs[p.seat] || "";
    p.seat = SEATS[j];
  });
  d.briefs = briefs;
  d.phase_plan = d.phase_plan.filter((s) => s.seat !== removed);
}

/** @type {ScenarioDocument} */
export const BLANK = {
  title: "",
  summary: "",
  parties: [
    { seat: "party_a", name: "", label: "" },
    { seat: "party_b", name: "", label: "" },
  ],
  briefs: {},
  rubric: [{ id: "", name: "", description: "" }],
  phase_plan: [
    { phase: "joint", minutes: 15 },
    { phase: "caucus", seat: "party_a", minutes: 10 },
    { phase: "caucus", seat: "party_b", minutes: 10 },
    { phase: "joint", minutes: 15 },
    { phase: "debrief", minutes: 10 },
  ],
  observers: "joint_only",
  coach_hidden: true,
};
