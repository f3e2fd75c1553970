"""A tile whose media stops arriving says so within seconds, and recovers by itself.

The mediator's link goes dead for media only (the server's side of its peer
connection drops every datagram, both ways): its socket stays up, so signalling
alone would not notice for a long while. Party A's tile of the mediator must
turn "stalled" (dimmed, "No media arriving") from its own inbound statistics,
and go back to normal once the link carries media again.
"""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from sessions.ids import SeatId
from tests.e2e.browser import phase_button, seat
from tests.impairment import LinkProfile, impair
from tests.live_server import LiveServer

#: stats are sampled every 2 s; a stall needs one whole silent interval
STALL_MS = 10_000
#: past a dead stretch, NACKs and a keyframe request bring the picture back
RECOVER_MS = 20_000


async def test_a_dead_media_link_shows_on_the_tile_and_recovers(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    mediator = await seat(browser, server, room, "mediator", "Li Wei")
    party_a = await seat(browser, server, room, "party_a", "Wanjiru Kamau")
    coach = await seat(browser, server, room, "coach", "Dr Helen Brandt")
    await phase_button(coach, "joint").click()
    await party_a.phase_is("Joint session")

    tile = party_a.page.locator('#tiles > li[data-seat="mediator"]')
    link = tile.locator(".tile-link")
    await expect(link).to_have_attribute("data-quality", "good", timeout=STALL_MS)
    await expect(tile).not_to_have_class(re.compile(r"\bstalled\b"))

    sfu = server.sfu
    dead = LinkProfile(loss=1.0)
    cut = impair(sfu.participant(room, SeatId("mediator")).pc, outbound=dead, inbound=dead, seed=1)
    await expect(link).to_have_attribute("data-quality", "stalled", timeout=STALL_MS)
    await expect(link).to_have_text("No media arriving")
    await expect(tile).to_have_class(re.compile(r"\bstalled\b"))
    # only the tile of the seat whose link died (party A sees itself too)
    assert await party_a.page.locator("#tiles > li.stalled").count() == 1

    cut.outbound.profile = cut.inbound.profile = LinkProfile()  # the link is back
    await expect(link).not_to_have_attribute("data-quality", "stalled", timeout=RECOVER_MS)
    await expect(tile).not_to_have_class(re.compile(r"\bstalled\b"))
    assert cut.inbound.stats.dropped > 0 and cut.outbound.stats.dropped > 0
    for p in (mediator, party_a, coach):
        assert p.errors == [], (p.seat, p.errors)
