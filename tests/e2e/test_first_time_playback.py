"""What a first-time user met after the session (issue 12): the rubric on the recording
page, where playback opens, and a duration that stops at the end.

The recording here is what a real session leaves: a lobby (never recorded) before the
joint session, the "ended" phase, and the seats' leave events a grace period later.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect

from tests.e2e.browser import DESKTOP, SeatPage, screenshot
from tests.e2e.first_time import END_MS, LOBBY_END_MS, SEATS, LobbySession, record_with_lobby
from tests.e2e.recorded import SHOWN_JS, api, looks_like
from tests.live_server import LiveServer


@pytest.fixture
async def recorded(server: LiveServer) -> LobbySession:
    return await record_with_lobby(server)


async def open_recording(browser: Browser, session: LobbySession, seat: str) -> SeatPage:
    """The recording page as the server serves it (no fields added in flight)."""
    token = session.server.config.admin_token if seat == "admin" else session.token(seat)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    opened = SeatPage(seat, context, page)
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.errors.append(str(e)))
    await page.goto(f"{session.server.url}/recordings/{session.room}#token={token}")
    await expect(page.locator("#playback")).to_be_visible()
    return opened


async def test_a_coach_tags_a_skill_with_a_rating_on_the_recording_page(
    browser: Browser, recorded: LobbySession
) -> None:
    coach = await open_recording(browser, recorded, "coach")
    page = coach.page
    skill = page.locator("#note-skill")
    await expect(skill).to_be_visible()
    await expect(skill.locator('option[value="reframing"]')).to_have_text("Reframing")
    await page.locator("#note-text").fill("Turned blame into a shared problem")
    await skill.select_option("reframing")
    await page.locator("#note-rating").select_option("4")
    await page.get_by_role("button", name="Add note").click()
    item = page.locator("#notes > li.note")
    # the tag reads as the rubric names it, not as its id
    await expect(item.locator(".skill-chip")).to_have_text("Reframing · 4/5")
    # the characters name the tiles
    await expect(page.locator('#players li[data-seat="party_a"]')).to_contain_text("Amara Okafor")
    status, notes = await api(
        recorded.server,
        "GET",
        f"/api/recordings/{recorded.room}/annotations",
        recorded.server.config.admin_token,
    )
    assert status == 200
    assert [(n["skill"], n["rating"]) for n in notes] == [("reframing", 4)]
    assert coach.errors == []


async def test_playback_opens_at_the_first_recorded_moment_with_every_seat_showing(
    browser: Browser, recorded: LobbySession
) -> None:
    mediator = await open_recording(browser, recorded, "mediator")
    page = mediator.page
    time = page.locator("#time")
    await expect(time).to_have_attribute("data-t-ms", str(LOBBY_END_MS))
    for seat in SEATS:
        tile = page.locator(f'#players li[data-seat="{seat}"]')
        await expect(tile).to_have_attribute("data-state", "video")
        # a function, not an expression: an expression is polled through eval(), which
        # the page's Content-Security-Policy refuses once the first check is false
        await page.wait_for_function(f"(seat) => ({SHOWN_JS})(seat) !== null", arg=seat)
        shown = await page.evaluate(SHOWN_JS, seat)
        assert looks_like(shown["colour"], seat), (seat, shown)
    await expect(page.get_by_text("Not recorded")).to_have_count(0)
    await screenshot(mediator, "playback-at-start")
    assert mediator.errors == []


async def test_the_duration_stops_at_the_end_and_the_timeline_ends_there(
    browser: Browser, recorded: LobbySession
) -> None:
    admin = recorded.server.config.admin_token
    status, summary = await api(recorded.server, "GET", f"/api/recordings/{recorded.room}", admin)
    assert status == 200
    # the seats released a minute after the end do not lengthen the recording
    assert summary["duration_ms"] == END_MS, summary["duration_ms"]
    assert summary["phases"][-1] == {
        "phase": "ended",
        "start_ms": END_MS,
        "end_ms": END_MS,
        "hidden": False,
    }
    viewer = await open_recording(browser, recorded, "admin")
    page = viewer.page
    await expect(page.locator("#time")).to_have_text("00:03.0 / 00:09.0")
    await expect(page.locator('.band[data-kind="ended"]')).to_have_count(0)
    await page.goto(f"{recorded.server.url}/review#token={admin}")
    item = page.locator(f'li[data-room="{recorded.room}"]')
    await expect(item).to_contain_text("00:09 long")
    assert viewer.errors == []
