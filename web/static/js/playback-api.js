// The review pages' link to the REST API: the viewer's token (from the link's
// fragment, kept in sessionStorage so a reload works), authorised fetches with
// errors people can read, and downloads that need the Authorization header.
// Without a token the signed-in person's cookie authorises (writes send its CSRF token).
import { peekToken } from "./seats.js";

const TOKEN_KEY = "caucus.review.token";

/**
 * The viewer's token: `#token=…` in the URL (then removed from the address bar,
 * so it is not left in a screenshot or a copied link), else the one this tab
 * was given before. Null if there is none.
 */
export function viewerToken() {
  const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
  if (fromLink) {
    try { sessionStorage.setItem(TOKEN_KEY, fromLink); } catch { /* storage disabled: this load still works */ }
    history.replaceState(null, "", location.pathname + location.search);
    return fromLink;
  }
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; }
}

/** Who the token names: {identity, seat} for a seat token, {admin: true} otherwise. */
export function viewerOf(token) {
  const claims = peekToken(token || "");
  if (claims && typeof claims.sub === "string") return { identity: claims.sub, seat: claims.seat || null, admin: false };
  return { identity: null, seat: null, admin: true };
}

/** The recording's id: `/recordings/<id>`, or `?room=<id>` on the static page. */
export function roomFromLocation() {
  const query = new URLSearchParams(location.search).get("room");
  if (query) return query;
  const match = /^\/recordings\/([^/]+)\/?$/.exec(location.pathname);
  return match ? decodeURIComponent(match[1]) : null;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function explain(status, data) {
  const detail = data && typeof data.message === "string" ? data.message : "";
  switch (status) {
    case 401: return "Your review link is not valid any more. Ask your coach or administrator for a new one.";
    case 403: return `Not allowed: ${detail || "only the note's author or an admin may change it"}.`;
    case 404: return `Not found: ${detail || "it may have been deleted meanwhile"}. Reload to see the latest.`;
    default: return detail || `The server answered ${status}.`;
  }
}

/** fetch() with the Bearer token (none: the session cookie); JSON in and out. Throws ApiError
 * with a readable message. */
export function createApi(token) {
  let csrf = null;
  async function csrfToken() {
    if (csrf === null) {
      const response = await fetch("/api/me", { cache: "no-store" });
      csrf = response.ok ? (await response.json()).csrf : "";
    }
    return csrf;
  }

  async function send(method, path, body) {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    if (!token && method !== "GET") headers["X-CSRF-Token"] = await csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "offline", "Cannot reach the Caucus server. Check your connection and try again.");
    }
    if (!response.ok) {
      let data = null;
      try { data = await response.json(); } catch { /* not JSON: say the status */ }
      throw new ApiError(response.status, (data && data.code) || `http_${response.status}`, explain(response.status, data));
    }
    return response;
  }

  return {
    get: async (path) => (await send("GET", path)).json(),
    post: async (path, body) => (await send("POST", path, body)).json(),
    patch: async (path, body) => (await send("PATCH", path, body)).json(),
    delete: async (path) => (await send("DELETE", path)).json(),
    /** Save what `path` returns as `filename`: a Blob URL, since a plain link cannot send the header. */
    async download(path, filename) {
      const blob = await (await send("GET", path)).blob();
      const url = URL.createObjectURL(blob);
      const link = Object.assign(document.createElement("a"), { href: url, download: filename });
      link.hidden = true;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
  };
}
