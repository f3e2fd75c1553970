// @ts-check
// Ending a simulation from the console (simulations and live rooms pages): a
// confirmation in the page's <dialog id="confirm-end">, then the API ends the room
// for everyone in it.
import { $ } from "./dom.js";
import { api } from "./console.js";

/**
 * Ask before ending; resolves true if the person confirmed.
 * @param {string} what e.g. the scenario's title and time
 * @returns {Promise<boolean>}
 */
export function confirmEnd(what) {
  const dialog = /** @type {HTMLDialogElement} */ ($("confirm-end"));
  $("confirm-end-text").textContent =
    `${what}: everyone in the room sees that it ended, and its recording closes.`;
  return new Promise((resolve) => {
    const yes = $("confirm-end-yes");
    const no = $("confirm-end-no");
    /** @param {boolean} answer */
    const done = (answer) => {
      yes.removeEventListener("click", onYes);
      no.removeEventListener("click", onNo);
      dialog.removeEventListener("cancel", onNo);
      dialog.close();
      resolve(answer);
    };
    const onYes = () => done(true);
    const onNo = () => done(false);
    yes.addEventListener("click", onYes);
    no.addEventListener("click", onNo);
    dialog.addEventListener("cancel", onNo);
    dialog.showModal();
    no.focus(); // the safe choice has the focus
  });
}

/** End simulation `id` for everyone. @param {string} id */
export function endSimulation(id) {
  return api(`/api/simulations/${encodeURIComponent(id)}/end`, { method: "POST" });
}
