"""Before and around joining, as a first-time user met it (issue 12): the join page's
wording, and recording consent that is a choice, can be given later and withdrawn."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, Page, expect

from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from storage.catalogue import Segment
from tests.e2e.browser import join_link, open_page, phase_button, screenshot, seat
from tests.e2e.first_time import wait_until
from tests.live_server import LiveServer
from web.keys import DIRECTORY

TITLE = "The Fence on Alder Lane"
TRAINEE_WORDING = "so your coach can give you feedback"
#: how long after the consent click a trainee's first recorded frame may land: the
#: recorder waits for a keyframe, which it asks for at once
FIRST_FRAME_MS = 1500


async def test_the_join_page_greets_once_names_the_scenario_and_tells_staff_their_own_terms(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    coach = await open_page(
        browser, "coach", join_link(server.url, room, server.token(room, "coach", name="Coach"))
    )
    page = coach.page
    await expect(page.get_by_role("heading", name="Before you join")).to_be_visible()
    await expect(page.locator("#setup-who")).to_have_text("You are joining as Coach.")
    await expect(page.locator("#setup-scenario")).to_have_text(TITLE)
    # nothing was tried yet: no connection state at all
    await expect(page.locator("#link")).to_be_hidden()
    await expect(page.get_by_text(TRAINEE_WORDING)).to_be_hidden()
    await expect(page.get_by_label("I agree to this session being recorded")).to_be_hidden()
    await expect(page.locator("#staff-recording")).to_contain_text("As the coach you are recorded")
    join = page.get_by_role("button", name="Join the session")
    await expect(join).to_be_enabled()
    await join.click()
    await expect(page.locator("#link")).to_have_attribute("data-state", "connected")
    assert await coach.received("ack:consent") == []  # the coach is told, not asked

    trainee = await open_page(
        browser,
        "party_a",
        join_link(server.url, room, server.token(room, "party_a", name="Wanjiru Kamau")),
    )
    tpage = trainee.page
    await expect(tpage.locator("#setup-who")).to_have_text(
        "You are joining as Wanjiru Kamau, Party A."
    )
    await expect(tpage.locator("#setup-scenario")).to_have_text(TITLE)
    await expect(tpage.get_by_text(TRAINEE_WORDING)).to_be_visible()
    await expect(tpage.locator("#link")).to_be_hidden()
    await tpage.wait_for_function("() => document.getElementById('preview').videoWidth > 0")
    await screenshot(trainee, "join-page")
    assert coach.errors == [] and trainee.errors == []


async def test_a_reload_mid_session_does_not_ask_for_consent_again(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    trainee = await seat(browser, server, room, "party_a", "Wanjiru Kamau")
    # the page asks for consent right after it is seated: its answer may still be on the way
    ack = await trainee.first_received("ack:consent")
    assert ack["data"]["consent"] == "given"
    assert len(await trainee.received("ack:consent")) == 1
    page = trainee.page
    await page.reload()
    await expect(page.get_by_role("heading", name="Before you join")).to_be_visible()
    await expect(page.locator("#consent-known")).to_be_visible()
    await expect(page.get_by_label("I agree to this session being recorded")).to_be_hidden()
    join = page.get_by_role("button", name="Join the session")
    await expect(join).to_be_enabled()
    await join.click()
    await expect(page.locator("#link")).to_have_attribute("data-state", "connected")
    assert await trainee.received("ack:consent") == []  # this page load asked nothing
    live = await server.app[DIRECTORY].open(room)
    assert live.room.participants[SeatId("party_a")].consent.value == "given"
    assert trainee.errors == []


async def seat_segments(server: LiveServer, room: RoomId, seat_id: str) -> list[Segment]:
    return [s for s in await server.catalogue.segments(room) if s.seat == seat_id]


async def consent_button(page: Page, text: str) -> None:
    button = page.locator("#consent-change")
    await expect(button).to_have_text(text)
    await button.click()


async def test_a_trainee_joins_declining_then_is_recorded_from_consent_until_withdrawal(
    media_server: LiveServer, browser: Browser
) -> None:
    server = media_server
    room = await server.simulation("boundary-fence")
    directory = server.app[DIRECTORY]
    token = server.token(room, "party_a", name="Wanjiru Kamau")
    party_a = await open_page(browser, "party_a", join_link(server.url, room, token))
    page = party_a.page
    join = page.get_by_role("button", name="Join the session")
    await expect(join).to_be_disabled()  # an answer is needed, either answer
    await page.get_by_label("Do not record me").check()
    await expect(join).to_be_enabled()
    await join.click()
    await expect(page.locator("#link")).to_have_attribute("data-state", "connected")
    mediator, coach = await asyncio.gather(
        seat(browser, server, room, "mediator", "Li Wei"),
        seat(browser, server, room, "coach", "Dr Helen Brandt"),
    )
    await phase_button(coach, "joint").click()
    await party_a.phase_is("Joint session")
    await expect(page.locator("#recording")).to_have_text("Recording — not you")

    async def mediator_recorded() -> bool:
        return bool(await seat_segments(server, room, "mediator"))

    await wait_until(mediator_recorded, "the mediator recorded")
    participant = server.sfu.participant(RoomId(room), SeatId("party_a"))
    video = participant.producers[MediaKind.VIDEO]
    sent = video.frames
    await wait_until(lambda: video.frames > sent + 10, "party A's video reaching the server")
    assert await seat_segments(server, room, "party_a") == []  # declined: nothing recorded

    live = await directory.open(room)
    before = directory.now_ms(live)
    await consent_button(page, "Agree to be recorded")
    await expect(page.locator("#recording")).to_have_text("Recording")
    after = directory.now_ms(live)

    async def party_a_recorded() -> bool:
        kinds = {s.kind for s in await seat_segments(server, room, "party_a")}
        return kinds == {"audio", "video"}

    await wait_until(party_a_recorded, "party A recorded")
    starts = [s.start_ms for s in await seat_segments(server, room, "party_a")]
    assert all(before <= t <= after + FIRST_FRAME_MS for t in starts), (before, starts, after)

    await consent_button(page, "Stop recording me")
    await expect(page.locator("#recording")).to_have_text("Recording — not you")
    withdrawn = directory.now_ms(live)

    async def party_a_closed() -> bool:
        return all(s.status == "complete" for s in await seat_segments(server, room, "party_a"))

    await wait_until(party_a_closed, "party A's segments closed")
    ends = [s.end_ms for s in await seat_segments(server, room, "party_a")]
    assert all(t <= withdrawn for t in ends), (ends, withdrawn)
    consents = [e for e in await server.catalogue.events(RoomId(room)) if e["kind"] == "consent"]
    assert [(e["seat"], e["consent"]) for e in consents if e["seat"] == "party_a"] == [
        ("party_a", "declined"),
        ("party_a", "given"),
        ("party_a", "declined"),
    ]
    for p in (party_a, mediator, coach):
        assert p.errors == [], (p.seat, p.errors)
