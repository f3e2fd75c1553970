"""A page that loses its network for 10 s comes back into its seat without a reload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.browser import join_link, open_page, screenshot, take_seat
from tests.live_server import LiveServer, seat_participants
from tests.tcp_outage import OutageRelay

#: its outage and heartbeat timings are the machine's (tests/conftest.py)
pytestmark = pytest.mark.quiet

OUTAGE_S = 10.0
#: detection (~3 s heartbeat) + reconnect back-off (≤5 s) + slack on a loaded machine
BACK_MS = 30_000


@pytest.fixture
async def relay(server: LiveServer) -> AsyncIterator[OutageRelay]:
    link = OutageRelay(server.port)
    await link.start()
    yield link
    await link.close()


@pytest.mark.parametrize("cut", ["offline", "blackhole"])
async def test_a_page_cut_off_for_10_s_resumes_its_seat_without_reloading(
    server: LiveServer, browser: Browser, relay: OutageRelay, cut: str
) -> None:
    """offline: the browser knows it is offline (context.set_offline, the `offline` event).
    blackhole: a TCP relay silently drops every byte, like a dead radio link; only the
    heartbeats tell either end, as on a real long-haul connection."""
    room = await server.simulation("boundary-fence")
    mediator = await open_page(
        browser, "mediator", join_link(server.url, room, server.token(room, "mediator"))
    )
    await take_seat(mediator)
    base = f"http://127.0.0.1:{relay.port}" if cut == "blackhole" else server.url
    party_a = await open_page(
        browser, "party_a", join_link(base, room, server.token(room, "party_a", name="Amara"))
    )
    await take_seat(party_a)
    coach = (await seat_participants(server, room, ["coach"]))["coach"]
    for to in ("joint", "caucus:party_a"):
        assert (await coach.call("phase", {"to": to}))["ok"]
    await party_a.phase_is("Private caucus with Amara Okafor")
    page = party_a.page
    await page.evaluate("window.__marker = 'set before the outage'")
    loaded_at = await page.evaluate("window.__caucusPage.loadedAt")

    loop = asyncio.get_running_loop()
    cut_at = loop.time()
    if cut == "offline":
        await party_a.context.set_offline(True)
    else:
        relay.outage(OUTAGE_S)

    banner = page.locator("#conn-banner")
    await expect(banner).to_be_visible()
    await expect(banner).to_have_attribute("role", "alert")
    await expect(banner).to_contain_text("Connection lost")
    await expect(page.locator("#link")).to_have_attribute("data-state", "reconnecting")
    if cut == "blackhole":
        await screenshot(party_a, "trainee-reconnecting-1280x720")
    # The server noticed too: the mediator sees the seat held, not emptied.
    held = mediator.page.locator('#tiles > li[data-seat="party_a"]')
    await expect(held).to_contain_text("reconnecting", timeout=BACK_MS)

    if cut == "offline":
        await asyncio.sleep(max(0.0, cut_at + OUTAGE_S - loop.time()))  # the outage itself
        await party_a.context.set_offline(False)

    await expect(banner).to_contain_text("You are back in your seat", timeout=BACK_MS)
    assert loop.time() - cut_at >= OUTAGE_S - 0.5
    await expect(page.locator("#link")).to_have_attribute("data-state", "connected")
    await expect(held).not_to_contain_text("reconnecting")
    await party_a.phase_is("Private caucus with Amara Okafor")

    joins = await party_a.received("ack:join")
    assert [j["data"]["outcome"] for j in joins] == ["joined", "resumed"]
    resumed = joins[-1]["data"]["state"]
    assert resumed["you"] == joins[0]["data"]["state"]["you"]
    assert resumed["phase"]["name"] == "caucus:party_a"
    # Consent given before the drop is kept with the seat: it is not asked again.
    assert [c["data"]["consent"] for c in await party_a.received("ack:consent")] == ["given"]

    # Same document: no reload, no navigation.
    assert await page.evaluate("window.__marker") == "set before the outage"
    assert await page.evaluate("window.__caucusPage.loadedAt") == loaded_at
    assert await page.evaluate("performance.getEntriesByType('navigation').length") == 1

    # The resumed page follows the session again.
    assert (await coach.call("phase", {"to": "joint"}))["ok"]
    await party_a.phase_is("Joint session")
    kinds = [(e["kind"], e["seat"]) for e in await server.catalogue.events(room)]
    assert ("drop", "party_a") in kinds and ("resume", "party_a") in kinds
    assert ("leave", "party_a") not in kinds

    await coach.close()
    assert mediator.errors == []
    # Chromium logs each refused reconnection attempt, and a browser-copy upload in flight
    # when the browser goes offline fails (the page keeps the chunk and sends it again);
    # nothing else may appear.
    expected = (
        "WebSocket connection to",
        "Failed to load resource: net::ERR_INTERNET_DISCONNECTED",
    )
    assert [e for e in party_a.errors if not e.startswith(expected)] == []
