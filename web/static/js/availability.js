// @ts-check
// A person states when they can practise: weekly times and dated exceptions, all on their
// own clock (the zone of their account, shown at the top). The server checks everything
// and names the field at fault; the page marks that field.
import { $, el } from "./dom.js";
import { api, ApiError, me } from "./console.js";

/**
 * @typedef {{weekday: number, start: string, end: string}} Slot
 * @typedef {{kind: string, start: string, end: string}} Dated
 * @typedef {{time_zone: string, weekly: Slot[], exceptions: Dated[]}} Statement
 */

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const KINDS = [
  ["unavailable", "Away"],
  ["extra", "Also free"],
];

/** @param {string} text */
function say(text) {
  $("availability-problem").textContent = text;
}

/** @param {string} name @param {string} label @param {[string, string][]} options @param {string} value */
function select(name, label, options, value) {
  return el(
    "select",
    { name, "aria-label": label },
    ...options.map(([v, text]) => el("option", { value: v, selected: v === value }, text)),
  );
}

/** @param {string} name @param {string} label @param {string} type @param {string} value */
function input(name, label, type, value) {
  const node = /** @type {HTMLInputElement} */ (el("input", { name, type, "aria-label": label, required: true }));
  node.value = value;
  return node;
}

/** @param {HTMLElement} row */
function removeButton(row, what) {
  return el("button", { type: "button", class: "quiet", "aria-label": `Remove ${what}`, onclick: () => row.remove() }, "Remove");
}

/** @param {Slot} slot */
function slotRow(slot) {
  const row = el("tr", { class: "slot" });
  const n = $("weekly").children.length + 1;
  row.append(
    el("td", {}, select("weekday", `Day ${n}`, DAYS.map((d, i) => [String(i), d]), String(slot.weekday))),
    el("td", {}, input("start", `From, row ${n}`, "time", slot.start)),
    el("td", {}, input("end", `To, row ${n}`, "time", slot.end)),
    el("td", {}, removeButton(row, `weekly time ${n}`)),
  );
  return row;
}

/** @param {Dated} dated */
function exceptionRow(dated) {
  const row = el("tr", { class: "exception" });
  const n = $("exceptions").children.length + 1;
  row.append(
    el("td", {}, select("kind", `Kind, exception ${n}`, /** @type {[string, string][]} */ (KINDS), dated.kind)),
    el("td", {}, input("start", `From, exception ${n}`, "datetime-local", dated.start)),
    el("td", {}, input("end", `Until, exception ${n}`, "datetime-local", dated.end)),
    el("td", {}, removeButton(row, `exception ${n}`)),
  );
  return row;
}

/** @param {Statement} statement */
function draw(statement) {
  $("weekly").replaceChildren();
  for (const slot of statement.weekly) $("weekly").append(slotRow(slot));
  $("exceptions").replaceChildren();
  for (const dated of statement.exceptions) $("exceptions").append(exceptionRow(dated));
  $("weekly-none").hidden = statement.weekly.length > 0;
}

/** @param {HTMLElement} row @param {string} name */
const value = (row, name) => /** @type {HTMLInputElement} */ (row.querySelector(`[name="${name}"]`)).value;

/** The statement the form holds now. */
function read() {
  const weekly = [...$("weekly").children].map((row) => ({
    weekday: Number(value(/** @type {HTMLElement} */ (row), "weekday")),
    start: value(/** @type {HTMLElement} */ (row), "start"),
    end: value(/** @type {HTMLElement} */ (row), "end"),
  }));
  const exceptions = [...$("exceptions").children].map((row) => ({
    kind: value(/** @type {HTMLElement} */ (row), "kind"),
    start: value(/** @type {HTMLElement} */ (row), "start").slice(0, 16),
    end: value(/** @type {HTMLElement} */ (row), "end").slice(0, 16),
  }));
  return { weekly, exceptions };
}

/** Mark the field a refusal names ("weekly[2].start", "exceptions[0]"). @param {string} field */
function mark(field) {
  const match = /^(weekly|exceptions)\[(\d+)\](?:\.(\w+))?$/.exec(field || "");
  if (!match) return;
  const row = /** @type {HTMLElement | undefined} */ ($(match[1]).children[Number(match[2])]);
  if (!row) return;
  const target = /** @type {HTMLElement | null} */ (match[3] ? row.querySelector(`[name="${match[3]}"]`) : row.querySelector("select, input"));
  if (target) {
    target.setAttribute("aria-invalid", "true");
    target.focus();
  }
}

async function save(event) {
  event.preventDefault();
  say("");
  $("saved").textContent = "";
  for (const node of document.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const button = /** @type {HTMLButtonElement} */ ($("save"));
  button.disabled = true;
  try {
    /** @type {Statement} */
    const stored = await api("/api/me/availability", { method: "PUT", body: read() });
    draw(stored);
    $("saved").textContent = "Saved.";
  } catch (error) {
    if (error instanceof ApiError) {
      say(error.message);
      mark(error.details.field);
    } else {
      say("The server could not be reached; nothing was saved.");
    }
  } finally {
    button.disabled = false;
  }
}

async function start() {
  const person = await me();
  $("you").textContent = person.name;
  /** @type {Statement} */
  const statement = await api("/api/me/availability");
  $("zone").textContent = `Times are on your own clock: ${statement.time_zone}. Change your time zone in Settings.`;
  draw(statement);
  $("add-slot").addEventListener("click", () => {
    $("weekly").append(slotRow({ weekday: 0, start: "18:00", end: "20:00" }));
    $("weekly-none").hidden = true;
  });
  $("add-exception").addEventListener("click", () => {
    const today = new Date().toISOString().slice(0, 10);
    $("exceptions").append(exceptionRow({ kind: "unavailable", start: `${today}T00:00`, end: `${today}T23:59` }));
  });
  $("availability-form").addEventListener("submit", save);
  document.body.dataset.ready = "true";
}

start().catch((error) => say(error instanceof Error ? error.message : String(error)));
