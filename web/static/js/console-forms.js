// @ts-check
// Console forms: an API refusal that names a field (`field`: "name",
// "parties[1].name", "requirements.hours") is shown beside that field.
import { ApiError } from "./console.js";

/** Remove every field error shown in `root`. @param {ParentNode} root */
export function clearErrors(root) {
  for (const line of root.querySelectorAll("[data-error-for]")) line.textContent = "";
  for (const input of root.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/**
 * Show the refusal beside the field it names (the element with `data-error-for` equal
 * to the field, and mark the control with the same `data-field`); false if none does.
 * @param {ParentNode} root
 * @param {unknown} error
 */
export function showFieldError(root, error) {
  if (!(error instanceof ApiError) || typeof error.details.field !== "string") return false;
  const named = error.details.field;
  const field = CSS.escape(named);
  const line = root.querySelector(`[data-error-for="${field}"]`);
  if (!line) return false;
  // beside the field, "parties[1].name must not be empty" reads "Must not be empty"
  const rest = error.message.startsWith(`${named} `) ? error.message.slice(named.length + 1) : error.message;
  line.textContent = rest.charAt(0).toUpperCase() + rest.slice(1);
  const control = root.querySelector(`[data-field="${field}"]`);
  if (control instanceof HTMLElement) {
    control.setAttribute("aria-invalid", "true");
    const describedBy = line.id || `err-${Math.random().toString(36).slice(2)}`;
    line.id = describedBy;
    control.setAttribute("aria-describedby", describedBy);
    control.focus();
  }
  return true;
}

/**
 * The value of an <input> inside `root` (by selector); "" if missing.
 * @param {ParentNode} root @param {string} selector
 */
export function value(root, selector) {
  const input = root.querySelector(selector);
  return input instanceof HTMLInputElement || input instanceof HTMLTextAreaElement || input instanceof HTMLSelectElement
    ? input.value
    : "";
}

/**
 * Set an input's value (or a checkbox's state) by id.
 * @param {string} id @param {string | number | boolean} to
 */
export function setInput(id, to) {
  const input = document.getElementById(id);
  if (input instanceof HTMLInputElement && input.type === "checkbox") input.checked = Boolean(to);
  else if (input instanceof HTMLInputElement || input instanceof HTMLTextAreaElement || input instanceof HTMLSelectElement) {
    input.value = String(to);
  }
}

/** @param {string} id */
export function checked(id) {
  const input = document.getElementById(id);
  return input instanceof HTMLInputElement && input.checked;
}

/** An ISO date (YYYY-MM-DD) as people read it: "1 Mar 2027". @param {string} iso */
export function readableDate(iso) {
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(date);
}

/** Once a marked field is changed, its error goes (the server judges it again on save). @param {HTMLFormElement} form */
export function clearOnInput(form) {
  form.addEventListener("input", (event) => {
    const control = event.target;
    if (!(control instanceof HTMLElement) || !control.dataset.field) return;
    control.removeAttribute("aria-invalid");
    const line = form.querySelector(`[data-error-for="${CSS.escape(control.dataset.field)}"]`);
    if (line) line.textContent = "";
  });
}
