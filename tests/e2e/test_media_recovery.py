"""Real Chromium: a dead media path is rebuilt without a reload, and the tiles say so.

The mediator's media link dies while its socket stays up (the server's side of
its peer connection drops every datagram, both ways). The server notices the
silence, offers a new connection marked `restart`; the page answers it from a
new RTCPeerConnection. Meanwhile "Reconnecting media…" shows on the mediator's
own tile and on the others' tiles of the mediator, and clears once media flows.
"""

from __future__ import annotations

from playwright.async_api import Browser, expect

from sessions.ids import SeatId
from tests.e2e.browser import VIDEO_PLAYING, open_page, phase_button, seat, take_seat
from tests.e2e.browser import join_link as link
from tests.impairment import LinkProfile, impair
from tests.live_server import LiveServer

#: 5 s of silence before the server rebuilds, and a few seconds of slack on a busy machine
LABEL_MS = 15_000
#: a new connection on loopback: ICE, DTLS and the first keyframe
BACK_MS = 15_000
#: logs every change of a tile's "Reconnecting media…" label: {seat, visible, at}
LOG_NOTES = """() => {
  window.__notes = [];
  new MutationObserver((changes) => {
    for (const change of changes) {
      const note = change.target;
      if (!note.classList.contains("tile-media-note")) continue;
      const seat = note.closest("li").dataset.seat;
      window.__notes.push({ seat, visible: !note.hidden, at: Date.now() });
    }
  }).observe(document.getElementById("tiles"),
    { attributes: true, subtree: true, attributeFilter: ["hidden"] });
}"""
#: the label of this seat's tile has been shown since LOG_NOTES ran
SHOWN = "(seat) => (window.__notes || []).some((n) => n.seat === seat && n.visible)"
NO_WEBRTC = """
delete window.RTCPeerConnection;
delete window.webkitRTCPeerConnection;
"""


async def test_a_dead_media_path_is_rebuilt_and_the_tiles_say_reconnecting_media(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    mediator = await seat(browser, server, room, "mediator", "Li Wei")
    party_a = await seat(browser, server, room, "party_a", "Wanjiru Kamau")
    coach = await seat(browser, server, room, "coach", "Dr Helen Brandt")
    await phase_button(coach, "joint").click()
    await party_a.phase_is("Joint session")
    await party_a.page.wait_for_function(VIDEO_PLAYING, arg=["mediator"], timeout=BACK_MS)
    loaded_at = await mediator.page.evaluate("window.__caucusPage.loadedAt")

    seen_by_party = party_a.page.locator('#tiles > li[data-seat="mediator"] .tile-media-note')
    seen_by_self = mediator.page.locator('#tiles > li[data-seat="mediator"] .tile-media-note')
    await expect(seen_by_party).to_be_hidden()
    await expect(seen_by_self).to_be_hidden()

    for page in (party_a.page, mediator.page):
        await page.evaluate(LOG_NOTES)
    first = server.sfu.participant(room, SeatId("mediator"))
    dead = LinkProfile(loss=1.0)
    impair(first.pc, outbound=dead, inbound=dead, seed=3)

    # On loopback the label may show for well under a second: the pages log it.
    for page in (party_a.page, mediator.page):
        await page.wait_for_function(SHOWN, arg="mediator", timeout=LABEL_MS)
    await expect(seen_by_party).to_have_text("Reconnecting media…")
    # only the seat whose link died was marked
    notes = await party_a.page.evaluate("window.__notes")
    assert {n["seat"] for n in notes if n["visible"]} == {"mediator"}, notes

    await expect(seen_by_party).to_be_hidden(timeout=BACK_MS)
    await expect(seen_by_self).to_be_hidden(timeout=BACK_MS)
    await party_a.page.wait_for_function(VIDEO_PLAYING, arg=["mediator"], timeout=BACK_MS)
    await mediator.page.wait_for_function(VIDEO_PLAYING, arg=["party_a"], timeout=BACK_MS)

    assert server.sfu.participant(room, SeatId("mediator")) is not first
    offers = await mediator.received("media_offer")
    assert [o["data"].get("restart", False) for o in offers].count(True) >= 1
    assert await mediator.page.evaluate("window.__caucusPage.loadedAt") == loaded_at
    assert await mediator.page.evaluate("performance.getEntriesByType('navigation').length") == 1
    kinds = [(e["kind"], e["seat"]) for e in await server.catalogue.events(room)]
    assert ("media_lost", "mediator") in kinds and ("media_restored", "mediator") in kinds
    assert ("drop", "mediator") not in kinds
    for p in (mediator, party_a, coach):
        assert p.errors == [], (p.seat, p.errors)


async def test_a_browser_without_webrtc_is_told_which_browsers_work(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    party_a = await open_page(
        browser,
        "party_a",
        link(server.url, room, server.token(room, "party_a", name="Amara")),
        init_script=NO_WEBRTC,
    )
    assert await party_a.page.evaluate("typeof window.RTCPeerConnection") == "undefined"
    await take_seat(party_a)
    message = party_a.page.locator(".media-unavailable")
    await expect(message).to_be_visible()
    await expect(message).to_have_attribute("role", "alert")
    for browser_name in ("Chrome", "Edge", "Firefox", "Safari"):
        await expect(message).to_contain_text(browser_name)
    # the seat itself works: the tile is there, the session goes on
    await expect(party_a.page.locator('#tiles > li[data-seat="party_a"]')).to_be_visible()
    assert party_a.errors == []
