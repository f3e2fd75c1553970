// @ts-check
// Console: people. Invite (the link is shown to copy, and mailed when the server
// sends mail), deactivate and reactivate, reset a password, edit role and time zone.
import { $, el } from "./dom.js";
import { api, ApiError, problem, startConsole } from "./console.js";

/**
 * @typedef {{id: string, email: string, name: string, time_zone: string, role: string,
 *   active: boolean, has_password: boolean, created_ms: number, deactivated_ms: number | null,
 *   cohorts: {id: string, name: string, role: string}[]}} Account
 * @typedef {{person: {name: string, email: string}, link: string, purpose: string,
 *   expires_ms: number, mailed: boolean}} HandedOut
 */

const ROLES = ["trainee", "coach", "admin"];

/** @param {string} id */
const input = (id) => /** @type {HTMLInputElement} */ ($(id));

/** @type {{id: string, time_zone: string} | null} */
let me = null;

function fillTimeZones() {
  const zones = new Set(["UTC", ...Intl.supportedValuesOf("timeZone")]);
  $("time-zones").replaceChildren(...[...zones].map((zone) => el("option", { value: zone })));
}

/** @param {unknown} error */
function report(error) {
  problem(error instanceof ApiError ? error.message : "The server could not be reached.");
}

/** @param {number} ms */
function when(ms) {
  return new Intl.DateTimeFormat(undefined, {
    dateStyle: "medium", timeStyle: "short", timeZone: me ? me.time_zone : undefined,
  }).format(new Date(ms));
}

/** Show a link to copy. @param {HandedOut} handed */
function showLink(handed) {
  const reset = handed.purpose === "reset";
  $("link-title").textContent = reset
    ? `New password link for ${handed.person.name}`
    : `Invitation link for ${handed.person.name}`;
  $("link-note").textContent =
    `It works once, until ${when(handed.expires_ms)}.` +
    (handed.mailed ? ` It is also being mailed to ${handed.person.email}.` : " Send it to them yourself.");
  $("link").textContent = handed.link;
  $("copied").textContent = "";
  $("link-panel").hidden = false;
}

/** @param {Account} person */
function status(person) {
  if (!person.active) return "deactivated";
  return person.has_password ? "active" : "invited";
}

/** @param {string} label @param {() => Promise<void>} action @param {string} [cls] */
function button(label, action, cls) {
  const b = el("button", { type: "button", class: cls }, label);
  b.addEventListener("click", async () => {
    b.disabled = true;
    problem("");
    try {
      await action();
    } catch (error) {
      report(error);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/** People whose last deactivation some server node did not answer: id → those nodes. */
const unreached = new Map();

/**
 * Deactivate (again: it is safe to repeat) and end their seats on every node; say so
 * when a node did not answer, whose room may keep their seat connected.
 * @param {Account} person
 */
async function deactivate(person) {
  /** @type {{seats_ended: number, nodes_unreached: string[]}} */
  const answer = await api(`/api/people/${person.id}/deactivate`, { method: "POST" });
  if (answer.nodes_unreached.length) unreached.set(person.id, answer.nodes_unreached);
  else unreached.delete(person.id);
  await load();
  const nodes = unreached.get(person.id);
  if (nodes) {
    problem(`${person.name} is deactivated and signed out, but ${nodes.join(", ")} did not ` +
      "answer: a seat they hold in a room there may stay connected. " +
      "Use “End their seats again” once it is back.");
  }
}

/** A row in view mode. @param {Account} person */
function row(person) {
  const state = status(person);
  const self = me !== null && person.id === me.id;
  const actions = el("div", { class: "actions" },
    button("Edit", async () => { tr.replaceWith(editRow(person)); }),
    person.active && !self
      ? button("Reset password", async () => {
        showLink(await api(`/api/people/${person.id}/reset`, { method: "POST" }));
        await load();
      })
      : null,
    self ? null : person.active
      ? button("Deactivate", () => deactivate(person), "danger")
      : button("Reactivate", async () => {
        await api(`/api/people/${person.id}/reactivate`, { method: "POST" });
        await load();
      }),
    !person.active && unreached.has(person.id)
      ? button("End their seats again", () => deactivate(person), "danger")
      : null,
  );
  const tr = el("tr", { dataset: { person: person.id, active: String(person.active) } },
    el("td", {}, person.name),
    el("td", {}, person.email),
    el("td", {}, person.role),
    el("td", {}, person.time_zone),
    el("td", {}, el("span", { class: "status", dataset: { status: state } }, state)),
    el("td", {}, person.cohorts.map((c) => `${c.name} (${c.role})`).join(", ") || "—"),
    el("td", {}, actions),
  );
  return tr;
}

/** A row in edit mode: name, role and time zone. @param {Account} person */
function editRow(person) {
  const name = el("input", { type: "text", value: person.name, maxlength: "80", "aria-label": `Name of ${person.email}` });
  const role = el("select", { "aria-label": `Role of ${person.email}` },
    ...ROLES.map((r) => el("option", { value: r, selected: r === person.role }, r)));
  const zone = el("input", {
    type: "text", list: "time-zones", value: person.time_zone, maxlength: "64",
    "aria-label": `Time zone of ${person.email}`,
  });
  const save = button("Save", async () => {
    await api(`/api/people/${person.id}`, {
      method: "PATCH",
      body: {
        name: /** @type {HTMLInputElement} */ (name).value,
        role: /** @type {HTMLSelectElement} */ (role).value,
        time_zone: /** @type {HTMLInputElement} */ (zone).value.trim(),
      },
    });
    await load();
  }, "primary");
  const tr = el("tr", { dataset: { person: person.id, editing: "true" } },
    el("td", {}, name),
    el("td", {}, person.email),
    el("td", {}, role),
    el("td", {}, zone),
    el("td", {}, status(person)),
    el("td", {}, ""),
    el("td", {}, el("div", { class: "actions" }, save, button("Cancel", async () => { tr.replaceWith(row(person)); }))),
  );
  return tr;
}

async function load() {
  /** @type {Account[]} */
  const people = await api("/api/people");
  $("people-rows").replaceChildren(...people.map(row));
}

async function invite() {
  const body = {
    email: input("invite-email").value.trim(),
    name: input("invite-name").value.trim(),
    role: /** @type {HTMLSelectElement} */ ($("invite-role")).value,
    time_zone: input("invite-zone").value.trim() || "UTC",
  };
  const handed = await api("/api/people", { method: "POST", body });
  showLink(handed);
  /** @type {HTMLFormElement} */ ($("invite")).reset();
  await load();
}

$("invite").addEventListener("submit", async (event) => {
  event.preventDefault();
  problem("");
  const go = /** @type {HTMLButtonElement} */ ($("invite-button"));
  go.disabled = true;
  try {
    await invite();
  } catch (error) {
    report(error);
  } finally {
    go.disabled = false;
  }
});

$("copy").addEventListener("click", async () => {
  const link = $("link").textContent || "";
  try {
    await navigator.clipboard.writeText(link);
    $("copied").textContent = "Copied.";
  } catch {
    // no clipboard permission (e.g. plain http): select the text for Ctrl+C
    const range = document.createRange();
    range.selectNodeContents($("link"));
    getSelection()?.removeAllRanges();
    getSelection()?.addRange(range);
    $("copied").textContent = "Selected: press Ctrl+C (⌘C) to copy.";
  }
});

async function start() {
  fillTimeZones();
  try {
    me = await startConsole("people");
    await load();
  } catch (error) {
    report(error);
  }
}

start();
