// @ts-check
// Console: practice rounds. Ask the matcher for a cohort's round (a scenario, a window of
// dates in the viewer's own zone), read the proposal (groups with their times in the
// viewer's zone and each member's own, scores, each rule met or not and why, who is not
// placed and why), swap two people by hand (the rules the swap breaks are listed),
// publish (the simulations are scheduled and everyone is told) or delete the draft.
import { $, el } from "./dom.js";
import { api, ApiError, problem, startConsole } from "./console.js";
import { zonedText } from "./zoned-time.js";

/**
 * @typedef {{id: string, name: string, time_zone: string, role: string, stated: boolean}} Member
 * @typedef {{rule: string, met: boolean, shortfall: number, detail: string}} RuleReport
 * @typedef {{start_ms: number, end_ms: number, coach: string, mediator: string, parties: string[],
 *   observers: string[], simulation: string | null, join_url: string | null,
 *   score: {mediator_before: number, fresh_pairs: number, repeat_pairs: [string, string, number][],
 *   levels: number[], mixed: boolean}}} Group
 * @typedef {{id: string, cohort: {id: string, name: string}, scenario: {id: string, title: string},
 *   window_start_ms: number, window_end_ms: number, duration_min: number, status: string,
 *   people: Record<string, Member>, groups: Group[], unplaced: {person: string, reason: string}[],
 *   rules: RuleReport[], viewer_time_zone: string, broken?: RuleReport[], mailed?: boolean}} Round
 * @typedef {{id: string, status: string, window_start_ms: number, groups: number, unplaced: number,
 *   scenario_id: string}} RoundSummary
 */

const RULES = {
  availability: "Everyone free on their own clock",
  no_double_booking: "Nobody booked twice",
  rotation: "Mediators rotate",
  fresh_pairings: "Fresh pairings",
  experience_mix: "Experience levels mix",
  coach_load: "Coaches' loads balanced",
};

let zone = "UTC";
/** @type {Round | null} */
let shown = null;

const input = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ ($(id));
const select = (/** @type {string} */ id) => /** @type {HTMLSelectElement} */ ($(id));

/** @param {unknown} error */
function report(error) {
  problem(error instanceof ApiError || error instanceof Error ? error.message : String(error));
}

/** "YYYY-MM-DD" of `ms` in `timeZone`. @param {number} ms @param {string} timeZone */
function dayIn(ms, timeZone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(ms));
}

/** "19:00" in `timeZone`. @param {number} ms @param {string} timeZone */
function clock(ms, timeZone) {
  return new Intl.DateTimeFormat("en-GB", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(ms));
}

/** @param {string} id */
function nameOf(id) {
  return (shown && shown.people[id] && shown.people[id].name) || id;
}

/** One person of a group: their seat, name, and the session's time on their own clock. */
function memberItem(/** @type {string} */ seat, /** @type {string} */ id, /** @type {Group} */ group) {
  const person = shown ? shown.people[id] : undefined;
  const own = person ? `${clock(group.start_ms, person.time_zone)}–${clock(group.end_ms, person.time_zone).slice(-5)} ${person.time_zone}` : "";
  return el(
    "li",
    { dataset: { person: id } },
    el("span", { class: "seat" }, `${seat}: `),
    nameOf(id),
    " ",
    el("span", { class: "own" }, `(${own})`),
  );
}

/** @param {Group} group @param {number} index */
function groupCard(group, index) {
  const s = group.score;
  const repeats = s.repeat_pairs.map(([a, b, n]) => `${nameOf(a)} & ${nameOf(b)} (met ${n}×)`);
  return el(
    "article",
    { class: "group", dataset: { group: String(index) } },
    el("h4", {}, `Group ${index + 1}: ${zonedText(group.start_ms, zone)}`),
    el("ul", {},
      memberItem("Mediator", group.mediator, group),
      ...group.parties.map((p, i) => memberItem(`Party ${String.fromCharCode(65 + i)}`, p, group)),
      ...group.observers.map((o) => memberItem("Observer", o, group)),
      memberItem("Coach", group.coach, group),
    ),
    el("p", { class: "score" },
      `Mediator's earlier mediations: ${s.mediator_before} · fresh pairs: ${s.fresh_pairs}` +
      (repeats.length ? ` · repeats: ${repeats.join(", ")}` : "") +
      ` · levels ${s.levels.join(", ")}${s.mixed ? " (mixed)" : ""}`),
    group.join_url ? el("p", {}, el("a", { href: group.join_url }, "Join link")) : null,
  );
}

/** The matcher's sentences name people by id: show their names. @param {string} text */
function named(text) {
  let out = text;
  for (const person of Object.values(shown ? shown.people : {})) out = out.split(person.id).join(person.name);
  return out;
}

/** @param {RuleReport} r */
function ruleItem(r) {
  return el("li", { class: r.met ? "met" : "missed", dataset: { rule: r.rule } },
    el("strong", {}, RULES[/** @type {keyof typeof RULES} */ (r.rule)] || r.rule), ": ", named(r.detail));
}

/** @param {Round} round */
function draw(round) {
  shown = round;
  $("round").hidden = false;
  const draft = round.status === "draft";
  $("round-heading").textContent = draft ? "Proposal (draft)" : "Published round";
  $("round").dataset.status = round.status;
  $("round-facts").textContent =
    `${round.scenario.title} · ${round.cohort.name} · ${zonedText(round.window_start_ms, zone, "short")} to ` +
    `${zonedText(round.window_end_ms, zone, "short")} · ${round.duration_min} minutes each · times in ${zone}`;
  $("rules").replaceChildren(...round.rules.map(ruleItem));
  $("groups").replaceChildren(...round.groups.map(groupCard));
  $("unplaced").replaceChildren(
    ...round.unplaced.map((u) => el("li", { dataset: { person: u.person } }, el("strong", {}, nameOf(u.person)), ` ${named(u.reason)}`)),
  );
  $("unplaced-none").hidden = round.unplaced.length > 0;
  const everyone = Object.values(round.people).sort((a, b) => a.role.localeCompare(b.role) || a.name.localeCompare(b.name));
  for (const id of ["swap-a", "swap-b"]) {
    const chosen = select(id).value;
    select(id).replaceChildren(
      ...everyone.map((p) => el("option", { value: p.id, selected: p.id === chosen }, `${p.name} (${p.role})`)),
    );
  }
  if (!select("swap-b").value || select("swap-b").value === select("swap-a").value) {
    select("swap-b").selectedIndex = Math.min(1, everyone.length - 1);
  }
  $("swap").hidden = !draft;
  $("publish").hidden = !draft;
  $("discard").hidden = !draft;
  $("publish-status").textContent = draft ? "" : "Published: everyone has it on their home page and calendar.";
  $("publish-status").className = draft ? "hint" : "hint published";
}

/** @type {{id: string, name: string, your_role: string | null, scenarios: string[]}[]} */
let cohorts = [];
/** @type {{id: string, title: string}[]} */
let scenarios = [];

/** The scenarios the chosen cohort uses (all when it names none). */
function drawScenarios() {
  const cohort = cohorts.find((c) => c.id === select("cohort").value);
  const allowed = cohort && cohort.scenarios && cohort.scenarios.length ? cohort.scenarios : null;
  const chosen = select("scenario").value;
  select("scenario").replaceChildren(
    ...scenarios
      .filter((s) => !allowed || allowed.includes(s.id))
      .map((s) => el("option", { value: s.id, selected: s.id === chosen }, s.title)),
  );
}

async function loadLevels() {
  const cohort = select("cohort").value;
  if (!cohort) return;
  /** @type {{trainees: {id: string, name: string, level: number}[]}} */
  const found = await api(`/api/cohorts/${encodeURIComponent(cohort)}/levels`);
  $("level-list").replaceChildren(
    ...found.trainees.map((t) => {
      const field = /** @type {HTMLInputElement} */ (el("input", { type: "number", min: "0", max: "9", name: t.id, "aria-label": `Level of ${t.name}` }));
      field.value = String(t.level);
      return el("li", {}, el("label", {}, t.name, field));
    }),
  );
}

async function saveLevels(/** @type {SubmitEvent} */ event) {
  event.preventDefault();
  problem("");
  /** @type {Record<string, number>} */
  const levels = {};
  for (const field of /** @type {NodeListOf<HTMLInputElement>} */ ($("level-list").querySelectorAll("input"))) {
    levels[field.name] = Number(field.value);
  }
  try {
    await api(`/api/cohorts/${encodeURIComponent(select("cohort").value)}/levels`, { method: "PUT", body: { levels } });
    $("levels-status").textContent = "Saved.";
    await loadLevels();
  } catch (error) {
    report(error);
  }
}

async function cohortChosen() {
  drawScenarios();
  $("levels-status").textContent = "";
  await Promise.all([listRounds(), loadLevels()]);
}

async function listRounds() {
  const cohort = select("cohort").value;
  if (!cohort) return;
  /** @type {RoundSummary[]} */
  const rounds = await api(`/api/rounds?cohort=${encodeURIComponent(cohort)}`);
  $("round-list").replaceChildren(
    ...rounds.map((r) =>
      el("li", {},
        el("button", { type: "button", class: "quiet", onclick: () => open(r.id) },
          `${dayIn(r.window_start_ms, zone)} · ${r.scenario_id} · ${r.groups} groups, ${r.unplaced} not placed · ${r.status}`),
      ),
    ),
  );
  $("round-none").hidden = rounds.length > 0;
}

/** @param {string} id */
async function open(id) {
  problem("");
  $("broken").textContent = "";
  draw(await api(`/api/rounds/${encodeURIComponent(id)}`));
}

async function propose(/** @type {SubmitEvent} */ event) {
  event.preventDefault();
  problem("");
  $("broken").textContent = "";
  const button = /** @type {HTMLButtonElement} */ ($("ask"));
  button.disabled = true;
  $("ask-status").textContent = "Matching…";
  /** @type {Record<string, unknown>} */
  const body = {
    cohort: select("cohort").value,
    scenario: select("scenario").value,
    from: input("from").value,
    to: input("to").value,
    observers: Number(input("observers").value || 0),
  };
  if (input("duration").value) body.duration_min = Number(input("duration").value);
  try {
    draw(await api("/api/rounds", { method: "POST", body }));
    $("ask-status").textContent = "Proposed.";
    await listRounds();
  } catch (error) {
    $("ask-status").textContent = "";
    report(error);
  } finally {
    button.disabled = false;
  }
}

async function swapTwo(/** @type {SubmitEvent} */ event) {
  event.preventDefault();
  if (!shown) return;
  problem("");
  try {
    /** @type {Round} */
    const after = await api(`/api/rounds/${shown.id}/swap`, {
      method: "POST",
      body: { a: select("swap-a").value, b: select("swap-b").value },
    });
    draw(after);
    const broken = after.broken || [];
    $("broken").replaceChildren(
      broken.length
        ? el("p", {}, "This swap breaks: ", ...broken.map((r, i) => `${i ? "; " : ""}${RULES[/** @type {keyof typeof RULES} */ (r.rule)] || r.rule} (${named(r.detail)})`))
        : el("p", { class: "published" }, "Swapped; no rule got worse."),
    );
    $("broken").dataset.count = String(broken.length);
  } catch (error) {
    report(error);
  }
}

async function publish() {
  if (!shown) return;
  problem("");
  const button = /** @type {HTMLButtonElement} */ ($("publish"));
  button.disabled = true;
  try {
    /** @type {Round} */
    const published = await api(`/api/rounds/${shown.id}/publish`, { method: "POST" });
    draw(published);
    if (published.mailed) $("publish-status").textContent += " Each person was mailed their time.";
    await listRounds();
  } catch (error) {
    report(error);
  } finally {
    button.disabled = false;
  }
}

async function discard() {
  if (!shown) return;
  problem("");
  try {
    await api(`/api/rounds/${shown.id}`, { method: "DELETE" });
    shown = null;
    $("round").hidden = true;
    await listRounds();
  } catch (error) {
    report(error);
  }
}

async function start() {
  const person = await startConsole("rounds");
  zone = person.time_zone || "UTC";
  $("zone-hint").textContent = `(${zone})`;
  const all = /** @type {typeof cohorts} */ (await api("/api/cohorts"));
  cohorts = all.filter((c) => c.your_role === null || c.your_role === "coach");
  select("cohort").replaceChildren(...cohorts.map((c) => el("option", { value: c.id }, c.name)));
  scenarios = await api("/api/scenarios");
  drawScenarios();
  const now = Date.now();
  input("from").value = dayIn(now + 86_400_000, zone);
  input("to").value = dayIn(now + 7 * 86_400_000, zone);
  $("propose").addEventListener("submit", propose);
  $("swap").addEventListener("submit", swapTwo);
  $("publish").addEventListener("click", publish);
  $("discard").addEventListener("click", discard);
  $("levels-form").addEventListener("submit", saveLevels);
  select("cohort").addEventListener("change", () => cohortChosen().catch(report));
  await cohortChosen();
  document.body.dataset.ready = "true";
}

start().catch(report);
