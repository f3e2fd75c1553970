// @ts-check
// Console: recordings — filter by cohort, person and date; open the playback; delete with
// a confirmation; the audit log of deletions. Times show in the signed-in person's zone.
import { $, el } from "./dom.js";
import { ApiError, api, problem, startConsole } from "./console.js";

/** @typedef {{id: string, title: string, created_ms: number, ran_ms: number | null, people: {seat: string, name: string}[], duration_ms: number, status: string}} Recording */
/** @typedef {{id: number, at_ms: number, actor: string, action: string, target: string, detail: Record<string, unknown>}} AuditEntry */

const DAY_MS = 24 * 3600 * 1000;
let timeZone = "UTC";
let admin = false;

/** @param {number} ms */
function when(ms) {
  return new Intl.DateTimeFormat(undefined, { timeZone, dateStyle: "medium", timeStyle: "short" }).format(ms);
}

/** @param {number} ms */
function length(ms) {
  const minutes = Math.round(ms / 60000);
  return minutes < 1 ? `${Math.round(ms / 1000)} s` : `${minutes} min`;
}

/** How far `timeZone`'s wall clock is ahead of UTC at instant `ms`. @param {number} ms */
function offsetAt(ms) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(ms).map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return wall - (ms - (ms % 1000));
}

/** UTC ms of midnight starting `date` (YYYY-MM-DD) in the person's time zone. @param {string} date */
function midnight(date) {
  const [y, m, d] = date.split("-").map(Number);
  const wall = Date.UTC(y, m - 1, d);
  const first = wall - offsetAt(wall);
  return wall - offsetAt(first); // right across a change of offset that night too
}

/** The query string of the filter form (empty fields left out). */
function query() {
  const params = new URLSearchParams();
  const cohort = /** @type {HTMLSelectElement} */ ($("filter-cohort")).value;
  const person = /** @type {HTMLInputElement} */ ($("filter-person")).value.trim();
  const from = /** @type {HTMLInputElement} */ ($("filter-from")).value;
  const to = /** @type {HTMLInputElement} */ ($("filter-to")).value;
  if (cohort && !$("cohort-filter")?.hidden) params.set("cohort", cohort);
  if (person) params.set("person", person);
  if (from) params.set("from", String(midnight(from)));
  if (to) params.set("to", String(midnight(to) + DAY_MS - 1));
  return params.toString();
}

/** @param {Recording} recording */
function row(recording) {
  const start = recording.ran_ms ?? recording.created_ms;
  const people = recording.people.map((p) => p.name).join(", ");
  const open = el("a", { class: "button-link", href: `/recordings/${encodeURIComponent(recording.id)}` }, "Open");
  const remove = admin && el("button", {
    class: "danger", type: "button", "aria-label": `Delete the recording of ${when(start)}`,
    onclick: () => confirmDelete(recording, start),
  }, "Delete");
  return el("tr", { dataset: { room: recording.id } },
    el("td", {}, el("time", { datetime: new Date(start).toISOString() }, when(start))),
    el("td", {}, recording.title),
    el("td", {}, people || "—"),
    el("td", {}, length(recording.duration_ms)),
    el("td", {}, recording.status),
    el("td", { class: "row-actions" }, open, remove),
  );
}

async function loadRecordings() {
  problem("");
  const search = query();
  /** @type {Recording[]} */
  let recordings;
  try {
    recordings = await api(`/api/recordings${search ? `?${search}` : ""}`);
  } catch (error) {
    problem(error instanceof Error ? error.message : String(error));
    return;
  }
  recordings.sort((a, b) => (b.ran_ms ?? b.created_ms) - (a.ran_ms ?? a.created_ms));
  const body = /** @type {HTMLTableElement} */ ($("recordings")).tBodies[0];
  body.replaceChildren(...recordings.map(row));
  const count = $("recordings-count");
  if (count) count.textContent = `${recordings.length} recording${recordings.length === 1 ? "" : "s"}${search ? " match" : ""}`;
}

/** @param {Recording} recording @param {number} start */
function confirmDelete(recording, start) {
  const dialog = /** @type {HTMLDialogElement} */ ($("confirm-delete"));
  const text = $("confirm-text");
  if (text) {
    text.textContent = `${recording.title}, ${when(start)}: its video, its timeline and every note on it`
      + " are deleted for everyone. This cannot be undone.";
  }
  dialog.returnValue = "";
  dialog.onclose = async () => {
    if (dialog.returnValue !== "delete") return;
    try {
      await api(`/api/recordings/${encodeURIComponent(recording.id)}`, { method: "DELETE" });
    } catch (error) {
      problem(`Not deleted: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    await Promise.all([loadRecordings(), loadAudit()]);
  };
  dialog.showModal();
}

async function loadAudit() {
  /** @type {AuditEntry[]} */
  let entries;
  try {
    entries = await api("/api/audit?limit=50");
  } catch (error) {
    // a coach may list recordings but not read the audit log: hide it from them
    if (error instanceof ApiError && (error.status === 403 || error.status === 401)) {
      const section = document.querySelector("section.audit");
      if (section instanceof HTMLElement) section.hidden = true;
      return;
    }
    throw error;
  }
  const body = /** @type {HTMLTableElement} */ ($("audit")).tBodies[0];
  if (entries.length === 0) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No deletions yet.")));
    return;
  }
  body.replaceChildren(...entries.map((entry) => el("tr", {},
    el("td", {}, when(entry.at_ms)),
    el("td", {}, entry.actor),
    el("td", {}, entry.action),
    el("td", {}, entry.target),
    el("td", {}, Object.entries(entry.detail).map(([k, v]) => `${k}: ${v}`).join(", ")),
  )));
}

/** The cohort filter, if this server has cohorts (`GET /api/cohorts`); hidden otherwise. */
async function loadCohorts() {
  /** @type {{id: string, name: string}[]} */
  let cohorts;
  try {
    const answer = await api("/api/cohorts");
    cohorts = Array.isArray(answer) ? answer : answer.cohorts;
    if (!Array.isArray(cohorts)) return;
  } catch {
    return; // no cohorts here (404) or not for this person: no cohort filter
  }
  const select = $("filter-cohort");
  if (!select) return;
  select.append(...cohorts.map((c) => el("option", { value: c.id }, c.name)));
  const label = $("cohort-filter");
  if (label) label.hidden = false;
}

async function start() {
  const person = await startConsole("recordings");
  timeZone = person.time_zone || "UTC";
  admin = person.role === "admin"; // only admins delete (the API refuses anyone else)
  const form = $("filters");
  form?.addEventListener("submit", (event) => {
    event.preventDefault();
    loadRecordings();
  });
  $("filter-clear")?.addEventListener("click", () => {
    /** @type {HTMLFormElement} */ (form).reset();
    loadRecordings();
  });
  await Promise.all([loadCohorts(), loadRecordings(), loadAudit()]);
  document.body.dataset.ready = "true";
}

start().catch((error) => problem(error instanceof Error ? error.message : String(error)));
