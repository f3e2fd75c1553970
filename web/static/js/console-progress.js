// @ts-check
// The console's view of a cohort's progress: every trainee against the requirements,
// who is behind first (the server's order), sortable by any column; an admin may
// revoke a certificate. Coaches see the cohorts they coach, admins every cohort.
import { $, el } from "./dom.js";
import { api, ApiError, problem, startConsole } from "./console.js";
import { amount, meter, statusChip, standing } from "./progress-view.js";

/**
 * @typedef {import("./progress-view.js").Progress} Progress
 * @typedef {import("./progress-view.js").Certificate} Certificate
 * @typedef {{person_id: string, name: string, progress: Progress, certificate: Certificate | null}} Row
 * @typedef {{id: string, name: string, starts_on: string, ends_on: string, your_role: string | null,
 *   requirements: Record<string, number | boolean>}} CohortInfo
 * @typedef {{key: string, label: string, value: (row: Row) => number | string, cell: (row: Row) => Node | string}} Column
 */

/** @type {Row[]} */
let rows = [];
let admin = false;
/** @type {{key: string, descending: boolean} | null} */
let sorting = null;

const select = /** @type {HTMLSelectElement} */ ($("cohort"));

/** @param {Row} row @param {string} requirement */
const itemOf = (row, requirement) => row.progress.items.find((i) => i.requirement === requirement);

/** @param {Row} row */
function certificateCell(row) {
  const cert = row.certificate;
  if (!cert) return row.progress.complete ? "not asked for yet" : "—";
  if (!cert.valid) return el("span", { class: "status overdue" }, "revoked");
  const cell = el("span", { class: "certificate-line" },
    el("a", { href: cert.url }, "valid"),
    el("a", { href: cert.pdf, download: `certificate-${cert.id}.pdf` }, "PDF"));
  if (admin) {
    const revoke = el("button", { type: "button", class: "small danger", "aria-label": `Revoke ${row.name}'s certificate` }, "Revoke");
    revoke.addEventListener("click", async () => {
      if (!confirm(`Revoke ${row.name}'s certificate? Its verification page will say it is revoked.`)) return;
      try {
        await api(`/api/certificates/${encodeURIComponent(cert.id)}/revoke`, { method: "POST" });
        await load(select.value);
      } catch (error) {
        problem(error instanceof ApiError ? error.message : String(error));
      }
    });
    cell.append(revoke);
  }
  return cell;
}

/** The columns for the requirements this cohort asks for. @param {Row[]} found @returns {Column[]} */
function columns(found) {
  const items = found.length ? found[0].progress.items : [];
  /** @type {Column[]} */
  const shown = [
    {
      key: "name",
      label: "Trainee",
      value: (r) => r.name.toLowerCase(),
      cell: (r) => el("span", {}, r.name, " · ",
        el("a", { href: `/feedback?person=${encodeURIComponent(r.person_id)}`, "aria-label": `Feedback and digest for ${r.name}` }, "feedback")),
    },
    {
      key: "status",
      label: "Status",
      value: (r) => ["overdue", "behind", "on-track", "complete"].indexOf(standing(r.progress)[0]),
      cell: (r) => statusChip(r.progress),
    },
    {
      key: "lag",
      label: "Short of pace",
      value: (r) => -r.progress.lag,
      cell: (r) => {
        const short = r.progress.items.filter((i) => i.behind && !i.met);
        return short.length ? short.map((i) => `${i.label}: ${amount(i, i.expected - i.done)} short`).join("; ") : "—";
      },
    },
  ];
  for (const item of items) {
    shown.push({
      key: item.requirement,
      label: item.label,
      value: (r) => { const i = itemOf(r, item.requirement); return i && i.needed ? i.done / i.needed : 1; },
      cell: (r) => {
        const i = itemOf(r, item.requirement);
        if (!i) return "—";
        const share = i.needed ? i.done / i.needed : 1;
        return el("span", { class: i.behind && !i.met ? "behind" : undefined },
          `${amount(i, i.done)} / ${amount(i, i.needed)} `, meter(share, `${Math.round(Math.min(1, share) * 100)}%`));
      },
    });
  }
  shown.push({ key: "certificate", label: "Certificate", value: (r) => (r.certificate ? (r.certificate.valid ? 0 : 1) : 2), cell: certificateCell });
  return shown;
}

function render() {
  const cols = columns(rows);
  let ordered = rows;
  if (sorting) {
    const col = cols.find((c) => c.key === sorting?.key);
    if (col) {
      const sign = sorting.descending ? -1 : 1;
      ordered = [...rows].sort((a, b) => {
        const x = col.value(a), y = col.value(b);
        return (x < y ? -1 : x > y ? 1 : 0) * sign;
      });
    }
  }
  $("trainees-head").replaceChildren(el("tr", {}, ...cols.map((c) => {
    const on = sorting && sorting.key === c.key;
    const button = el("button", { type: "button", class: "quiet sort", dataset: { sort: c.key } }, c.label);
    button.addEventListener("click", () => {
      sorting = { key: c.key, descending: Boolean(on && !sorting?.descending) };
      render();
    });
    return el("th", { scope: "col", "aria-sort": on ? (sorting?.descending ? "descending" : "ascending") : undefined }, button);
  })));
  $("trainees-body").replaceChildren(...ordered.map((r) => el("tr", {
    dataset: { person: r.person_id, status: standing(r.progress)[0] },
    class: r.progress.behind ? "row-behind" : undefined,
  }, ...cols.map((c) => el("td", {}, c.cell(r))))));
  $("trainees-none").hidden = rows.length > 0;
  const behind = rows.filter((r) => r.progress.behind).length;
  const done = rows.filter((r) => r.progress.complete).length;
  $("progress-summary").textContent = `${rows.length} trainees · ${done} complete · ${behind} behind schedule`;
}

/** @param {string} cohortId */
async function load(cohortId) {
  problem("");
  const table = $("trainees");
  table.dataset.loaded = "false";
  /** @type {{cohort: CohortInfo, trainees: Row[]}} */
  const data = await api(`/api/tracker/cohorts/${encodeURIComponent(cohortId)}`);
  rows = data.trainees;
  $("cohort-dates").textContent = `${data.cohort.starts_on} to ${data.cohort.ends_on}`;
  render();
  table.dataset.loaded = "true";
}

async function start() {
  try {
    const person = await startConsole("progress");
    admin = person.role === "admin";
    /** @type {CohortInfo[]} */
    const cohorts = await api("/api/cohorts");
    const mine = cohorts.filter((c) => c.your_role === null || c.your_role === "coach");
    select.replaceChildren(...mine.map((c) => el("option", { value: c.id }, c.name)));
    if (!mine.length) {
      problem("You coach no cohort yet.");
      return;
    }
    const wanted = new URLSearchParams(location.search).get("cohort");
    if (wanted && mine.some((c) => c.id === wanted)) select.value = wanted;
    select.addEventListener("change", () => {
      history.replaceState(null, "", `?cohort=${encodeURIComponent(select.value)}`);
      sorting = null;
      load(select.value).catch((error) => problem(error.message));
    });
    await load(select.value);
  } catch (error) {
    problem(error instanceof ApiError ? error.message : String(error));
  }
}

start();
