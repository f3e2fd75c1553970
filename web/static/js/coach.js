// Phase controls: every transition for the coach (and admin), joint ⇄ caucus
// for the mediator. A control is enabled only when the move is valid now.
import { el } from "./dom.js";
import { canRequest, mayEverRequest } from "./phase.js";
import { characterName } from "./seats.js";

function moves(state) {
  const all = [
    {
      to: "joint",
      // The mediator only ever returns to the joint session; the coach also opens it.
      label: state.phase.kind === "caucus" || !state.you.capabilities.includes("drive_phases")
        ? "Back to joint session" : "Start joint session",
    },
    ...state.scenario.parties.map((p) => ({
      to: `caucus:${p.seat}`,
      label: `Caucus with ${characterName(state, p.seat)}`,
    })),
    { to: "timeout", label: "Time-out" },
    { to: "resume", label: "Resume" },
    { to: "debrief", label: "Debrief" },
    { to: "ended", label: "End session…", confirm: true },
  ];
  return all.filter((m) => mayEverRequest(m.to, state.you.capabilities));
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
      button.disabled = !canRequest(state.phase, to, state.you.capabilities);
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
        const focusedTo = document.activeElement?.dataset?.to;
        signature = sig;
        build();
        if (focusedTo && buttons.has(focusedTo)) buttons.get(focusedTo).focus();
      }
      refresh();
    },
  };
}
