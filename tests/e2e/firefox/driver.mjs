// Drives one Firefox ESR page over WebDriver BiDi for the Python e2e tests
// (tests/e2e/firefox_page.py). One JSON command per stdin line:
//   {"id": 1, "op": "goto", "url": "..."}
//   {"id": 2, "op": "evaluate", "script": "(x) => x + 1", "arg": 41}
//   {"id": 3, "op": "waitForFunction", "script": "...", "arg": ..., "polling": 100, "timeout": 10000}
//   {"id": 4, "op": "click", "selector": "#join-button"}
//   {"id": 5, "op": "screenshot", "path": "/abs/file.png"}
//   {"id": 6, "op": "close"}
// One JSON line per answer on stdout: {"id": 1, "ok": true, "value": ...} or
// {"id": 1, "ok": false, "error": "..."}; page errors arrive unasked as
// {"event": "error" | "warn", "text": "..."}. Diagnostics go to stderr.
// Usage: node driver.mjs FIREFOX_EXECUTABLE
import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

const executablePath = process.argv[2] || "/usr/bin/firefox-esr";

// Fake camera and microphone without a prompt, and ICE that works on loopback:
// the test media server offers only 127.0.0.1 host candidates. (puppeteer's own
// profile already turns off updates, telemetry and first-run pages.)
const PREFS = {
  "media.navigator.streams.fake": true,
  "media.navigator.permission.disabled": true,
  // Without it Firefox gathers no 127.0.0.1 candidate and ICE never connects.
  "media.peerconnection.ice.loopback": true,
  // Real addresses, not mDNS names the server cannot resolve. Firefox already
  // skips the obfuscation once the page holds a camera; this covers a page without one.
  "media.peerconnection.ice.obfuscate_host_addresses": false,
};

function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

// A Playwright-style page function (or plain expression) called with `arg`.
function call(script, arg) {
  return `(() => { const f = (${script}); return typeof f === "function" ? f(${JSON.stringify(arg ?? null)}) : f; })()`;
}

let closing = false;
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath,
  headless: true,
  protocol: "webDriverBiDi",
  extraPrefsFirefox: PREFS,
});
// Firefox gone (crashed, or closed by a signal to us): stop, so Python sees EOF.
browser.on("disconnected", () => { if (!closing) { console.error("Firefox disconnected"); process.exit(1); } });
const page = (await browser.pages())[0] || (await browser.newPage());
// The first tab keeps Firefox's window size; size it like the Chromium pages (DESKTOP).
await page.setViewport({ width: 1280, height: 720 });
page.on("console", (message) => {
  const type = message.type();
  if (type === "error" || type === "warn") send({ event: type, text: message.text() });
});
page.on("pageerror", (error) => send({ event: "error", text: String(error && error.message ? error.message : error) }));

async function run(command) {
  switch (command.op) {
    case "goto":
      await page.goto(command.url, { waitUntil: "load", timeout: command.timeout ?? 10000 });
      return null;
    case "initScript": // runs in every document before the page's own scripts
      await page.evaluateOnNewDocument(command.script);
      return null;
    case "evaluate":
      return await page.evaluate(call(command.script, command.arg));
    case "waitForFunction": {
      const handle = await page.waitForFunction(call(command.script, command.arg), {
        polling: command.polling ?? 100,
        timeout: command.timeout ?? 10000,
      });
      const value = await handle.jsonValue();
      await handle.dispose();
      return value;
    }
    case "click": // a real (trusted) mouse click: the page starts audio only after one
      await page.click(command.selector);
      return null;
    case "screenshot":
      await page.screenshot({ path: command.path });
      return command.path;
    case "close":
      return null;
    default:
      throw new Error(`unknown op ${JSON.stringify(command.op)}`);
  }
}

// Firefox runs in its own process group: Python kills that group if we cannot close it.
// So does its temporary profile, which only a clean close removes.
const args = browser.process()?.spawnargs ?? [];
const profile = args.includes("--profile") ? args[args.indexOf("--profile") + 1] : null;
send({ event: "ready", version: await browser.version(), pid: browser.process()?.pid ?? null, profile });
const lines = createInterface({ input: process.stdin });
// Commands run one at a time, in order, like the awaits of the Python side.
let queue = Promise.resolve();
async function shutdown() {
  if (closing) return;
  closing = true;
  await browser.close().catch((error) => console.error("close failed:", error));
  process.exit(0);
}
lines.on("line", (line) => {
  queue = queue.then(async () => {
    let command;
    try {
      command = JSON.parse(line);
    } catch {
      send({ id: null, ok: false, error: `not JSON: ${line.slice(0, 200)}` });
      return;
    }
    try {
      const value = await run(command);
      send({ id: command.id, ok: true, value: value ?? null });
    } catch (error) {
      send({ id: command.id, ok: false, error: String(error) }); // "TimeoutError: ...", no stack
    }
    if (command.op === "close") await shutdown();
  });
});
lines.on("close", () => { queue = queue.then(shutdown); });
