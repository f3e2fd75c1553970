// @ts-check
// The console's shell: who is signed in, the section navigation, and one way to call
// the API (JSON in and out, the CSRF token on every write, 401 → the sign-in page).
import { $, el } from "./dom.js";

/** @typedef {{id: string, email: string, name: string, time_zone: string, role: string, csrf: string}} Me */

const SECTIONS = [
  ["live", "Live rooms"],
  ["simulations", "Simulations"],
  ["rounds", "Practice rounds"],
  ["cohorts", "Cohorts"],
  ["progress", "Progress"],
  ["people", "People"],
  ["scenarios", "Scenarios"],
  ["recordings", "Recordings"],
];

/** @type {Me | null} */
let current = null;

export class ApiError extends Error {
  /**
   * @param {number} status @param {string} code @param {string} message
   * @param {Record<string, any>} [details] the whole error body (`field`, `ids` where a route names them)
   */
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function toSignIn() {
  const next = location.pathname + location.search;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

/**
 * Call the API. Writes carry the session's CSRF token; a 401 sends the person to sign in.
 * @param {string} path
 * @param {{method?: string, body?: unknown}} [options]
 * @returns {Promise<any>}
 */
export async function api(path, options = {}) {
  const method = options.method || "GET";
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (method !== "GET" && current) headers["X-CSRF-Token"] = current.csrf;
  /** @type {RequestInit} */
  const init = { method, headers, credentials: "same-origin" };
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    toSignIn();
    throw new ApiError(401, "unauthorized", "sign in first");
  }
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const details = typeof data === "object" && data ? data : {};
    throw new ApiError(response.status, data.code || "error", data.message || response.statusText, details);
  }
  return data;
}

/** The signed-in person (cached); sends the page to sign in when nobody is. @returns {Promise<Me>} */
export async function me() {
  if (!current) current = await api("/api/me");
  return /** @type {Me} */ (current);
}

/**
 * Draw the header navigation with `active` marked, and show who is signed in.
 * @param {string} active one of the section names
 */
export async function startConsole(active) {
  const person = await me();
  const nav = $("console-nav");
  if (nav) {
    nav.replaceChildren(
      ...SECTIONS.map(([name, label]) =>
        el("a", { href: `/admin/${name}`, "aria-current": name === active ? "page" : undefined }, label),
      ),
      el("button", { type: "button", class: "quiet sign-out", onclick: signOut }, "Sign out"),
    );
  }
  const you = $("you");
  if (you) you.textContent = `${person.name} · ${person.role}`;
  return person;
}

/** End this browser's session and go to the sign-in page. */
export async function signOut() {
  await api("/logout", { method: "POST" });
  current = null;
  location.assign("/login");
}

/** Show a problem in the page's alert line (or clear it with ""). @param {string} message */
export function problem(message) {
  const line = $("console-problem");
  if (line) line.textContent = message;
}
