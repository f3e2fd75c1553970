// Small DOM helpers. Server and user text only ever reaches the page through
// textContent (never innerHTML): names, briefs and whispers are plain text.

export const $ = (id) => document.getElementById(id);

/** el("button", {class: "x", onclick: f, "aria-label": "…"}, "text", child) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key === "style") {
      // Through the CSSOM: the Content-Security-Policy (style-src 'self') blocks style attributes.
      node.style.cssText = value;
    } else if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (value === true) {
      node.setAttribute(key, "");
    } else {
      node.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Fill `node` with one <p> per blank-line-separated paragraph of `text`. */
export function paragraphs(node, text) {
  const parts = String(text || "").split(/\n\s*\n/).filter((t) => t.trim());
  node.replaceChildren(...parts.map((t) => el("p", {}, t)));
}

export function show(node, visible) {
  node.hidden = !visible;
}

/**
 * Say something to screen readers through a polite live region. Messages from
 * one moment (a phase change that also starts the recording) are read together;
 * the region is cleared first so that the same message twice is read twice.
 */
let pending = [];
export function announce(text) {
  const region = $("announcer");
  if (!region) return;
  pending.push(text);
  if (pending.length > 1) return;
  region.textContent = "";
  setTimeout(() => {
    region.textContent = pending.join(" ");
    pending = [];
  }, 50);
}

/** "mm:ss" or "h:mm:ss" for a duration in milliseconds (sign ignored). */
export function clock(ms) {
  const total = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(s)}` : `${two(m)}:${two(s)}`;
}
