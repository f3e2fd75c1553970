// @ts-check
// What the sign-in and invitation pages share: one JSON POST that carries the
// CSRF token when this browser is already signed in (the server refuses a
// signed-in browser's write without it, even a new sign-in).

/**
 * POST `body` as JSON; resolves to the parsed answer and the HTTP status.
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<{status: number, data: any}>}
 */
export async function postJson(path, body) {
  /** @type {Record<string, string>} */
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  // /api/signed-in always answers 200, so a newcomer's console shows no refused request
  const state = await (await fetch("/api/signed-in", { credentials: "same-origin" })).json();
  if (state.signed_in) headers["X-CSRF-Token"] = state.csrf;
  const response = await fetch(path, {
    method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin",
  });
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : { message: response.statusText };
  return { status: response.status, data };
}
