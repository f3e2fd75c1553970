"""The playback page: every seat on one clock and one timeline; caucuses stay private.

The recording (tests/e2e/recorded.py) gives each seat a solid colour and draws the
session time as a white bar along the bottom of every frame, so the test checks the
picture each player shows, not only where its element says it is.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.browser import SCREENSHOTS, SeatPage, screenshot
from tests.e2e.recorded import (
    COLOURS,
    END_MS,
    SHOWN_JS,
    ColourSession,
    click_timeline,
    expect_time,
    open_playback,
    record_colour_session,
    segments_for,
    video_at,
)
from tests.live_server import LiveServer

SEATS = ["mediator", "party_a", "party_b", "coach"]
#: how far an element's position may be from the master clock after a seek (s)
SEEK_TOLERANCE_S = 0.15
#: how far the picture's time bar may be from the clock: one frame plus a pixel's blur (ms)
PICTURE_TOLERANCE_MS = 300
SEGMENT_URL = re.compile(r"/api/recordings/[^/]+/segments/(\d+)\?")

PICTURE_OK_JS = f"""([seat, rgb, t, end, tolerance]) => {{
  const shown = ({SHOWN_JS})(seat);
  return Boolean(shown) && rgb.every((c, i) => Math.abs(c - shown.colour[i]) <= 45)
    && Math.abs(shown.bar * end - t) <= tolerance;
}}"""

ALIGNED_JS = """([seat, id, offset, tolerance]) => {
  const v = document.querySelector(`#players video[data-seat="${seat}"]`);
  return Boolean(v) && v.dataset.segment === String(id) && v.readyState >= 1
    && Math.abs(v.currentTime - offset) <= tolerance;
}"""

#: every element that is playing, with how far it is from the master clock (s)
#: (window.__caucusClockNow: tests/e2e/browser.PLAYBACK_CLOCK)
DRIFT_JS = """(starts) => {
  const t = window.__caucusClockNow();
  return [...document.querySelectorAll("#players video, #players audio")]
    .filter((m) => !m.paused)
    .map((m) => [m.dataset.seat, m.tagName,
                 m.currentTime - (t - starts[m.dataset.segment]) / 1000]);
}"""


@pytest.fixture
async def session(server: LiveServer) -> ColourSession:
    return await record_colour_session(server, "coach-ana")


async def expect_picture(page: Page, seat: str, t: int) -> None:
    """The seat's player shows that seat's colour at (about) session time t."""
    try:
        await page.wait_for_function(
            PICTURE_OK_JS, arg=[seat, list(COLOURS[seat]), t, END_MS, PICTURE_TOLERANCE_MS]
        )
    except Exception as exc:
        shown = await page.evaluate(SHOWN_JS, seat)
        raise AssertionError(f"{seat} at {t} ms shows {shown}") from exc


async def expect_players_at(
    seat_page: SeatPage, segments: list[dict[str, Any]], t: int, missing: str = "none"
) -> None:
    """Each seat's video is on the segment that holds t, at t − start (within 0.15 s) and
    shows the right picture; a seat with nothing at t shows `missing` instead."""
    page = seat_page.page
    await expect_time(page, t)
    for seat in SEATS:
        tile = page.locator(f'#players li[data-seat="{seat}"]')
        segment = video_at(segments, seat, t)
        if segment is None:
            await expect(tile).to_have_attribute("data-state", missing)
            continue
        await expect(tile).to_have_attribute("data-state", "video")
        offset = (t - segment["start_ms"]) / 1000
        await page.wait_for_function(
            ALIGNED_JS, arg=[seat, segment["id"], offset, SEEK_TOLERANCE_S]
        )
        await expect_picture(page, seat, t)


def requested_segments(urls: list[str]) -> set[int]:
    return {int(m.group(1)) for url in urls if (m := SEGMENT_URL.search(url))}


async def test_every_seat_plays_on_one_clock_and_a_click_on_the_timeline_moves_them_all(
    browser: Browser, session: ColourSession
) -> None:
    coach = await open_playback(browser, session, "coach")
    page = coach.page
    segments = await segments_for(session, session.token("coach"))
    # The token left the address bar (it stays in this tab's sessionStorage).
    assert "token" not in page.url

    tiles = page.locator("#players > li")
    await expect(tiles).to_have_count(4)
    assert await tiles.evaluate_all("els => els.map(e => e.dataset.seat)") == SEATS
    await expect(page.locator("#players video")).to_have_count(4)
    await expect(page.locator('#players li[data-seat="party_a"]')).to_contain_text("Wanjiru Kamau")
    await expect(page.locator('#players li[data-seat="party_a"]')).to_contain_text(
        "Party A · as Amara Okafor"
    )
    bands = page.locator(".timeline .band")
    assert await bands.evaluate_all("els => els.map(e => e.dataset.phase)") == [
        "joint",
        "caucus:party_a",
        "joint",
    ]
    caucus = page.locator('.band[data-kind="caucus"]')
    await expect(caucus).to_have_attribute("data-hidden", "false")
    await expect(caucus).to_have_text("Caucus with Amara Okafor")
    await expect_players_at(coach, segments, 0)

    # A click anywhere moves every player to the same moment: joint, caucus, joint again.
    for fraction in (0.2, 0.55, 0.8):
        t = await click_timeline(page, fraction)
        await expect_players_at(coach, segments, t)
        if 4000 <= t < 8000:
            await screenshot(coach, "playback-coach-caucus-1280x720")

    # Keyboard on the timeline: Home/End, arrows by 5 s, Space plays and pauses.
    track = page.locator(".timeline .track")
    await track.focus()
    for key, t in [("Home", 0), ("End", END_MS), ("Home", 0), ("ArrowRight", 5000)]:
        await page.keyboard.press(key)
        await expect_time(page, t)
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("ArrowLeft")
    await expect_players_at(coach, segments, 5000)

    # Playing: one clock drives every element; none drifts from it for long.
    await page.keyboard.press("ArrowRight")  # 10 s
    await page.keyboard.press("ArrowLeft")  # 5 s
    await page.keyboard.press("ArrowRight")  # 10 s
    await expect_time(page, 10_000)
    await page.keyboard.press("Home")
    starts = {str(s["id"]): s["start_ms"] for s in segments}
    await page.keyboard.press("Space")
    await expect(page.locator("#play")).to_have_text("Pause")
    # Six elements play (four videos, two seats' audio), all within 0.15 s of the clock.
    await page.wait_for_function(
        f"""(starts) => {{
            const drift = ({DRIFT_JS})(starts);
            return window.__caucusClockNow() > 1000 && drift.length === 6
              && drift.every(([, , d]) => Math.abs(d) <= {SEEK_TOLERANCE_S});
        }}""",
        arg=starts,
    )
    await page.keyboard.press("Space")
    await expect(page.locator("#play")).to_have_text("Play")
    paused_at = int(await track.get_attribute("aria-valuenow") or -1)
    assert 1000 < paused_at < 4000, paused_at
    await expect_players_at(coach, segments, paused_at)
    assert coach.errors == []


async def test_a_party_sees_the_other_partys_caucus_hidden_and_never_loads_its_media(
    browser: Browser, session: ColourSession
) -> None:
    all_segments = await segments_for(session, session.admin_token)
    private = {s["id"] for s in all_segments if s["visibility"] != "public"}
    assert private, "the recording has caucus segments"
    urls: list[str] = []
    party_b = await open_playback(browser, session, "party_b", requests=urls)
    page = party_b.page
    segments = await segments_for(session, session.token("party_b"))
    assert not {s["id"] for s in segments} & private

    caucus = page.locator('.band[data-kind="caucus"]')
    await expect(caucus).to_have_attribute("data-hidden", "true")
    await expect(caucus).to_have_text("Private caucus — not available to you")
    await expect(page.locator("#players > li")).to_have_count(4)

    t = await click_timeline(page, 0.5)
    await expect_players_at(party_b, segments, t, missing="hidden")
    for tile in await page.locator("#players > li").all():
        await expect(tile).to_contain_text("Private caucus — not available to you")
    await screenshot(party_b, "playback-party-b-hidden-caucus-1280x720")

    # Play through the end of the caucus: the joint session comes back on every tile.
    t = await click_timeline(page, 0.6)
    await page.locator("#play").click()
    await page.wait_for_function('() => Number(document.getElementById("time").dataset.tMs) > 8600')
    await page.locator("#play").click()
    paused_at = int(await page.locator(".timeline .track").get_attribute("aria-valuenow") or -1)
    await expect_players_at(party_b, segments, paused_at)

    loaded = requested_segments(urls)
    assert loaded, "the page loaded the public segments"
    assert not loaded & private, f"requested caucus segments {loaded & private}"
    assert loaded <= {s["id"] for s in segments}
    assert party_b.errors == []


async def test_the_admin_watches_everything_and_a_reload_keeps_the_page(
    browser: Browser, session: ColourSession
) -> None:
    urls: list[str] = []
    admin = await open_playback(browser, session, "admin", static=True, requests=urls)
    page = admin.page
    segments = await segments_for(session, session.admin_token)
    await expect(page.locator('.band[data-kind="caucus"]')).to_have_attribute(
        "data-hidden", "false"
    )
    t = await click_timeline(page, 0.5)
    # In the caucus: the mediator, party_a and the coach; party_b stepped out.
    await expect_players_at(admin, segments, t)
    await expect(page.locator('#players li[data-seat="party_b"]')).to_contain_text("Not recorded")
    caucus_video = {
        s["id"] for s in segments if s["visibility"] != "public" and s["kind"] == "video"
    }
    assert caucus_video <= requested_segments(urls)

    # The token is remembered for this tab: a reload (no fragment any more) still works.
    assert "token" not in page.url and "room=" in page.url
    await page.reload()
    await expect(page.locator("#playback")).to_be_visible()
    await expect(page.locator("#players > li")).to_have_count(4)
    assert admin.errors == []


async def test_the_review_page_lists_a_coachs_recordings_and_opens_one(
    browser: Browser, session: ColourSession, server: LiveServer
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{server.url}/review#token={session.token('coach')}")
    item = page.locator(f'#recordings li[data-room="{session.room}"]')
    await expect(item).to_contain_text("The Fence on Alder Lane")
    await expect(item).to_contain_text("You were Coach")
    await expect(page.locator("#recordings > li")).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / "review-list-coach.png")
    await item.get_by_role("link").click()
    await expect(page).to_have_url(re.compile(rf"/recordings/{session.room}$"))
    await expect(page.locator("#players > li")).to_have_count(4)
    await context.close()
