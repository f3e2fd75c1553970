// @ts-check
// One trainee's feedback across sessions: each rubric skill's ratings over time (an inline
// SVG drawn here with DOM calls, the same numbers in a table beside it), the notes addressed
// to them, and the digests their coach writes and shares. A coach opens ?person=<id>; the
// server says whether the caller may write (`may_write`) and which digests they see.
import { $, el } from "./dom.js";
import { api, ApiError, me } from "./console.js";

/**
 * @typedef {{at_ms: number | null, rating: number, session: string, scenario: string, note: string}} Point
 * @typedef {{skill: string, points: Point[]}} Series
 * @typedef {{id: string, session: string, scenario: string, time: string, text: string,
 *   skill: string | null, skill_name?: string | null, rating: number | null, author_seat: string | null}} Note
 * @typedef {{version: number, strengths: string, develop: string, next_steps: string,
 *   shared_ms: number | null, updated_ms: number}} Earlier
 * @typedef {{id: string, author: string | null, strengths: string, develop: string, next_steps: string,
 *   status: string, version: number, history: Earlier[], created_ms: number, updated_ms: number,
 *   shared_ms: number | null, pdf: string | null}} Digest
 * @typedef {{trainee: {id: string, name: string, time_zone: string}, may_write: boolean,
 *   max_rating: number, feedback: {ratings: Series[], notes: Note[]}, digests: Digest[]}} Data
 */

const SVG = "http://www.w3.org/2000/svg";
const MAX_CHARS = 8000;
/** Distinct hues, readable on white (Okabe–Ito). */
const COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000", "#999933"];
const SECTIONS = /** @type {const} */ ([
  ["strengths", "Strengths", "d-strengths"],
  ["develop", "Areas to develop", "d-develop"],
  ["next_steps", "Next steps", "d-next"],
]);
const DAY_MS = 86_400_000;

const person = new URLSearchParams(location.search).get("person");
/** @type {Data | null} */
let data = null;
/** the digest being edited in the form, if any */
let editing = /** @type {string | null} */ (null);

/** @param {string} id */
const area = (id) => /** @type {HTMLTextAreaElement} */ ($(id));

/** @param {number} ms @param {string} timeZone */
function day(ms, timeZone) {
  return new Intl.DateTimeFormat("en-GB", { timeZone, day: "numeric", month: "short", year: "numeric" }).format(new Date(ms));
}

/** An SVG element with attributes. @param {string} tag @param {Record<string, string | number>} attrs @param {...Node} children */
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  node.append(...children);
  return node;
}

/** @param {string} text */
function svgTitle(text) {
  const title = document.createElementNS(SVG, "title");
  title.textContent = text;
  return title;
}

/** @param {string} text @param {Record<string, string | number>} attrs */
function svgText(text, attrs) {
  const node = svg("text", attrs);
  node.textContent = text;
  return node;
}

/** Draw every skill's ratings against time, one series (a line and its points) per skill. @param {Data} d */
function drawPlot(d) {
  const zone = d.trainee.time_zone;
  const series = d.feedback.ratings.map((s) => ({ ...s, points: s.points.filter((p) => p.at_ms !== null) }))
    .filter((s) => s.points.length);
  const figure = $("plot");
  figure.querySelectorAll("svg, ul.legend").forEach((n) => n.remove());
  $("plot-none").hidden = series.length > 0;
  figure.hidden = series.length === 0;
  $("plot-data").hidden = series.length === 0;
  const rows = series.flatMap((s) => s.points.map((p) => ({ skill: s.skill, ...p })))
    .sort((a, b) => (a.at_ms ?? 0) - (b.at_ms ?? 0));
  $("ratings-table").querySelector("tbody")?.replaceChildren(
    ...rows.map((r) => el("tr", {}, el("td", {}, r.skill), el("td", {}, day(r.at_ms ?? 0, zone)), el("td", {}, r.scenario), el("td", {}, `${r.rating} / ${d.max_rating}`))),
  );
  if (!series.length) return;

  const width = 640, height = 260, left = 48, right = 48, top = 12, bottom = 36;
  const times = rows.map((r) => r.at_ms ?? 0);
  let first = Math.min(...times), last = Math.max(...times);
  if (last - first < DAY_MS) { first -= DAY_MS / 2; last += DAY_MS / 2; }
  const x = (/** @type {number} */ t) => left + ((t - first) / (last - first)) * (width - left - right);
  const y = (/** @type {number} */ r) => top + ((d.max_rating - r) / (d.max_rating - 1)) * (height - top - bottom);

  const plot = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "plot-title plot-desc", "data-series": series.length });
  const title = svgTitle(`${d.trainee.name}: rubric ratings over time`);
  title.id = "plot-title";
  const desc = document.createElementNS(SVG, "desc");
  desc.id = "plot-desc";
  desc.textContent = series.map((s) => `${s.skill}: ${s.points.map((p) => p.rating).join(", ")}`).join("; ");
  plot.append(title, desc);

  const grid = svg("g", { class: "axis" });
  for (let r = 1; r <= d.max_rating; r++) {
    grid.append(svg("line", { x1: left, x2: width - right, y1: y(r), y2: y(r) }));
    grid.append(svgText(String(r), { x: left - 8, y: y(r) + 4, "text-anchor": "end" }));
  }
  /** one tick per day that has ratings (the first rating of that day), at most six */
  const byDay = new Map();
  for (const t of times) if (!byDay.has(day(t, zone))) byDay.set(day(t, zone), t);
  const ticks = [...byDay.values()];
  const step = Math.max(1, Math.ceil(ticks.length / 6));
  ticks.filter((_, i) => i % step === 0).forEach((t) => {
    grid.append(svg("line", { x1: x(t), x2: x(t), y1: height - bottom, y2: height - bottom + 4 }));
    grid.append(svgText(day(t, zone), { x: x(t), y: height - bottom + 18, "text-anchor": "middle" }));
  });
  plot.append(grid);

  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const group = svg("g", { class: "series", "data-skill": s.skill, stroke: colour, fill: colour });
    group.append(svgTitle(s.skill));
    group.append(svg("polyline", { points: s.points.map((p) => `${x(p.at_ms ?? 0)},${y(p.rating)}`).join(" ") }));
    for (const p of s.points) {
      group.append(svg("circle", { cx: x(p.at_ms ?? 0), cy: y(p.rating), r: 4 },
        svgTitle(`${s.skill}: ${p.rating} / ${d.max_rating} on ${day(p.at_ms ?? 0, zone)} (${p.scenario})`)));
    }
    plot.append(group);
  });
  const legend = el("ul", { class: "legend", "aria-hidden": "true" },
    ...series.map((s, i) => el("li", {}, el("span", { class: "swatch", style: `background:${COLOURS[i % COLOURS.length]}` }), s.skill)));
  $("plot-caption").before(plot, legend);
}

/** @param {{strengths: string, develop: string, next_steps: string}} text */
function sections(text) {
  return SECTIONS.filter(([name]) => text[name].trim()).flatMap(([name, heading]) => [
    el("h4", {}, heading),
    el("p", { class: "section-text" }, text[name]),
  ]);
}

/** @param {Digest} digest @param {Data} d */
function digestItem(digest, d) {
  const zone = d.trainee.time_zone;
  const when = digest.shared_ms ? `shared ${day(digest.shared_ms, zone)}` : `draft, saved ${day(digest.updated_ms, zone)}`;
  const heading = el("h3", {}, `Digest by ${digest.author || "an administrator"}`,
    el("span", { class: `status ${digest.status}` }, digest.status === "shared" ? "Shared" : "Draft"));
  const facts = el("p", { class: "hint" }, `${when} · version ${digest.version}`
    + (digest.version > 1 ? `, edited ${day(digest.updated_ms, zone)}` : ""));
  const actions = el("div", { class: "row" });
  if (digest.pdf) actions.append(el("a", { class: "button-link", href: digest.pdf }, "Download PDF"));
  if (d.may_write) {
    actions.append(el("button", { type: "button", onclick: () => edit(digest) }, "Edit"));
    if (digest.status === "draft") {
      actions.append(el("button", { type: "button", class: "primary", onclick: () => share(digest) }, `Share with ${d.trainee.name}`));
    }
  }
  const history = digest.history.length
    ? el("details", {}, el("summary", {}, `Earlier versions (${digest.history.length})`),
      ...digest.history.slice().reverse().map((h) => el("div", { class: "earlier" },
        el("p", { class: "hint" }, `Version ${h.version}` + (h.shared_ms ? `, shared ${day(h.shared_ms, zone)}` : "")),
        ...sections(h))))
    : null;
  return el("li", { class: "card digest", dataset: { digest: digest.id, status: digest.status } },
    heading, facts, ...sections(digest), history, actions);
}

/** @param {Note} note @param {Data} d */
function noteItem(note, d) {
  const skill = note.skill ? ` · ${note.skill_name || note.skill}${note.rating ? ` ${note.rating} / ${d.max_rating}` : ""}` : "";
  return el("li", { class: "card", dataset: { note: note.id } },
    el("p", { class: "meta" }, `${note.scenario} · at ${note.time.slice(0, 8)}${skill}`),
    el("p", { class: "text" }, note.text || "(a rating without words)"));
}

/** @param {Data} d */
function render(d) {
  const own = !person;
  $("feedback-title").textContent = own ? "Your feedback" : `Feedback for ${d.trainee.name}`;
  document.title = `Caucus — ${own ? "your feedback" : `feedback for ${d.trainee.name}`}`;
  $("notes-heading").textContent = own ? "Notes addressed to you" : `Notes addressed to ${d.trainee.name}`;
  $("zone").textContent = `Dates in ${d.trainee.time_zone}.`;
  drawPlot(d);
  $("digest-form").hidden = !d.may_write;
  $("digests").replaceChildren(...d.digests.map((g) => digestItem(g, d)));
  $("digests-none").hidden = d.digests.length > 0;
  $("notes").replaceChildren(...d.feedback.notes.map((n) => noteItem(n, d)));
  $("notes-none").hidden = d.feedback.notes.length > 0;
  count();
}

function count() {
  const used = SECTIONS.reduce((n, [, , id]) => n + area(id).value.length, 0);
  $("d-count").textContent = `${used} of ${MAX_CHARS} characters`;
  /** @type {HTMLButtonElement} */ ($("d-save")).disabled = used > MAX_CHARS;
}

/** @param {Digest} digest */
function edit(digest) {
  editing = digest.id;
  for (const [name, , id] of SECTIONS) area(id).value = digest[name];
  $("digest-form-title").textContent = `Edit the digest (version ${digest.version})`;
  $("d-save").textContent = digest.status === "shared" ? "Save a new version" : "Save draft";
  $("d-cancel").hidden = false;
  count();
  area("d-strengths").focus();
}

function resetForm() {
  editing = null;
  for (const [, , id] of SECTIONS) area(id).value = "";
  $("digest-form-title").textContent = "Write a digest";
  $("d-save").textContent = "Save draft";
  $("d-cancel").hidden = true;
  count();
}

/** @param {unknown} error */
function say(error) {
  $("digest-problem").textContent = error instanceof ApiError ? error.message : String(error);
}

/** @param {Digest} digest */
async function share(digest) {
  try {
    await api(`/api/digests/${encodeURIComponent(digest.id)}/share`, { method: "POST" });
    $("digest-problem").textContent = "";
    await load();
  } catch (error) {
    say(error);
  }
}

/** @param {SubmitEvent} event */
async function save(event) {
  event.preventDefault();
  if (!data) return;
  /** @type {Record<string, string>} */
  const text = {};
  for (const [name, , id] of SECTIONS) text[name] = area(id).value;
  try {
    if (editing) await api(`/api/digests/${encodeURIComponent(editing)}`, { method: "PATCH", body: text });
    else await api(`/api/trainees/${encodeURIComponent(data.trainee.id)}/digests`, { method: "POST", body: text });
    $("digest-problem").textContent = "";
    resetForm();
    await load();
  } catch (error) {
    say(error);
  }
}

async function load() {
  const main = $("main");
  const you = await me();
  $("you").textContent = ` · ${you.name}`;
  const identity = person || you.id;
  try {
    data = /** @type {Data} */ (await api(`/api/trainees/${encodeURIComponent(identity)}/digest`));
    render(data);
  } catch (error) {
    $("feedback-problem").textContent = error instanceof ApiError ? error.message : String(error);
  }
  main.dataset.loaded = "true";
}

$("digest-form").addEventListener("submit", (event) => save(/** @type {SubmitEvent} */ (event)));
$("d-cancel").addEventListener("click", resetForm);
for (const [, , id] of SECTIONS) area(id).addEventListener("input", count);
load();
