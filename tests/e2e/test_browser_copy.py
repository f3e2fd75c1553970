"""Real Chromium: a publisher's page keeps a second copy of its own media and uploads it.

While the seat is recorded the page records its camera and microphone in chunks and
uploads them; a page closed with chunks not yet uploaded uploads them when it is opened
again, numbering its new chunks after them.
"""

from __future__ import annotations

import asyncio
import time

from playwright.async_api import Browser, Route, expect

from sessions.ids import RoomId, SeatId
from storage.browser_copies import CopyChunk
from tests.e2e.browser import join_link, open_page, phase_button, seat, take_seat
from tests.live_server import LiveServer
from web.browser_copy_api import UPLOADS

#: chunks run 4 s each: room for a few on a loaded machine
CHUNKS_S = 40.0
#: chunks the page holds in IndexedDB (not yet uploaded)
HELD = """() => new Promise((resolve) => {
  const open = indexedDB.open("caucus-browser-copy", 1);
  open.onsuccess = () => {
    const tx = open.result.transaction("chunks", "readonly");
    const all = tx.objectStore("chunks").getAll();
    tx.oncomplete = () => { resolve(all.result.map((c) => c.n)); open.result.close(); };
  };
  open.onerror = () => resolve([]);
})"""


async def stored(server: LiveServer, room: RoomId, seat_id: str) -> list[CopyChunk]:
    return await server.app[UPLOADS].copies.chunks(room, SeatId(seat_id))


async def until(check: object, timeout_s: float = CHUNKS_S) -> None:
    """Poll an async predicate (the server's catalogue: no event to await there)."""
    deadline = time.monotonic() + timeout_s
    while not await check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.25)


async def test_a_publisher_uploads_its_copy_and_a_reopened_page_resumes(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    token = server.token(room, "party_a", name="Wanjiru Kamau")
    party_a = await open_page(browser, "party_a", join_link(server.url, room, token))
    await take_seat(party_a, consent=True)
    coach = await seat(browser, server, room, "coach", "Dr Helen Brandt")
    await phase_button(coach, "joint").click()
    await party_a.phase_is("Joint session")

    async def uploaded(count: int) -> bool:
        return len(await stored(server, room, "party_a")) >= count

    await until(lambda: uploaded(2))
    first = await stored(server, room, "party_a")
    assert [c.n for c in first] == list(range(len(first)))
    assert all(c.visibility == "public" and c.content_type == "video/webm" for c in first)
    # each chunk sits on the session clock, after the joint session began, one after another
    joint_ms = next(
        e["t_ms"] for e in await server.catalogue.events(room) if e.get("phase") == "joint"
    )
    assert first[0].start_ms >= joint_ms - 200
    for a, b in zip(first, first[1:], strict=False):
        assert abs(b.start_ms - a.end_ms) < 300, (a, b)

    # Uploads fail for a while: the chunks wait in IndexedDB; then the page is closed.
    async def refuse(route: Route) -> None:
        await route.abort()

    await party_a.context.route("**/browser-copy/*", refuse)

    async def holding() -> bool:
        return len(await party_a.page.evaluate(HELD)) >= 2

    await until(holding)
    held = await party_a.page.evaluate(HELD)
    before = {c.n for c in await stored(server, room, "party_a")}
    assert not set(held) & before
    await party_a.page.close()
    await party_a.context.unroute("**/browser-copy/*", refuse)

    # Opened again (same browser profile): what it held goes up, new chunks follow on.
    page = await party_a.context.new_page()
    party_a.page = page
    await page.goto(join_link(server.url, room, token))
    await take_seat(party_a, consent=True)
    top = max(held)

    async def resumed() -> bool:
        numbers = {c.n for c in await stored(server, room, "party_a")}
        return set(held) <= numbers and any(n > top for n in numbers)

    await until(resumed)
    numbers = [c.n for c in await stored(server, room, "party_a")]
    assert len(numbers) == len(set(numbers))
    assert await page.evaluate(HELD) == [] or min(await page.evaluate(HELD)) > top
    # the uploads this test aborted are the only failures the console shows
    assert [e for e in party_a.errors if "net::ERR_FAILED" not in e] == []
    assert coach.errors == []


async def test_a_seat_that_declined_records_and_uploads_nothing(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    party_a = await seat(browser, server, room, "party_a", "Wanjiru Kamau")
    token = server.token(room, "party_b", name="Mei Lin")
    party_b = await open_page(browser, "party_b", join_link(server.url, room, token))
    await expect(party_b.page.locator("#setup")).to_have_attribute("data-preview", "done")
    await party_b.page.get_by_label("Do not record me").check()
    await take_seat(party_b, consent=False)
    coach = await seat(browser, server, room, "coach", "Dr Helen Brandt")
    await phase_button(coach, "joint").click()
    await party_b.phase_is("Joint session")
    # party_a has uploaded two chunks: party_b, recording as long, would have too
    await until(lambda: _has(server, room, "party_a"))
    assert await stored(server, room, "party_b") == []
    assert await party_b.page.evaluate(HELD) == []
    for p in (party_a, party_b, coach):
        assert p.errors == [], (p.seat, p.errors)


async def _has(server: LiveServer, room: RoomId, seat_id: str) -> bool:
    return len(await stored(server, room, seat_id)) >= 2


async def test_withdrawing_consent_stops_the_copy(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    party_a = await seat(browser, server, room, "party_a", "Wanjiru Kamau")
    coach = await seat(browser, server, room, "coach", "Dr Helen Brandt")
    await phase_button(coach, "joint").click()
    await party_a.phase_is("Joint session")
    await until(lambda: _has(server, room, "party_a"))
    stop = party_a.page.locator("#consent-change")
    await expect(stop).to_have_text("Stop recording me")
    await stop.click()
    await expect(stop).to_have_text("Agree to be recorded")
    withdrawn_ms = next(
        e["t_ms"]
        for e in await server.catalogue.events(room)
        if e["kind"] == "consent" and e.get("consent") == "declined"
    )

    async def settled() -> bool:
        return not await party_a.page.evaluate(HELD)

    await until(settled)
    count = len(await stored(server, room, "party_a"))
    await asyncio.sleep(6)  # longer than a chunk: a page still recording would upload one
    chunks = await stored(server, room, "party_a")
    assert len(chunks) == count
    # nothing recorded after the withdrawal (the last chunk ends at the click)
    assert max(c.end_ms for c in chunks) <= withdrawn_ms + 500
    assert party_a.errors == [] and coach.errors == []
