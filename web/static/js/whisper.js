// Whispers between the coach and the mediator: a log of both directions and a
// box to send one. The log is a live region, so a whisper is read out on arrival.
import { clock, el } from "./dom.js";

const MAX_CHARS = 1000;

/** section: the (hidden) element to fill; you: state.you; request(event, payload) → ack. */
export function createWhisperPanel(section, you, request) {
  const coach = you.role === "coach";
  const other = coach ? "the mediator" : "your coach";
  const heading = el("h2", { id: "whisper-heading" }, coach ? "Whispers with the mediator" : "Whispers from your coach");
  const hint = el("p", { class: "hint", id: "whisper-hint" }, coach
    ? "Only the mediator sees these. Enter sends; Shift+Enter adds a line."
    : "Only your coach sees your replies; the parties never see whispers. Enter sends.");
  const log = el("ol", { class: "whisper-log", role: "log", "aria-live": "polite", "aria-labelledby": "whisper-heading" });
  const empty = el("li", { class: "empty" }, "No whispers yet.");
  log.append(empty);
  const box = el("textarea", {
    id: "whisper-text", rows: 2, maxlength: MAX_CHARS,
    "aria-describedby": "whisper-hint",
  });
  const send = el("button", { type: "submit" }, coach ? "Send to mediator" : "Send to coach");
  const problem = el("p", { class: "problem", role: "alert" });
  const form = el("form", { class: "whisper-form" },
    el("label", { for: "whisper-text" }, coach ? "Whisper to the mediator" : "Reply to your coach"),
    box, el("div", { class: "row" }, send), problem);
  section.replaceChildren(heading, hint, log, form);
  section.hidden = false;

  function add(message, mine) {
    empty.remove();
    const who = mine ? "You" : message.from === "coach" ? "Coach" : "Mediator";
    const item = el("li", { class: mine ? "mine" : "theirs" },
      el("span", { class: "whisper-meta" }, `${who} · ${clock(message.t_ms || 0)}`),
      el("span", { class: "whisper-text" }, message.text));
    log.append(item);
    log.scrollTop = log.scrollHeight;
    if (!mine) {
      section.classList.add("fresh");
      setTimeout(() => section.classList.remove("fresh"), 4000);
    }
  }

  async function submit(event) {
    event.preventDefault();
    const text = box.value.trim();
    if (!text) {
      problem.textContent = "Write something first.";
      return;
    }
    problem.textContent = "";
    send.setAttribute("aria-busy", "true");
    const reply = await request("whisper", { text });
    send.setAttribute("aria-busy", "false");
    if (reply && reply.ok) {
      add({ from: you.seat, text, t_ms: reply.t_ms }, true);
      box.value = "";
    } else {
      problem.textContent = reply && reply.code === "not_seated"
        ? `Not sent: ${other} is not connected.`
        : `Not sent: ${(reply && reply.message) || "try again."}`;
    }
  }

  form.addEventListener("submit", submit);
  box.addEventListener("keydown", (e) => {
    // Enter sends, Shift+Enter starts a new line.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      form.requestSubmit();
    }
  });

  return { received: (message) => add(message, false) };
}
