// @ts-check
// A person's logbook: entries written by finished simulations and by hand, filtered and
// sorted by the server, shown in the person's own time zone; reflections written on any
// of one's own entries; practice outside Caucus added by hand; CSV, print and PDF exports.
// What each entry allows comes with it (`actions`): the page derives nothing.
import { $, el } from "./dom.js";
import { api, ApiError, me } from "./console.js";

/**
 * @typedef {{skill: string, name: string, average: number, count: number}} Rating
 * @typedef {{id: string, simulation_id: string | null, source: string, at_ms: number,
 *   duration_min: number, role: string, role_label: string, medium: string, medium_label: string,
 *   scenario: string, coach: string | null, co_participants: string[],
 *   feedback: {count: number, ratings: Rating[]}, went_well: string, challenging: string,
 *   next_steps: string, actions: string[]}} Entry
 * @typedef {{id: string, label: string}} Term
 * @typedef {{person: {id: string, name: string, time_zone: string}, own: boolean, period: string,
 *   entries: Entry[], totals: {sessions: number, minutes: number,
 *   by_role: {role: string, label: string, sessions: number, minutes: number}[]},
 *   vocabulary: {roles: Term[], media: Term[]}}} Book
 */

const FILTERS = ["role", "medium", "source", "from", "to", "q", "sort", "order"];
const REFLECTIONS = [
  ["went_well", "What went well"],
  ["challenging", "What was challenging"],
  ["next_steps", "What I will do next time"],
];

/** Whose logbook (a coach reading a trainee's passes ?person=). */
const person = new URLSearchParams(location.search).get("person");
let zone = "UTC";
let vocabularyShown = false;

/** @param {string} id */
const input = (id) => /** @type {HTMLInputElement} */ ($(id));

/** "Tue, 10 Mar 2026, 19:00" in `timeZone`. @param {number} ms @param {string} timeZone */
function formatWhen(ms, timeZone) {
  return new Intl.DateTimeFormat("en-GB", {
    timeZone, weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(new Date(ms));
}

/** The offset of `timeZone` from UTC at the instant `ms`, in ms. @param {number} ms @param {string} timeZone */
function offsetAt(ms, timeZone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(ms));
  /** @param {string} t */
  const n = (t) => Number((parts.find((p) => p.type === t) || { value: "0" }).value);
  return Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second")) - Math.floor(ms / 1000) * 1000;
}

/** The instant `ms` as a wall-clock "YYYY-MM-DDTHH:MM" in `timeZone`. @param {number} ms @param {string} timeZone */
function utcToWall(ms, timeZone) {
  const wall = new Date(ms + offsetAt(ms, timeZone)).toISOString();
  return wall.slice(0, 16);
}

/** A wall-clock "YYYY-MM-DDTHH:MM" in `timeZone` as UTC ms. @param {string} local @param {string} timeZone */
export function wallToUtc(local, timeZone) {
  const [day, time] = local.split("T");
  const [y, m, d] = day.split("-").map(Number);
  const [h, mi] = (time || "00:00").split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, h, mi);
  let guess = wall - offsetAt(wall, timeZone);
  guess = wall - offsetAt(guess, timeZone); // once more: the offset may differ across a DST change
  return guess;
}

function query() {
  const params = new URLSearchParams();
  if (person) params.set("person", person);
  for (const name of FILTERS) {
    const value = /** @type {HTMLInputElement | HTMLSelectElement} */ (document.querySelector(`#filters [name="${name}"]`)).value;
    if (value) params.set(name, value);
  }
  return params.toString();
}

/** @param {number} minutes */
const hours = (minutes) => (minutes / 60).toFixed(1);

/** @param {Book} book */
function showTotals(book) {
  const t = book.totals;
  const roles = t.by_role.map((r) => `${r.label} ${r.sessions}`).join(" · ");
  $("totals").textContent = `${t.sessions} ${t.sessions === 1 ? "session" : "sessions"}, ${hours(t.minutes)} hours${roles ? ` — ${roles}` : ""}`;
}

/** @param {Term[]} terms @param {HTMLSelectElement} select */
function fill(terms, select) {
  select.append(...terms.map((t) => el("option", { value: t.id }, t.label)));
}

/** @param {Entry} entry */
function feedbackLine(entry) {
  const { count, ratings } = entry.feedback;
  if (entry.source === "manual") return null;
  const rated = ratings.map((r) => `${r.name || r.skill} ${r.average}/5${r.count > 1 ? ` (${r.count})` : ""}`).join(", ");
  return el("p", { class: "hint" }, `${count} feedback ${count === 1 ? "note" : "notes"}${rated ? ` · ${rated}` : ""}`);
}

/** @param {Entry} entry */
function reflections(entry) {
  return REFLECTIONS.filter(([key]) => /** @type {Record<string, any>} */ (entry)[key]).map(([key, label]) =>
    el("div", { class: "reflection" }, el("h4", {}, label), el("p", {}, /** @type {Record<string, any>} */ (entry)[key])));
}

/** The reflections form on an entry. @param {Entry} entry @param {HTMLElement} item */
function reflectForm(entry, item) {
  const problem = el("p", { class: "problem", role: "alert" });
  const fields = REFLECTIONS.map(([key, label]) => {
    const id = `r-${entry.id}-${key}`;
    const area = el("textarea", { id, name: key, maxlength: 4000 });
    /** @type {HTMLTextAreaElement} */ (area).value = /** @type {Record<string, any>} */ (entry)[key];
    return el("div", {}, el("label", { for: id }, label), area);
  });
  const form = el("form", { class: "reflect-form" }, ...fields, problem,
    el("div", { class: "row" }, el("button", { class: "primary", type: "submit" }, "Save reflections"),
      el("button", { type: "button", onclick: () => form.remove() }, "Cancel")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    /** @type {Record<string, string>} */
    const body = {};
    for (const [key] of REFLECTIONS) body[key] = /** @type {HTMLTextAreaElement} */ (form.querySelector(`[name="${key}"]`)).value;
    try {
      const saved = await api(`/api/logbook/${encodeURIComponent(entry.id)}`, { method: "PATCH", body });
      item.replaceWith(entryItem(saved));
    } catch (error) {
      problem.textContent = error instanceof Error ? error.message : String(error);
    }
  });
  return form;
}

/** @param {Entry} entry @returns {HTMLElement} */
function entryItem(entry) {
  const item = el("li", { class: "card session entry", dataset: { id: entry.id, source: entry.source } });
  const others = entry.co_participants.length ? ` · with ${entry.co_participants.join(", ")}` : "";
  const buttons = [];
  if (entry.actions.includes("reflect")) {
    buttons.push(el("button", {
      type: "button",
      onclick: () => { if (!item.querySelector(".reflect-form")) item.append(reflectForm(entry, item)); },
    }, "Write reflections"));
  }
  if (entry.actions.includes("edit")) {
    buttons.push(el("button", { type: "button", onclick: () => startEditing(entry) }, "Edit"));
  }
  if (entry.actions.includes("delete")) {
    buttons.push(el("button", {
      type: "button", class: "danger",
      onclick: async () => {
        if (!confirm(`Delete the entry “${entry.scenario}”?`)) return;
        try {
          await api(`/api/logbook/${encodeURIComponent(entry.id)}`, { method: "DELETE" });
          await load();
        } catch (error) {
          $("logbook-problem").textContent = error instanceof Error ? error.message : String(error);
        }
      },
    }, "Delete"));
  }
  const parts = [
    el("h3", {}, entry.scenario, el("span", { class: "source" }, entry.source === "caucus" ? "Caucus" : "By hand")),
    el("p", { class: "when" }, el("time", { datetime: new Date(entry.at_ms).toISOString() }, formatWhen(entry.at_ms, zone)),
      ` · ${entry.duration_min} min`),
    el("p", { class: "facts" }, `${entry.role_label} · ${entry.medium_label}${entry.coach ? ` · coach ${entry.coach}` : ""}${others}`),
    feedbackLine(entry),
    ...reflections(entry),
    buttons.length ? el("div", { class: "row" }, ...buttons) : null,
  ];
  item.append(...parts.filter((part) => part !== null));
  return item;
}

async function load() {
  const q = query();
  /** @type {Book} */
  let book;
  try {
    book = await api(`/api/logbook?${q}`);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      $("logbook-problem").textContent = `Could not load the logbook: ${error instanceof Error ? error.message : error}`;
    }
    return;
  }
  $("logbook-problem").textContent = "";
  zone = book.person.time_zone;
  $("zone").textContent = `Times are shown in ${zone}.`;
  if (!book.own) $("logbook-title").textContent = `${book.person.name}’s logbook`;
  $("add").hidden = !book.own;
  if (!vocabularyShown) {
    fill(book.vocabulary.roles, /** @type {HTMLSelectElement} */ ($("f-role")));
    fill(book.vocabulary.media, /** @type {HTMLSelectElement} */ ($("f-medium")));
    fill(book.vocabulary.roles, /** @type {HTMLSelectElement} */ ($("a-role")));
    fill(book.vocabulary.media, /** @type {HTMLSelectElement} */ ($("a-medium")));
    vocabularyShown = true;
  }
  showTotals(book);
  $("entries").replaceChildren(...book.entries.map(entryItem));
  $("entries-none").hidden = book.entries.length > 0;
  for (const [id, path] of [["export-csv", "/api/logbook.csv"], ["export-print", "/logbook/print"], ["export-pdf", "/api/logbook.pdf"]]) {
    $(id).setAttribute("href", q ? `${path}?${q}` : path);
  }
  $("entries").dataset.loaded = "true";
}

/** The hand-written entry the form is changing (null: the form adds a new one). @type {Entry | null} */
let editing = null;

/** Fill the form with a hand-written entry to change it. @param {Entry} entry */
function startEditing(entry) {
  editing = entry;
  input("a-when").value = utcToWall(entry.at_ms, zone);
  input("a-duration").value = String(entry.duration_min);
  input("a-role").value = entry.role;
  input("a-medium").value = entry.medium;
  input("a-scenario").value = entry.scenario;
  input("a-coach").value = entry.coach || "";
  input("a-with").value = entry.co_participants.join(", ");
  input("a-went-well").value = entry.went_well;
  input("a-challenging").value = entry.challenging;
  input("a-next").value = entry.next_steps;
  $("add-summary").textContent = `Change “${entry.scenario}”`;
  $("add-submit").textContent = "Save changes";
  $("add-cancel").hidden = false;
  const details = /** @type {HTMLDetailsElement} */ ($("add"));
  details.open = true;
  details.scrollIntoView({ block: "start" });
  input("a-scenario").focus();
}

function stopEditing() {
  editing = null;
  /** @type {HTMLFormElement} */ ($("add-form")).reset();
  $("add-summary").textContent = "Add practice outside Caucus";
  $("add-submit").textContent = "Add to logbook";
  $("add-cancel").hidden = true;
  $("add-problem").textContent = "";
  /** @type {HTMLDetailsElement} */ ($("add")).open = false;
}

/** @param {SubmitEvent} event */
async function addEntry(event) {
  event.preventDefault();
  const when = input("a-when").value;
  if (!when) {
    $("add-problem").textContent = "Say when it happened.";
    return;
  }
  const body = {
    at_ms: wallToUtc(when, zone),
    duration_min: Number(input("a-duration").value),
    role: input("a-role").value,
    medium: input("a-medium").value,
    scenario: input("a-scenario").value,
    coach: input("a-coach").value,
    co_participants: input("a-with").value.split(",").map((s) => s.trim()).filter(Boolean),
    went_well: input("a-went-well").value,
    challenging: input("a-challenging").value,
    next_steps: input("a-next").value,
  };
  try {
    if (editing) {
      await api(`/api/logbook/${encodeURIComponent(editing.id)}`, { method: "PATCH", body });
    } else {
      await api("/api/logbook", { method: "POST", body });
    }
  } catch (error) {
    $("add-problem").textContent = error instanceof Error ? error.message : String(error);
    return;
  }
  stopEditing();
  await load();
}

async function start() {
  try {
    const who = await me();
    $("you").textContent = `${who.name} · ${who.role}`;
  } catch {
    return; // not signed in: api() is sending the page to sign in
  }
  let typing = 0;
  $("filters").addEventListener("change", () => { load(); });
  $("filters").addEventListener("input", (event) => {
    if (/** @type {HTMLElement} */ (event.target).id !== "f-q") return;
    clearTimeout(typing);
    typing = window.setTimeout(load, 300);
  });
  $("filters").addEventListener("submit", (event) => { event.preventDefault(); load(); });
  $("add-form").addEventListener("submit", addEntry);
  $("add-cancel").addEventListener("click", stopEditing);
  await load();
}

start();
