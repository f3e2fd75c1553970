// @ts-check
// Console: scenarios. The shipped ones are read-only (copy one to change it);
// the admin writes new ones: briefs per seat, a rubric and a phase plan. The
// server validates; a refusal is shown beside the field it names.
import { $, el, paragraphs } from "./dom.js";
import { api, problem, startConsole } from "./console.js";
import { clearErrors, clearOnInput, showFieldError } from "./console-forms.js";
import { BLANK, PHASES, SEATS, collect, fill, form, redraw, seatName } from "./console-scenario-form.js";

/** @typedef {import("./console-scenario-form.js").Party} Party */
/** @typedef {import("./console-scenario-form.js").ScenarioDocument} ScenarioDocument */
/** @typedef {ScenarioDocument & {id: string, builtin: boolean, used: boolean, editable: boolean}} Scenario */
/** @typedef {{id: string, title: string, parties: Party[], builtin: boolean}} Summary */

/** @type {Scenario | null} the scenario being edited (null: a new one) */
let editing = null;
let isAdmin = false;

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
  if (editing) body.id = editing.id;
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
