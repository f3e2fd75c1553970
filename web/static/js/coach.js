// Phase controls: one button for each phase request this seat could ever make and
// enabled only while the server says the request is valid now (state.actions).
import { el } from "./dom.js";
import { characterName } from "./seats.js";

/** A button's words for the request `to`. */
function labelOf(state, to) {
  if (to === "joint") {
    // Opening the session from the lobby is a start; from anywhere else it is a return.
    const starts = state.phase.kind === "lobby" && state.actions.phases.includes("joint");
    return starts ? "Start joint session" : "Back to joint session";
  }
  if (to.startsWith("caucus:")) return `Caucus with ${characterName(state, to.slice("caucus:".length))}`;
  return { timeout: "Time-out", resume: "Resume", debrief: "Debrief", ended: "End session…" }[to] || to;
}

/** The buttons this seat has, in the server's order. */
function moves(state) {
  return state.actions.phase_controls.map((to) => ({ to, label: labelOf(state, to), confirm: to === "ended" }));
}

/** section: the (initially hidden) element to fill; request(event, payload) → ack. */
export function createPhaseControls(section, request) {
  const heading = el("h2", { id: "phase-controls-heading" }, "Session controls");
  const group = el("div", { class: "phase-buttons", role: "group", "aria-labelledby": "phase-controls-heading" });
  const question = el("p", { id: "end-question" }, "End the session for everyone? This cannot be undone.");
  const endNow = el("button", { type: "button", class: "danger", "aria-describedby": "end-question" }, "End now");
  const cancel = el("button", { type: "button" }, "Cancel");
  const confirm = el("div", { class: "confirm", role: "group", "aria-label": "Confirm ending the session", hidden: true },
    question, el("div", { class: "row" }, endNow, cancel));
  const problem = el("p", { class: "problem", role: "alert" });
  section.replaceChildren(heading, group, confirm, problem);

  let state = null;
  let busy = false;
  let signature = "";
  const buttons = new Map();

  async function go(to) {
    if (busy) return;
    busy = true;
    problem.textContent = "";
    refresh();
    const reply = await request("phase", { to });
    busy = false;
    if (!reply || !reply.ok) {
      problem.textContent = (reply && reply.message) || "The phase could not be changed.";
    }
    refresh();
  }

  function askToEnd() {
    confirm.hidden = false;
    endNow.focus();
  }

  function closeConfirm() {
    confirm.hidden = true;
    buttons.get("ended")?.focus();
  }

  endNow.addEventListener("click", () => { confirm.hidden = true; go("ended"); });
  cancel.addEventListener("click", closeConfirm);
  confirm.addEventListener("keydown", (e) => { if (e.key === "Escape") closeConfirm(); });

  function build() {
    buttons.clear();
    group.replaceChildren(...moves(state).map((m) => {
      const button = el("button", {
        type: "button",
        class: m.to === "ended" ? "danger" : m.to.startsWith("caucus:") ? "caucus" : "",
        dataset: { to: m.to },
        onclick: () => (m.confirm ? askToEnd() : go(m.to)),
      }, m.label);
      buttons.set(m.to, button);
      return button;
    }));
  }

  function refresh() {
    if (!state) return;
    const focused = [...buttons.values()].find((b) => b === document.activeElement);
    for (const [to, button] of buttons) {
      button.disabled = !state.actions.phases.includes(to);
      // A request in flight is shown, not blocked by disabling: disabling would drop focus.
      button.setAttribute("aria-busy", String(busy));
    }
    // The control just used may no longer be valid: keep focus in the group, on the first valid one.
    if (focused && focused.disabled) group.querySelector("button:not([disabled])")?.focus();
  }

  function signatureOf(s) {
    return moves(s).map((m) => `${m.to}=${m.label}`).join("|");
  }

  return {
    update(next) {
      state = next;
      section.hidden = false;
      const sig = signatureOf(next);
      if (sig !== signature) {
        // The first button's wording follows the phase; keep focus where it was.
        const focusedTo = /** @type {HTMLElement | null} */ (document.activeElement)?.dataset?.to;
        signature = sig;
        build();
        if (focusedTo && buttons.has(focusedTo)) buttons.get(focusedTo).focus();
      }
      refresh();
    },
  };
}
