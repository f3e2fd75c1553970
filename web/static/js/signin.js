// @ts-check
// The sign-in page: email and password, then on to where the person was going
// (`?next=`, which the server follows only for paths on this site).
import { postJson } from "./account.js";

const form = /** @type {HTMLFormElement} */ (document.getElementById("sign-in"));
const email = /** @type {HTMLInputElement} */ (document.getElementById("email"));
const password = /** @type {HTMLInputElement} */ (document.getElementById("password"));
const button = /** @type {HTMLButtonElement} */ (document.getElementById("sign-in-button"));
const problem = /** @type {HTMLElement} */ (document.getElementById("problem"));

email.focus();
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  problem.textContent = "";
  if (!email.value.trim() || !password.value) {
    problem.textContent = "Enter your email and your password.";
    return;
  }
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const next = new URLSearchParams(location.search).get("next") || undefined;
    const { status, data } = await postJson("/login", {
      email: email.value.trim(), password: password.value, next,
    });
    if (status === 200 && data.ok) {
      location.assign(data.next);
      return;
    }
    if (status === 429) problem.textContent = "Too many failed attempts. Wait a minute, then try again.";
    else if (status === 401) problem.textContent = "That email and password do not match an active account.";
    else problem.textContent = data.message || "Could not sign in.";
    password.select();
  } catch {
    problem.textContent = "The server could not be reached. Check your connection and try again.";
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
});
