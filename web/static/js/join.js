// Join page skeleton: take the seat named by the token in the URL fragment and
// show the room state the server sends for it. The full client builds on this.
import { io } from "/vendor/socket.io/socket.io.esm.min.js";

const room = decodeURIComponent(location.pathname.split("/").pop());
const token = new URLSearchParams(location.hash.slice(1)).get("token");
const $ = (id) => document.getElementById(id);

function paragraphs(el, text) {
  el.replaceChildren(...String(text || "").split("\n\n").map((t) => {
    const p = document.createElement("p");
    p.textContent = t; // never innerHTML: briefs and names are text
    return p;
  }));
}

function render(state) {
  $("title").textContent = state.scenario.title;
  $("phase").textContent = `Phase: ${state.phase.name}`;
  paragraphs($("summary"), state.scenario.summary);
  paragraphs($("brief"), Object.values(state.briefs).join("\n\n"));
  $("roster").replaceChildren(...state.roster.map((p) => {
    const li = document.createElement("li");
    li.textContent = `${p.name} (${p.role})${p.connected ? "" : " — reconnecting"}`;
    return li;
  }));
}

function fail(message) {
  $("error").hidden = false;
  $("error").textContent = message;
}

if (!token) {
  fail("This link has no seat token. Ask your coach for your join link.");
} else {
  const socket = io({ transports: ["websocket"] });
  socket.on("connect", async () => {
    $("connection").textContent = "connected";
    const reply = await socket.emitWithAck("join", { token, room });
    if (!reply.ok) fail(reply.message);
    else render(reply.state);
  });
  socket.on("disconnect", () => { $("connection").textContent = "reconnecting…"; });
  socket.on("room_state", render);
  socket.on("replaced", () => fail("You joined from another window; this one is closed."));
}
