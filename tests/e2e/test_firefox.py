"""Firefox ESR in the mediator seat beside three Chromium seats, with real media.

Firefox (Debian's firefox-esr, driven over WebDriver BiDi by puppeteer-core:
tests/e2e/firefox_page.py) publishes its fake camera and microphone and
receives the parties'. The Chromium pages are the ones of test_media_e2e.py
and are checked with its helpers and its getStats() probe; Firefox runs the
same probe. Phase after phase (joint, caucus with party A, joint) every page
receives exactly its audience; then party B leaves and rejoins, which makes
the server send everyone new offers, and Firefox receives party B again.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Browser, Error, expect

from sessions.ids import RoomId
from tests.e2e.browser import (
    INSTRUMENT,
    SCREENSHOTS,
    VIDEO_PLAYING,
    WAIT_MS,
    SeatPage,
    join_link,
    phase_button,
    seat_all,
    take_seat,
)
from tests.e2e.firefox_page import FirefoxError, FirefoxPage, missing
from tests.e2e.test_media_e2e import (
    CONNECT_MS,
    EXPECTED,
    FLOW_MS,
    MIN_AUDIO_PACKETS,
    MIN_VIDEO_FRAMES,
    OFFER_REFUSED,
    PROBE,
    PUBLISHERS,
    QUIET_MS,
    check_audience,
    expect_media,
    expect_playing_tiles,
    published,
)
from tests.live_server import LiveServer

pytestmark = pytest.mark.skipif(missing() is not None, reason=str(missing()))

MEDIATOR = "mediator"
CHROMIUM_SEATS = {"party_a": "Wanjiru Kamau", "party_b": "Diego Ramos", "coach": "Dr Helen Brandt"}
JOINT, CAUCUS = "Joint session", "Private caucus with Amara Okafor"

#: VIDEO_PLAYING, and each of those tiles shows its video rather than the initials
VIDEO_SHOWN = f"""
(seats) => ({VIDEO_PLAYING.strip()})(seats) && seats.every((seat) =>
  document.querySelector(`#tiles > li[data-seat="${{seat}}"]`).classList.contains("has-video"))
"""
#: every other seat's audio and video has an active m-section in the page's latest offer
OFFERED = """
(seats) => {
  const entries = Object.values(window.__caucusTracks || {});
  return seats.every((seat) => ["audio", "video"].every((kind) =>
    entries.some((e) => e.seat === seat && e.kind === kind && e.active)));
}
"""
#: `seat`'s received audio rises by 25 packets (0.5 s) that carry sound, not silence:
#: a bounded poll of getStats() inside the page (Playwright's wait_for_function would
#: take the pending promise of an async predicate for a truthy answer)
AUDIO_ARRIVES = """
async ([seat, timeoutMs]) => {
  async function sample() {
    const pc = window.__caucusPc, tracks = window.__caucusTracks || {};
    let packets = 0, energy = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio" && tracks[s.mid]
          && tracks[s.mid].seat === seat) {
        packets += s.packetsReceived || 0;
        energy += s.totalAudioEnergy || 0;
      }
    });
    return { packets, energy };
  }
  const before = await sample(), deadline = performance.now() + timeoutMs;
  let now = before;
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    now = await sample();
    if (now.packets >= before.packets + 25 && now.energy > before.energy) break;
  }
  return { before, now };
}
"""


async def firefox_takes_seat(firefox: FirefoxPage, url: str) -> None:
    """Firefox's take_seat(): the device check, consent, join, seated."""
    await firefox.add_init_script(INSTRUMENT)  # the test's window.__caucus* readers
    await firefox.goto(url)
    await firefox.wait_for_function("() => !document.getElementById('setup').hidden")
    await firefox.click("#consent")
    await firefox.wait_for_function("() => !document.getElementById('join-button').disabled")
    await firefox.click("#join-button")
    await firefox.wait_for_function(
        """() => document.getElementById('link').dataset.state === 'connected'
                 && !document.getElementById('phase-banner').hidden""",
        timeout=WAIT_MS,
    )


async def firefox_phase_is(firefox: FirefoxPage, text: str) -> None:
    try:
        await firefox.wait_for_function(
            "(t) => document.getElementById('phase-name').textContent === t", text
        )
    except FirefoxError as exc:
        shown = await firefox.evaluate("() => document.getElementById('phase-name').textContent")
        raise AssertionError(f"Firefox shows phase {shown!r}, expected {text!r}") from exc


async def firefox_connected(firefox: FirefoxPage) -> None:
    """Firefox's peer connection is up and offered every other seat's audio and video."""
    others = [s for s in PUBLISHERS if s != MEDIATOR]
    try:
        await firefox.wait_for_function(
            "() => window.__caucusPc && window.__caucusPc.connectionState === 'connected'",
            timeout=CONNECT_MS,
        )
        await firefox.wait_for_function(OFFERED, others, timeout=CONNECT_MS)
    except FirefoxError as exc:
        state = await firefox.evaluate(
            "() => window.__caucusPc && [window.__caucusPc.connectionState,"
            " window.__caucusPc.iceConnectionState]"
        )
        tracks = await firefox.evaluate("() => window.__caucusTracks")
        raise AssertionError(f"Firefox: pc {state}, offered {tracks}; {exc}") from exc


async def chromium_connected(p: SeatPage) -> None:
    """firefox_connected() for a Chromium page, which then gets the getStats() probe."""
    others = [s for s in PUBLISHERS if s != p.seat]
    try:
        await p.page.wait_for_function(
            "() => window.__caucusPc && window.__caucusPc.connectionState === 'connected'",
            timeout=CONNECT_MS,
        )
        await p.page.wait_for_function(OFFERED, arg=others, timeout=CONNECT_MS)
    except Error as exc:
        state = await p.page.evaluate("window.__caucusPc && window.__caucusPc.connectionState")
        tracks = await p.page.evaluate("window.__caucusTracks")
        raise AssertionError(f"{p.seat}: pc {state}, offered {tracks}") from exc
    await p.page.evaluate(PROBE)


async def firefox_media(
    firefox: FirefoxPage, phase: str, key: str, timeout_ms: float = FLOW_MS
) -> dict[str, Any]:
    """expect_media() for the Firefox page: its audience flows, every other seat stays still."""
    flowing = sorted(EXPECTED[phase][MEDIATOR])
    still = sorted(set(PUBLISHERS) - {MEDIATOR} - EXPECTED[phase][MEDIATOR])
    await firefox.evaluate("(k) => window.__probe.mark(k)", key)
    try:
        result: dict[str, Any] = await firefox.wait_for_function(
            "([k, f, s, a, v, q]) => window.__probe.check(k, f, s, a, v, q)",
            [key, flowing, still, MIN_AUDIO_PACKETS, MIN_VIDEO_FRAMES, QUIET_MS],
            timeout=timeout_ms,
        )
    except FirefoxError as exc:
        last = await firefox.evaluate("(k) => window.__probe.result(k)", key)
        tracks = await firefox.evaluate("() => window.__caucusTracks")
        raise AssertionError(
            f"{phase}: Firefox should receive {flowing} and not {still}; "
            f"since the mark: {last}; tracks {tracks}"
        ) from exc
    print(f"{key}: Firefox mediator got {result['delta']}; still for {result['quietMs']} ms")
    return result


async def everyone_receives(
    chromium: dict[str, SeatPage], firefox: FirefoxPage, phase: str, key: str, timeout_ms: float
) -> None:
    """Every page, Firefox included, receives exactly its audience, and its tiles play."""
    await asyncio.gather(
        expect_media(chromium, phase, key, timeout_ms),
        firefox_media(firefox, phase, key, timeout_ms),
    )
    await expect_playing_tiles(chromium, phase)
    received = sorted(EXPECTED[phase][MEDIATOR])
    try:
        await firefox.wait_for_function(VIDEO_SHOWN, received, timeout=FLOW_MS)
    except FirefoxError as exc:
        tiles = await firefox.evaluate(
            "() => [...document.querySelectorAll('#tiles > li')].map((li) => li.className)"
        )
        raise AssertionError(
            f"{phase}: Firefox's tiles for {received} do not play or show video: {tiles}"
        ) from exc


async def audio_arrives(page: SeatPage | FirefoxPage, seat: str) -> None:
    """`page` hears `seat`: its audio packets keep arriving and carry energy (getStats)."""
    if isinstance(page, FirefoxPage):
        sampled = await page.evaluate(AUDIO_ARRIVES, [seat, FLOW_MS], timeout_ms=FLOW_MS + 5000)
    else:
        sampled = await page.page.evaluate(AUDIO_ARRIVES, [seat, FLOW_MS])
    before, now = sampled["before"], sampled["now"]
    print(f"{page.seat} hears {seat}: {before} -> {now}")
    assert now["packets"] >= before["packets"] + 25, (page.seat, seat, sampled)
    assert now["energy"] > before["energy"], f"{page.seat} receives only silence from {seat}"


async def joint_and_caucus(
    server: LiveServer, room: RoomId, pages: dict[str, SeatPage], firefox: FirefoxPage
) -> None:
    """Coach moves joint → caucus with party A → joint; Firefox follows label and media."""
    coach = pages["coach"]
    for phase, button, label, key in [
        ("joint", "joint", JOINT, "joint-1"),
        ("caucus:party_a", "caucus:party_a", CAUCUS, "caucus"),
        ("joint", "joint", JOINT, "joint-2"),
    ]:
        await phase_button(coach, button).click()
        await asyncio.gather(
            firefox_phase_is(firefox, label), *(p.phase_is(label) for p in pages.values())
        )
        check_audience(server, room, phase)
        await everyone_receives(pages, firefox, phase, key, CONNECT_MS)


async def party_b_leaves_and_rejoins(pages: dict[str, SeatPage], firefox: FirefoxPage) -> None:
    """Party B's tracks go and come back: two renegotiations, Firefox answers both."""
    offers_before = await firefox.evaluate(
        "() => (window.__caucusLog || []).filter((e) => e.event === 'media_offer').length"
    )
    party_b = pages["party_b"]
    await party_b.page.locator("#leave").click()
    await expect(party_b.page.locator("#notice-title")).to_have_text("You have left the session")
    # Party B's m-sections go inactive in Firefox's next offer; party A keeps flowing.
    await firefox.wait_for_function(
        """() => !Object.values(window.__caucusTracks || {})
                   .some((e) => e.seat === 'party_b' && e.active)"""
    )
    await party_b.page.get_by_role("button", name="Rejoin").click()
    await take_seat(party_b)
    await firefox_connected(firefox)
    offers = await firefox.evaluate(
        "() => (window.__caucusLog || []).filter((e) => e.event === 'media_offer').length"
    )
    assert offers >= offers_before + 2, (offers_before, offers)
    state = await firefox.evaluate("() => window.__caucusPc.signalingState")
    assert state == "stable", f"Firefox did not answer the last offer: {state}"


async def test_firefox_mediator_publishes_receives_follows_phases_and_renegotiates(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    url = join_link(server.url, room, server.token(room, MEDIATOR, name="Li Wei"))
    async with await FirefoxPage.launch(MEDIATOR) as firefox:
        assert firefox.version.startswith("firefox/"), firefox.version
        pages, _ = await asyncio.gather(
            seat_all(browser, server, room, dict(CHROMIUM_SEATS)), firefox_takes_seat(firefox, url)
        )
        refused = await firefox.evaluate(OFFER_REFUSED)
        assert refused is None, f"Firefox refuses the server's offer: {refused}"
        await firefox_connected(firefox)
        for p in pages.values():
            await chromium_connected(p)
        await firefox.evaluate(PROBE)
        assert published(server, room)[MEDIATOR] == ["audio", "video"]

        await joint_and_caucus(server, room, pages, firefox)
        await audio_arrives(pages["party_a"], MEDIATOR)
        await audio_arrives(firefox, "party_a")

        await party_b_leaves_and_rejoins(pages, firefox)
        await chromium_connected(pages["party_b"])  # a fresh load: PROBE again
        await everyone_receives(pages, firefox, "joint", "joint-3", CONNECT_MS)
        # The rejoined seat's tile shows its picture again, not the initials (same
        # receiver track, new tile: tiles.js must follow the track's unmute).
        for p in (pages["party_a"], pages["coach"]):
            tile = p.page.locator('#tiles > li[data-seat="party_b"]')
            await expect(tile).to_have_class(re.compile(r"\bhas-video\b"), timeout=FLOW_MS)

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = await firefox.screenshot(SCREENSHOTS / "firefox-mediator-1280x720.png")
        assert shot.stat().st_size > 0
        assert firefox.errors == [], firefox.errors
        # media.js reports a refused offer or candidate only as a console warning
        failed = [w for w in firefox.warnings if "failed" in w or "refused" in w]
        assert failed == [], f"Firefox {firefox.version}: {failed}"
    for seat, p in pages.items():
        assert p.errors == [], (seat, p.errors)
