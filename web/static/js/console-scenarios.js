// @ts-check
// Console: scenarios. The shipped ones are read-only (copy one to change it);
// the admin writes new ones: briefs per seat, a rubric and a phase plan. The
// server validates; a refusal is shown beside the field it names.
import { $, el, paragraphs } from "./dom.js";
import { api, problem, startConsole } from "./console.js";
import { checked, clearErrors, clearOnInput, setInput, showFieldError, value } from "./console-forms.js";

/** @typedef {{seat: string, name: string, label: string}} Party */
/** @typedef {{id: string, name: string, description: string}} Skill */
/** @typedef {{phase: string, seat?: string, minutes: number | null}} Step */
/** @typedef {{id?: string, title: string, summary: string, parties: Party[], briefs: Record<string, string>,
 *   rubric: Skill[], phase_plan: Step[], observers: string, coach_hidden: boolean}} ScenarioDocument */
/** @typedef {ScenarioDocument & {id: string, builtin: boolean, used: boolean, editable: boolean}} Scenario */
/** @typedef {{id: string, title: string, parties: Party[], builtin: boolean}} Summary */

const SEATS = ["party_a", "party_b", "party_c", "party_d"];
const PHASES = [
  ["joint", "Joint session"],
  ["caucus", "Caucus"],
  ["timeout", "Time-out"],
  ["debrief", "Debrief"],
];
const form = /** @type {HTMLFormElement} */ ($("scenario-form"));
/** @type {Scenario | null} the scenario being edited (null: a new one) */
let editing = null;
let isAdmin = false;

/** "party_b" → "Party B" @param {string} seat */
function seatName(seat) {
  return seat.startsWith("party_") ? `Party ${seat.slice(6).toUpperCase()}` : seat[0].toUpperCase() + seat.slice(1);
}

/** @param {string} message */
function saved(message) {
  /** @type {HTMLElement} */ ($("scenario-saved")).textContent = message;
}

/** @param {unknown} error */
function fail(error) {
  problem(error instanceof Error ? error.message : String(error));
}

// --- the list -------------------------------------------------------------------

async function refresh() {
  /** @type {Summary[]} */
  const all = await api("/api/scenarios");
  const body = /** @type {HTMLElement} */ (document.querySelector("#scenario-list tbody"));
  body.replaceChildren(
    ...all.map((s) =>
      el(
        "tr",
        { dataset: { scenario: s.id } },
        el("td", {}, el("strong", {}, s.title), el("div", { class: "hint" }, s.id)),
        el("td", {}, s.parties.map((p) => p.name).join(", ")),
        el("td", {}, s.builtin ? el("span", { class: "tag" }, "shipped · read-only") : el("span", { class: "tag written" }, "written here")),
        el(
          "td",
          { class: "actions" },
          el("button", { type: "button", onclick: () => preview(s.id).catch(fail) }, "Preview"),
          isAdmin && !s.builtin ? el("button", { type: "button", onclick: () => edit(s.id).catch(fail) }, "Edit") : null,
          isAdmin ? el("button", { type: "button", onclick: () => copy(s.id).catch(fail) }, "Copy") : null,
          isAdmin && !s.builtin ? el("button", { type: "button", class: "danger", onclick: () => remove(s).catch(fail) }, "Delete") : null,
        ),
      ),
    ),
  );
}

// --- preview --------------------------------------------------------------------

/** @param {string} id */
async function preview(id) {
  problem("");
  /** @type {Scenario} */
  const s = await api(`/api/scenarios/${encodeURIComponent(id)}`);
  form.hidden = true;
  /** @type {HTMLElement} */ ($("preview-title")).textContent = s.title;
  const kind = s.builtin ? "shipped, read-only" : s.used ? "written here; has run, so it is frozen (copy it to change it)" : "written here";
  /** @type {HTMLElement} */ ($("preview-meta")).textContent = `${s.id} · ${kind} · observers watch ${
    s.observers === "all" ? "everything" : "the joint sessions only"
  }`;
  paragraphs($("preview-summary"), s.summary);
  /** @type {HTMLElement} */ ($("preview-parties")).replaceChildren(
    ...s.parties.map((p) => el("li", {}, el("strong", {}, p.name), ` — ${p.label} (${seatName(p.seat)})`)),
  );
  const order = ["mediator", ...s.parties.map((p) => p.seat), "coach", "observer"];
  /** @type {HTMLElement} */ ($("preview-briefs")).replaceChildren(
    ...order
      .filter((key) => s.briefs[key])
      .map((key) => {
        const party = s.parties.find((p) => p.seat === key);
        const text = el("div", { class: "brief-text" });
        paragraphs(text, s.briefs[key]);
        return el("details", { class: "brief" }, el("summary", {}, party ? `${seatName(key)}: ${party.name}` : seatName(key)), text);
      }),
  );
  /** @type {HTMLElement} */ ($("preview-rubric")).replaceChildren(
    ...s.rubric.flatMap((k) => [el("dt", {}, k.name), el("dd", {}, k.description || "—")]),
  );
  /** @type {HTMLElement} */ ($("preview-plan")).replaceChildren(
    ...s.phase_plan.map((step) => {
      const label = (PHASES.find(([p]) => p === step.phase) || [step.phase, step.phase])[1];
      const party = step.seat ? s.parties.find((p) => p.seat === step.seat) : null;
      return el("li", {}, `${label}${party ? ` with ${party.name}` : ""}: ${step.minutes} min`);
    }),
  );
  const actions = /** @type {HTMLElement} */ ($("preview-actions"));
  actions.replaceChildren(
    isAdmin && s.editable ? el("button", { type: "button", onclick: () => edit(s.id).catch(fail) }, "Edit") : null,
    isAdmin ? el("button", { type: "button", onclick: () => copy(s.id).catch(fail) }, "Copy") : null,
    el("button", { type: "button", onclick: () => { /** @type {HTMLElement} */ ($("preview")).hidden = true; } }, "Close"),
  );
  const section = /** @type {HTMLElement} */ ($("preview"));
  section.hidden = false;
  section.scrollIntoView({ block: "start" });
}

// --- the editor -----------------------------------------------------------------

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
function collect() {
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
  const id = value(form, "#sc-id").trim();
  if (editing) document_.id = editing.id;
  else if (id) document_.id = id;
  return document_;
}

/** @param {ScenarioDocument} d */
function fill(d) {
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
function redraw(change) {
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
const BLANK = {
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

/** @param {Scenario | null} scenario */
function openEditor(scenario) {
  editing = scenario;
  clearErrors(form);
  problem("");
  saved("");
  /** @type {HTMLElement} */ ($("preview")).hidden = true;
  /** @type {HTMLElement} */ ($("scenario-form-title")).textContent = scenario ? `Edit ${scenario.title}` : "New scenario";
  /** @type {HTMLElement} */ ($("sc-id-row")).hidden = Boolean(scenario);
  fill(scenario || structuredClone(BLANK));
  form.hidden = false;
  /** @type {HTMLInputElement} */ ($("sc-title")).focus();
}

/** @param {string} id */
async function edit(id) {
  /** @type {Scenario} */
  const s = await api(`/api/scenarios/${encodeURIComponent(id)}`);
  if (!s.editable) {
    problem(s.builtin ? `${s.title} is shipped with Caucus: copy it to change it.` : `${s.title} has run in a simulation, so it stays as it ran: copy it to change it.`);
    return;
  }
  openEditor(s);
}

/** @param {string} id */
async function copy(id) {
  /** @type {Scenario} */
  const made = await api(`/api/scenarios/${encodeURIComponent(id)}/copy`, { method: "POST" });
  await refresh();
  openEditor(made);
  saved(`Copied to ${made.title}.`);
}

/** @param {Summary} s */
async function remove(s) {
  if (!confirm(`Delete the scenario ${s.title}?`)) return;
  await api(`/api/scenarios/${encodeURIComponent(s.id)}`, { method: "DELETE" });
  if (editing && editing.id === s.id) form.hidden = true;
  await refresh();
  saved(`Deleted ${s.title}.`);
}

async function save() {
  clearErrors(form);
  problem("");
  const body = collect();
  const button = /** @type {HTMLButtonElement} */ ($("save-scenario"));
  button.setAttribute("aria-busy", "true");
  try {
    /** @type {Scenario} */
    const stored = editing
      ? await api(`/api/scenarios/${encodeURIComponent(editing.id)}`, { method: "PUT", body })
      : await api("/api/scenarios", { method: "POST", body });
    form.hidden = true;
    editing = null;
    await refresh();
    saved(`Saved ${stored.title}.`);
    await preview(stored.id);
  } catch (error) {
    if (!showFieldError(form, error)) fail(error);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

async function start() {
  const me = await startConsole("scenarios");
  isAdmin = me.role === "admin";
  const newButton = /** @type {HTMLButtonElement} */ ($("new-scenario"));
  newButton.hidden = !isAdmin;
  newButton.addEventListener("click", () => openEditor(null));
  /** @type {HTMLElement} */ ($("add-party")).addEventListener("click", () =>
    redraw((d) => d.parties.push({ seat: SEATS[d.parties.length], name: "", label: "" })),
  );
  /** @type {HTMLElement} */ ($("add-skill")).addEventListener("click", () => redraw((d) => d.rubric.push({ id: "", name: "", description: "" })));
  /** @type {HTMLElement} */ ($("add-step")).addEventListener("click", () => redraw((d) => d.phase_plan.push({ phase: "joint", minutes: 10 })));
  /** @type {HTMLElement} */ ($("cancel-scenario")).addEventListener("click", () => {
    form.hidden = true;
    editing = null;
  });
  clearOnInput(form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  await refresh();
}

start().catch(fail);
