// @ts-check
// A trainee's progress in each cohort they train in: what is done, what is left and by
// when (their own time zone), whether they keep pace; once every requirement is met,
// the certificate of completion, issued on demand, with its PDF and its public check.
import { $, el } from "./dom.js";
import { api, ApiError, me } from "./console.js";
import { amount, dateIn, lastDay, requirementsTable, statusChip } from "./progress-view.js";

/**
 * @typedef {import("./progress-view.js").Progress} Progress
 * @typedef {import("./progress-view.js").Certificate} Certificate
 * @typedef {{cohort: {id: string, name: string, starts_on: string, ends_on: string},
 *   progress: Progress, certificate: Certificate | null}} Mine
 */

let zone = "UTC";

/** @param {Certificate} cert */
function certificateLine(cert) {
  if (!cert.valid) {
    return el("p", { class: "certificate-line problem" },
      `Your certificate was revoked${cert.revoked_ms ? ` on ${dateIn(cert.revoked_ms, zone)}` : ""}. Ask an administrator.`);
  }
  return el("p", { class: "certificate-line" },
    el("strong", {}, `Certificate issued ${dateIn(cert.issued_ms, zone)}.`),
    el("a", { class: "button-link", href: cert.pdf, download: `certificate-${cert.id}.pdf` }, "Download the PDF"),
    el("a", { href: cert.url, id: `verify-${cert.id}` }, "Public verification page"));
}

/** @param {Mine} mine */
function cohortCard(mine) {
  const { cohort, progress: p, certificate } = mine;
  const problem = el("p", { class: "problem", role: "alert" });
  const card = el("section", { class: "card cohort-progress", dataset: { cohort: cohort.id }, "aria-labelledby": `c-${cohort.id}` },
    el("h2", { id: `c-${cohort.id}` }, cohort.name, " ", statusChip(p)),
    el("p", { class: "hint" }, `${cohort.starts_on} to ${cohort.ends_on} · everything by the end of ${lastDay(p, zone)} (your time)`),
    p.items.length ? requirementsTable(p) : el("p", {}, "This cohort asks for nothing: you are complete."),
  );
  if (!p.complete) {
    const left = p.left.map((item) => `${item.label.toLowerCase()} (${amount(item, item.left)} more)`).join(", ");
    card.append(el("p", { class: "left" }, `Left to do by ${lastDay(p, zone)}: ${left}.`));
  }
  if (certificate) {
    card.append(certificateLine(certificate));
  } else if (p.complete) {
    const button = el("button", { type: "button", class: "primary", id: `issue-${cohort.id}` }, "Get your certificate");
    button.addEventListener("click", async () => {
      problem.textContent = "";
      button.disabled = true;
      try {
        await api(`/api/tracker/me/certificates/${encodeURIComponent(cohort.id)}`, { method: "POST" });
        await load();
      } catch (error) {
        problem.textContent = error instanceof ApiError ? error.message : String(error);
        button.disabled = false;
      }
    });
    card.append(el("p", { class: "certificate-line" }, button));
  }
  card.append(problem);
  return card;
}

async function load() {
  /** @type {{cohorts: Mine[]}} */
  const data = await api("/api/tracker/me");
  const list = $("cohorts");
  list.replaceChildren(...data.cohorts.map(cohortCard));
  list.dataset.loaded = "true";
  $("cohorts-none").hidden = data.cohorts.length > 0;
}

async function start() {
  try {
    const person = await me();
    zone = person.time_zone;
    $("you").textContent = person.name;
    $("zone").textContent = `Dates in your time zone, ${zone}.`;
    await load();
  } catch (error) {
    $("progress-problem").textContent = error instanceof ApiError ? error.message : String(error);
  }
}

start();
