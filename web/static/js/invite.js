// @ts-check
// The invitation page (/invite/<token>): greet the person by name, let them
// choose a password, and sign them in. A used or expired link says so.
import { postJson } from "./account.js";

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const form = /** @type {HTMLFormElement} */ (byId("choose"));
const password = /** @type {HTMLInputElement} */ (byId("password"));
const again = /** @type {HTMLInputElement} */ (byId("again"));
const button = /** @type {HTMLButtonElement} */ (byId("choose-button"));
const problem = byId("problem");
const token = decodeURIComponent(location.pathname.split("/").pop() || "");
const api = `/api/invitations/${encodeURIComponent(token)}`;

const TITLES = {
  invitation_used: "This link has been used",
  invitation_expired: "This link has expired",
  unknown_invitation: "This link does not work",
};

/** @param {string} code @param {string} message */
function notice(code, message) {
  byId("loading").hidden = true;
  form.hidden = true;
  byId("notice-title").textContent = TITLES[/** @type {keyof TITLES} */ (code)] || "Something went wrong";
  byId("notice-text").textContent = message;
  byId("notice").hidden = false;
}

async function start() {
  let response;
  try {
    response = await fetch(api, { headers: { Accept: "application/json" } });
  } catch {
    notice("", "The server could not be reached. Check your connection and reload the page.");
    return;
  }
  const data = await response.json();
  if (!response.ok) {
    notice(data.code, data.message);
    return;
  }
  byId("loading").hidden = true;
  byId("greeting").textContent = `Welcome, ${data.name}`;
  byId("why").textContent = data.purpose === "reset"
    ? `Choose a new password for ${data.email}.`
    : `Choose a password for ${data.email}; you will use it to sign in from now on.`;
  /** @type {HTMLInputElement} */ (byId("username")).value = data.email;
  form.hidden = false;
  password.focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  problem.textContent = "";
  if (password.value.length < 10) {
    problem.textContent = "Choose a password of at least 10 characters.";
    return;
  }
  if (password.value !== again.value) {
    problem.textContent = "The two passwords are not the same.";
    return;
  }
  button.disabled = true;
  try {
    const { status, data } = await postJson(api, { password: password.value });
    if (status === 200 && data.ok) {
      location.assign(data.next);
      return;
    }
    if (status === 404 || status === 410) notice(data.code, data.message);
    else problem.textContent = data.message || "Could not set the password.";
  } catch {
    problem.textContent = "The server could not be reached. Check your connection and try again.";
  } finally {
    button.disabled = false;
  }
});

start();
