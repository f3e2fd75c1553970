// @ts-check
// How progress against a cohort's requirements is drawn, shared by the trainee's page
// and the console's cohort view. The server says what is done, needed, expected by now
// and whether someone is behind; this module only writes it down.
import { el } from "./dom.js";

/**
 * @typedef {{requirement: string, label: string, unit: string, done: number, needed: number,
 *   left: number, expected: number, met: boolean, behind: boolean, shortfall: number}} Item
 * @typedef {{items: Item[], left: Item[], complete: boolean, behind: boolean, overdue: boolean,
 *   lag: number, elapsed: number, counted: number, starts_ms: number, due_ms: number}} Progress
 * @typedef {{id: string, valid: boolean, issued_ms: number, revoked_ms: number | null,
 *   url: string, pdf: string}} Certificate
 */

/** "3.5 h" for minutes. @param {number} minutes */
export const hours = (minutes) => `${(minutes / 60).toFixed(1).replace(/\.0$/, "")} h`;

/** An amount of a requirement in its unit. @param {Item} item @param {number} value */
export function amount(item, value) {
  return item.unit === "minutes" ? hours(value) : String(value);
}

/** "12 Mar 2026" in `timeZone`. @param {number} ms @param {string} timeZone */
export function dateIn(ms, timeZone) {
  return new Intl.DateTimeFormat("en-GB", { timeZone, day: "numeric", month: "short", year: "numeric" }).format(new Date(ms));
}

/** The last day of the cohort: the day before `due_ms` (midnight after it). @param {Progress} p @param {string} timeZone */
export function lastDay(p, timeZone) {
  return dateIn(p.due_ms - 1, timeZone);
}

/** One word for where someone stands. @param {Progress} p */
export function standing(p) {
  if (p.complete) return ["complete", "Complete"];
  if (p.overdue) return ["overdue", "Overdue"];
  if (p.behind) return ["behind", "Behind schedule"];
  return ["on-track", "On track"];
}

/** @param {Progress} p */
export function statusChip(p) {
  const [kind, text] = standing(p);
  return el("span", { class: `status ${kind}`, dataset: { status: kind } }, text);
}

/** A bar showing a share from 0 to 1. @param {number} share @param {string} label */
export function meter(share, label) {
  const bar = el("span", {});
  bar.style.width = `${Math.round(Math.min(1, Math.max(0, share)) * 100)}%`;
  return el("span", { class: "meter", role: "img", "aria-label": label }, bar);
}

/** The table of requirements: done, needed, left, expected by now. @param {Progress} p */
export function requirementsTable(p) {
  const head = el("tr", {}, ...["Requirement", "Done", "Needed", "Left", "Expected by now", ""].map((t) => el("th", { scope: "col" }, t)));
  const rows = p.items.map((item) => {
    const share = item.needed ? item.done / item.needed : 1;
    return el("tr", { dataset: { requirement: item.requirement }, class: item.behind && !item.met ? "row-behind" : undefined },
      el("td", {}, item.label),
      el("td", { class: "number" }, amount(item, item.done)),
      el("td", { class: "number" }, amount(item, item.needed)),
      el("td", { class: "number" }, item.met ? "—" : amount(item, item.left)),
      el("td", { class: "number" }, amount(item, item.expected)),
      el("td", {}, meter(share, `${Math.round(Math.min(1, share) * 100)}% done`)));
  });
  return el("table", { class: "requirements" }, el("thead", {}, head), el("tbody", {}, ...rows));
}
