// @ts-check
// Console: cohorts. The admin creates and edits a cohort (name, dates, what its
// certificate requires), picks its coaches and trainees from the people list and
// the scenarios it uses; coaches see the cohorts they coach, read-only.
import { $, el } from "./dom.js";
import { api, ApiError, problem, startConsole } from "./console.js";
import { checked, clearErrors, clearOnInput, readableDate, setInput, showFieldError, value } from "./console-forms.js";

/** @typedef {{id: string, name: string, email?: string}} Member */
/** @typedef {{mediator_sessions: number, party_sessions: number, hours: number, feedback_read: boolean, reflections: boolean}} Requirements */
/** @typedef {{id: string, name: string, starts_on: string, ends_on: string, requirements: Requirements,
 *   coaches: Member[], trainees: Member[], scenarios: string[], your_role: string | null}} Cohort */
/** @typedef {{id: string, name: string, email: string, role: string, active: boolean}} Person */
/** @typedef {{id: string, title: string, builtin: boolean}} ScenarioSummary */

const form = /** @type {HTMLFormElement} */ ($("cohort-form"));
/** @type {Person[] | null} null: the people list is not available on this server */
let people = null;
/** @type {ScenarioSummary[]} */
let scenarios = [];
/** @type {Cohort | null} the cohort being edited (null: a new one) */
let editing = null;
let isAdmin = false;

/** @returns {Promise<Person[] | null>} */
async function loadPeople() {
  try {
    /** @type {Person[]} */
    const everyone = await api("/api/people");
    return everyone.filter((p) => p.active);
  } catch (error) {
    if (error instanceof ApiError && error.status !== 401) return null;
    throw error;
  }
}

/** @returns {Promise<ScenarioSummary[]>} */
async function loadScenarios() {
  try {
    return await api("/api/scenarios");
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return [];
    throw error;
  }
}

/** @param {string} id */
function scenarioTitle(id) {
  const found = scenarios.find((s) => s.id === id);
  return found ? found.title : id;
}

/** @param {Requirements} r */
function requires(r) {
  const parts = [];
  if (r.mediator_sessions) parts.push(`${r.mediator_sessions} as mediator`);
  if (r.party_sessions) parts.push(`${r.party_sessions} as a party`);
  if (r.hours) parts.push(`${r.hours} h`);
  if (r.feedback_read) parts.push("feedback read");
  if (r.reflections) parts.push("reflections");
  return parts.join(" · ") || "—";
}

/** @param {Cohort[]} cohorts */
function drawList(cohorts) {
  const body = /** @type {HTMLElement} */ (document.querySelector("#cohort-list tbody"));
  body.replaceChildren(
    ...cohorts.map((c) =>
      el(
        "tr",
        { dataset: { cohort: c.id } },
        el("td", {}, el("strong", {}, c.name), c.your_role ? el("span", { class: "hint" }, ` · you ${c.your_role}`) : null),
        el("td", {}, `${readableDate(c.starts_on)} – ${readableDate(c.ends_on)}`),
        el("td", {}, c.coaches.map((m) => m.name).join(", ") || "—"),
        el("td", {}, c.trainees.length ? `${c.trainees.length}: ${c.trainees.map((m) => m.name).join(", ")}` : "—"),
        el("td", {}, c.scenarios.map(scenarioTitle).join(", ") || "—"),
        el("td", {}, requires(c.requirements)),
        el("td", {}, isAdmin ? el("button", { type: "button", onclick: () => openEditor(c) }, "Edit") : null),
      ),
    ),
  );
  /** @type {HTMLElement} */ ($("no-cohorts")).hidden = cohorts.length > 0;
}

async function refresh() {
  /** @type {Cohort[]} */
  const cohorts = await api("/api/cohorts");
  drawList(cohorts);
  return cohorts;
}

/**
 * One checkbox per choice, in `box`; `name` groups them.
 * @param {HTMLElement} box @param {string} name
 * @param {{id: string, label: string, hint?: string}[]} choices @param {Set<string>} chosen
 */
function drawPicks(box, name, choices, chosen) {
  box.replaceChildren(
    ...choices.map((c) =>
      el(
        "div",
        { class: "check" },
        el("input", { type: "checkbox", id: `${name}-${c.id}`, name, value: c.id, checked: chosen.has(c.id) }),
        el("label", { for: `${name}-${c.id}` }, c.label, c.hint ? el("span", { class: "hint" }, ` ${c.hint}`) : null),
      ),
    ),
  );
  if (!choices.length) box.append(el("p", { class: "hint" }, "Nothing to choose from yet."));
}

/** @param {string} name @returns {string[]} */
function picked(name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => /** @type {HTMLInputElement} */ (i).value);
}

/** @param {"coaches" | "trainees"} role @param {Member[]} members */
function drawPeople(role, members) {
  const box = /** @type {HTMLElement} */ ($(`pick-${role}`));
  const ids = /** @type {HTMLInputElement} */ ($(`ids-${role}`));
  const chosen = new Set(members.map((m) => m.id));
  /** @type {HTMLElement} */ ($("people-unavailable")).hidden = people !== null;
  ids.hidden = people !== null;
  box.hidden = people === null;
  if (people === null) {
    ids.value = [...chosen].join(", ");
    return;
  }
  const choices = people.map((p) => ({ id: p.id, label: p.name, hint: p.email }));
  // a member the list no longer shows (deactivated since) stays visible, so saving drops them knowingly
  for (const m of members) if (!people.some((p) => p.id === m.id)) choices.push({ id: m.id, label: m.name, hint: "(inactive)" });
  drawPicks(box, role, choices, chosen);
}

/** @param {"coaches" | "trainees"} role @returns {string[]} */
function members(role) {
  if (people !== null) return picked(role);
  return value(form, `#ids-${role}`)
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** @param {Cohort | null} cohort */
function openEditor(cohort) {
  editing = cohort;
  clearErrors(form);
  problem("");
  /** @type {HTMLElement} */ ($("cohort-form-title")).textContent = cohort ? `Edit ${cohort.name}` : "New cohort";
  setInput("cohort-name", cohort ? cohort.name : "");
  setInput("cohort-starts", cohort ? cohort.starts_on : "");
  setInput("cohort-ends", cohort ? cohort.ends_on : "");
  const r = cohort ? cohort.requirements : null;
  setInput("req-mediator", r ? r.mediator_sessions : 0);
  setInput("req-party", r ? r.party_sessions : 0);
  setInput("req-hours", r ? r.hours : 0);
  setInput("req-feedback", r ? r.feedback_read : false);
  setInput("req-reflections", r ? r.reflections : false);
  drawPeople("coaches", cohort ? cohort.coaches : []);
  drawPeople("trainees", cohort ? cohort.trainees : []);
  const choices = scenarios.map((s) => ({ id: s.id, label: s.title, hint: s.builtin ? "(shipped)" : "" }));
  drawPicks(/** @type {HTMLElement} */ ($("pick-scenarios")), "scenario", choices, new Set(cohort ? cohort.scenarios : []));
  /** @type {HTMLElement} */ ($("delete-cohort")).hidden = !cohort;
  /** @type {HTMLElement} */ ($("cohort-saved")).textContent = "";
  form.hidden = false;
  /** @type {HTMLInputElement} */ ($("cohort-name")).focus();
}

/** A number field: "" is 0; anything else goes as typed, for the server to judge. @param {string} id */
function count(id) {
  const text = value(document, `#${id}`).trim();
  return text === "" ? 0 : Number(text);
}

async function save() {
  clearErrors(form);
  problem("");
  const fields = {
    name: value(form, "#cohort-name"),
    starts_on: value(form, "#cohort-starts"),
    ends_on: value(form, "#cohort-ends"),
    requirements: {
      mediator_sessions: count("req-mediator"),
      party_sessions: count("req-party"),
      hours: count("req-hours"),
      feedback_read: checked("req-feedback"),
      reflections: checked("req-reflections"),
    },
  };
  const button = /** @type {HTMLButtonElement} */ ($("save-cohort"));
  button.setAttribute("aria-busy", "true");
  try {
    /** @type {Cohort} */
    const saved = editing
      ? await api(`/api/cohorts/${encodeURIComponent(editing.id)}`, { method: "PATCH", body: fields })
      : await api("/api/cohorts", { method: "POST", body: fields });
    editing = saved; // a second save after a refusal below changes this cohort, not a new one
    const path = `/api/cohorts/${encodeURIComponent(saved.id)}`;
    await api(`${path}/members`, { method: "PUT", body: { coaches: members("coaches"), trainees: members("trainees") } });
    await api(`${path}/scenarios`, { method: "PUT", body: { scenarios: picked("scenario") } });
    form.hidden = true;
    await refresh();
    problem("");
    /** @type {HTMLElement} */ ($("cohort-saved")).textContent = `Saved ${saved.name}.`;
  } catch (error) {
    if (!showFieldError(form, error)) {
      const ids = error instanceof ApiError && Array.isArray(error.details.ids) ? ` (${error.details.ids.join(", ")})` : "";
      problem(`${error instanceof Error ? error.message : String(error)}${ids}`);
    }
  } finally {
    button.removeAttribute("aria-busy");
  }
}

async function remove() {
  if (!editing || !confirm(`Delete the cohort ${editing.name}? Its simulations stay, without a cohort.`)) return;
  try {
    await api(`/api/cohorts/${encodeURIComponent(editing.id)}`, { method: "DELETE" });
    form.hidden = true;
    editing = null;
    await refresh();
  } catch (error) {
    problem(error instanceof Error ? error.message : String(error));
  }
}

async function start() {
  const me = await startConsole("cohorts");
  isAdmin = me.role === "admin";
  const [found, summaries] = await Promise.all([isAdmin ? loadPeople() : Promise.resolve(null), loadScenarios()]);
  people = found;
  scenarios = summaries;
  const newButton = /** @type {HTMLButtonElement} */ ($("new-cohort"));
  newButton.hidden = !isAdmin;
  newButton.addEventListener("click", () => openEditor(null));
  clearOnInput(form);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    save();
  });
  /** @type {HTMLElement} */ ($("cancel-cohort")).addEventListener("click", () => {
    form.hidden = true;
    editing = null;
  });
  /** @type {HTMLElement} */ ($("delete-cohort")).addEventListener("click", remove);
  await refresh();
}

start().catch((error) => problem(error instanceof Error ? error.message : String(error)));
