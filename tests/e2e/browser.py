"""Pages of the browser client driven through Playwright, one browser context per person."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Locator,
    Page,
    Request,
    ViewportSize,
    expect,
)

from sessions.ids import RoomId
from tests.live_server import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    # The media server offers only 127.0.0.1 host candidates in tests; Chromium
    # gathers no loopback candidates without this flag (harmless for signalling-only tests).
    "--allow-loopback-in-peer-connection",
]
#: engine.io heartbeat for tests: a silent link is noticed in ~3 s instead of ~55 s
PING_INTERVAL_S, PING_TIMEOUT_S = 1.0, 2.0
DESKTOP: ViewportSize = {"width": 1280, "height": 720}
PHONE: ViewportSize = {"width": 390, "height": 844}
#: bounded waits for anything that crosses the network (ms); a wait ends as soon as its
#: condition holds, and a page beside two more test processes and their browsers on
#: two cores (scripts/test.sh) may take seconds to get there
WAIT_MS = 20_000
#: how Chromium names a load it aborted because the network changed under it
NETWORK_CHANGED = "ERR_NETWORK_CHANGED"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

expect.set_options(timeout=WAIT_MS)

#: Test-side instrumentation, run in every page before its own scripts; the page
#: modules carry no hooks. It keeps, under the names the tests read:
#:   window.__caucusLog  every Socket.IO event the page receives, and the reply to
#:                       each acknowledged request as "ack:<event>" ({event, data, at})
#:   window.__caucusPc   the latest RTCPeerConnection the page's modules made (getStats())
#:   window.__caucusTracks  the seat map of the latest media_offer: mid -> {seat, kind, active}
#:   window.__caucusPage {loadedAt}: set once per document load, so a reload shows
#:   window.__caucusWire the link's own story for a failure's message: sockets opened
#:                       and closed, Socket.IO connects and disconnects, events sent
#: The Socket.IO frames are read off the WebSocket (engine.io "4", then socket.io
#: "2" EVENT or "3" ACK, an optional namespace and ack id, then a JSON array).
INSTRUMENT = r"""
(() => {
  const LOG_LIMIT = 5000;
  const log = (window.__caucusLog = []);
  window.__caucusPage = { loadedAt: Date.now() };
  const push = (event, data) => {
    // The seat map travels with each offer; kept as the page receives it.
    if (event === "media_offer") window.__caucusTracks = (data && data.tracks) || {};
    log.push({ event, data, at: Date.now() });
    if (log.length > LOG_LIMIT) log.splice(0, log.length - LOG_LIMIT);
  };
  const wire = (window.__caucusWire = []);
  const note = (what) => {
    wire.push({ what, at: Date.now() });
    if (wire.length > 200) wire.shift();
  };
  const CONTROL = { "0": "connected", "1": "disconnected", "4": "connect error" };
  const FRAME = /^4([23])(?:\/[^,]*,)?(\d*)(\[.*)$/s;
  const parse = (data) => {
    if (typeof data !== "string") return null;
    const m = FRAME.exec(data);
    if (!m) return null;
    try { return { type: m[1], id: m[2], args: JSON.parse(m[3]) }; } catch { return null; }
  };
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) {
      super(...args);
      this.__asked = new Map(); // ack id -> the event it acknowledges
      note(`socket opened: ${String(args[0]).split("?")[0]}`);
      this.addEventListener("close", ({ code }) => note(`socket closed: ${code}`));
      this.addEventListener("message", ({ data }) => {
        if (typeof data === "string" && data[0] === "4" && CONTROL[data[1]]) {
          note(`socket.io ${CONTROL[data[1]]} ${data.slice(2, 120)}`);
        }
        const frame = parse(data);
        if (!frame) return;
        if (frame.type === "2") push(frame.args[0], frame.args[1]);
        else if (this.__asked.has(frame.id)) {
          push(`ack:${this.__asked.get(frame.id)}`, frame.args[0]);
          this.__asked.delete(frame.id);
        }
      });
    }
    send(data) {
      const frame = parse(data);
      if (frame && frame.type === "2") note(`sent ${frame.args[0]}`);
      if (frame && frame.type === "2" && frame.id) this.__asked.set(frame.id, frame.args[0]);
      super.send(data);
    }
  };
  const Peer = window.RTCPeerConnection;
  if (typeof Peer !== "function") return; // a test may take WebRTC away first
  // A wrapper, not a subclass: the page gets a plain RTCPeerConnection, in every browser.
  function Instrumented(...args) {
    const pc = new Peer(...args);
    // Only the page's own (media.js), not one a test script makes to try an offer.
    if (String(new Error().stack).includes("/static/js/")) window.__caucusPc = pc;
    return pc;
  }
  Instrumented.prototype = Peer.prototype;
  Object.setPrototypeOf(Instrumented, Peer); // statics (generateCertificate)
  window.RTCPeerConnection = Instrumented;
})();
"""

#: Test-side reading of the playback page's master clock (added by
#: tests/e2e/recorded.open_playback): window.__caucusClockNow() is the clock's time now
#: (ms), from what the page shows anyway: #time's data-t-ms, noted with performance.now()
#: whenever the page sets it (every frame while playing, and on each play, pause and
#: seek), advanced while #play's data-playing says so. A data-t-ms read alone is a frame
#: old, or more when the machine is loaded; this is off by one tick's own work at most.
PLAYBACK_CLOCK = r"""
(() => {
  let t = 0;
  let at = performance.now();
  document.addEventListener("DOMContentLoaded", () => {
    const time = document.getElementById("time");
    if (!time) return;
    new MutationObserver(() => {
      t = Number(time.dataset.tMs);
      at = performance.now();
    }).observe(time, { attributes: true, attributeFilter: ["data-t-ms"] });
  });
  window.__caucusClockNow = () => {
    const play = document.getElementById("play");
    return play && play.dataset.playing === "true" ? t + (performance.now() - at) : t;
  };
})();
"""

#: for wait_for_function(arg=[seat, ...]): each of these seats' tiles plays its video
VIDEO_PLAYING = """
(seats) => seats.every((seat) => {
  const v = document.querySelector(`#tiles > li[data-seat="${seat}"] video`);
  return Boolean(v && v.srcObject && v.videoWidth > 0 && !v.paused && v.readyState >= 2);
})
"""


@dataclass
class SeatPage:
    """One person's browser context and join page, with the JavaScript errors it raised."""

    seat: str
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    async def received(self, event: str | None = None) -> list[dict[str, Any]]:
        """What the page's Socket.IO client received (see INSTRUMENT), oldest first."""
        log: list[dict[str, Any]] = await self.page.evaluate("window.__caucusLog || []")
        return [e for e in log if event is None or e["event"] == event]

    async def first_received(self, event: str) -> dict[str, Any]:
        """The first `event` the page's Socket.IO client received, once it has."""
        await self.page.wait_for_function(
            "(event) => (window.__caucusLog || []).some((e) => e.event === event)",
            arg=event,
            timeout=WAIT_MS,
        )
        return (await self.received(event))[0]

    async def phase_is(self, text: str) -> None:
        try:
            await expect(self.page.locator("#phase-name")).to_have_text(text, timeout=WAIT_MS)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{await self.story()}") from None

    async def story(self) -> str:
        """What the page's link did, and what it shows as a problem: for a failure."""
        told: dict[str, Any] = await self.page.evaluate(
            """() => ({
              link: document.getElementById("link")?.dataset.state,
              problems: [...document.querySelectorAll(".problem, [role=alert]")]
                .map((e) => e.textContent.trim()).filter(Boolean),
              wire: (window.__caucusWire || []).slice(-25),
              received: (window.__caucusLog || []).slice(-15)
                .map((e) => ({ what: e.event, at: e.at })),
            })"""
        )
        lines = [f"{self.seat}'s page: link {told['link']!r}, problems {told['problems']}"]
        heard = [{**e, "what": f"received {e['what']}"} for e in told["received"]]
        lines += [f"  {e['at']} {e['what']}" for e in sorted(told["wire"] + heard, key=_at)]
        return "\n".join(lines)

    async def close(self) -> None:
        await self.context.close()


def _at(entry: dict[str, Any]) -> int:
    return int(entry["at"])


async def all_show_phase(pages: Iterable[SeatPage], text: str) -> None:
    """Every page shows phase `text`; if one does not in time, the failure tells every
    page's story (the one that stayed behind may be a request another page sent)."""
    pages = list(pages)
    outcomes = await asyncio.gather(
        *(expect(p.page.locator("#phase-name")).to_have_text(text) for p in pages),
        return_exceptions=True,
    )
    behind = [p.seat for p, o in zip(pages, outcomes, strict=True) if isinstance(o, BaseException)]
    if behind:
        stories = "\n".join([await p.story() for p in pages])
        raise AssertionError(f"not showing {text!r}: {behind}\n{stories}")


def join_link(base_url: str, room: str, token: str) -> str:
    return f"{base_url}/join/{room}#token={token}"


async def open_page(
    browser: Browser,
    seat: str,
    url: str,
    viewport: ViewportSize | None = None,
    *,
    init_script: str | None = None,
) -> SeatPage:
    """A fresh context on `url`; `init_script` runs in the page before its own scripts."""
    context = await browser.new_context(viewport=viewport or DESKTOP)
    await context.add_init_script(INSTRUMENT)
    if init_script is not None:
        await context.add_init_script(init_script)
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    opened = SeatPage(seat, context, page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            opened.errors.append(message.text)

    def on_error(error: Error) -> None:
        opened.errors.append(str(error))

    page.on("console", on_console)
    page.on("pageerror", on_error)
    # A browser inside a test's network namespace sees that network being built
    # (routes, TUN devices) and aborts a load once, the page itself or one of its
    # scripts, as a person's browser does when Wi-Fi changes; a person reloads,
    # and so do we.
    aborted: list[str] = []

    def on_request_failed(request: Request) -> None:
        if request.failure is not None and NETWORK_CHANGED in request.failure:
            aborted.append(request.url)

    page.on("requestfailed", on_request_failed)
    for attempt in range(3):
        aborted.clear()
        try:
            await page.goto(url)
        except Error as exc:
            if NETWORK_CHANGED not in str(exc) or attempt == 2:
                raise
            continue
        if not aborted or attempt == 2:
            break
        opened.errors[:] = [e for e in opened.errors if NETWORK_CHANGED not in e]
    page.remove_listener("requestfailed", on_request_failed)
    return opened


async def take_seat(seat_page: SeatPage, *, consent: bool = True) -> None:
    """Pass the device check and consent, join, and wait until the seat is taken."""
    page = seat_page.page
    await expect(page.get_by_role("heading", name="Before you join")).to_be_visible()
    join = page.get_by_role("button", name="Join the session")
    # The page first asks the server whether this seat already answered (a reload).
    await expect(page.locator("#setup")).to_have_attribute("data-preview", "done")
    # Staff are asked nothing (the server's `actions.consent`): only a trainee's page asks.
    asked = await page.locator("#consent-box").is_visible()
    if consent and asked and not await page.locator("#consent-known").is_visible():
        box = page.get_by_label("I agree to this session being recorded")
        await expect(join).to_be_disabled()
        await box.check()
    await expect(join).to_be_enabled()
    await join.click()
    await expect(page.locator("#link")).to_have_attribute("data-state", "connected")
    await expect(page.locator("#phase-banner")).to_be_visible()


async def seat(
    browser: Browser,
    server: LiveServer,
    room: RoomId,
    seat_id: str,
    name: str | None = None,
    *,
    viewport: ViewportSize | None = None,
    base_url: str | None = None,
) -> SeatPage:
    """Open `seat_id`'s join link in a fresh context and take the seat."""
    token = server.token(room, seat_id, name=name)
    opened = await open_page(
        browser, seat_id, join_link(base_url or server.url, room, token), viewport
    )
    # Trainees answer the recording question; the coach is told, not asked.
    await take_seat(opened, consent=seat_id == "mediator" or seat_id.startswith("party_"))
    return opened


async def screenshot(seat_page: SeatPage, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await seat_page.page.screenshot(path=path, full_page=False)
    return path


def phase_button(seat_page: SeatPage, to: str) -> Locator:
    """The phase control that asks for `to` ("joint", "caucus:party_a", "resume", ...)."""
    return seat_page.page.locator(f'#phase-controls button[data-to="{to}"]')


async def expect_controls(seat_page: SeatPage, enabled: dict[str, bool]) -> None:
    """Each named phase control is present and enabled (True) or disabled (False)."""
    for to, on in enabled.items():
        button = phase_button(seat_page, to)
        if on:
            await expect(button).to_be_enabled()
        else:
            await expect(button).to_be_disabled()


async def expect_tiles(seat_page: SeatPage, seats: list[str]) -> None:
    """The page shows exactly these seats' tiles, in this order."""
    script = """(want) => JSON.stringify([...document.querySelectorAll('#tiles > li')]
        .map(e => e.dataset.seat)) === JSON.stringify(want)"""
    try:
        await seat_page.page.wait_for_function(script, arg=seats, timeout=WAIT_MS)
    except Error as exc:
        shown = await seat_page.page.locator("#tiles > li").evaluate_all(
            "els => els.map(e => e.dataset.seat)"
        )
        raise AssertionError(f"{seat_page.seat} shows tiles {shown}, expected {seats}") from exc


async def seat_all(
    browser: Browser, server: LiveServer, room: RoomId, names: dict[str, str | None]
) -> dict[str, SeatPage]:
    """Everyone opens their link and takes their seat at the same time, like a class starting."""
    opened = await asyncio.gather(*(seat(browser, server, room, s, n) for s, n in names.items()))
    return dict(zip(names, opened, strict=True))
