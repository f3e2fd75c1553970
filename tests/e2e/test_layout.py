"""The views fit a laptop (1280×720) and a phone (390×844); screenshots for people to look at."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, Page, expect

from tests.e2e.browser import PHONE, SeatPage, phase_button, screenshot, seat
from tests.live_server import LiveServer


async def overflow(page: Page) -> dict[str, int]:
    sizes: dict[str, int] = await page.evaluate(
        """() => ({
            scrollWidth: document.documentElement.scrollWidth,
            scrollHeight: document.documentElement.scrollHeight,
            width: innerWidth, height: innerHeight})"""
    )
    return sizes


async def small_targets(seat_page: SeatPage) -> list[str]:
    """Visible buttons smaller than a 44 px touch target."""
    found: list[str] = await seat_page.page.evaluate(
        """() => [...document.querySelectorAll('button, select, summary')]
            .filter(b => b.offsetParent !== null && b.getBoundingClientRect().height < 44)
            .map(b => b.textContent.trim())"""
    )
    return found


async def test_trainee_and_coach_views_fit_a_laptop_and_a_phone(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    names = {"mediator": "Li Wei", "party_a": "Wanjiru Kamau", "coach": "Dr Helen Brandt"}
    mediator, party_a, party_b, coach = await asyncio.gather(
        seat(browser, server, room, "mediator", names["mediator"]),
        seat(browser, server, room, "party_a", names["party_a"]),
        seat(browser, server, room, "party_b", "Diego Ramos", viewport=PHONE),
        seat(browser, server, room, "coach", names["coach"]),
    )

    await phase_button(coach, "joint").click()
    await coach.page.get_by_label("Whisper to the mediator").fill("Slow down; summarise first.")
    await coach.page.get_by_role("button", name="Send to mediator").click()
    await expect(mediator.page.get_by_role("log")).to_contain_text("summarise first")
    for page in (mediator, party_a, party_b, coach):
        await page.phase_is("Joint session")

    # Laptop: the room fills the window; nothing spills sideways or below.
    for desk in (party_a, coach, mediator):
        sizes = await overflow(desk.page)
        assert sizes["scrollWidth"] <= sizes["width"], (desk.seat, sizes)
        assert sizes["scrollHeight"] <= sizes["height"], (desk.seat, sizes)
        await expect(desk.page.locator("#mute")).to_be_in_viewport()
        await expect(desk.page.locator("#phase-banner")).to_be_in_viewport()
    await expect(phase_button(coach, "ended")).to_be_in_viewport()
    await screenshot(party_a, "trainee-view-1280x720")
    await screenshot(coach, "coach-view-1280x720")
    await screenshot(mediator, "mediator-view-1280x720")

    # Phone: one column, no sideways scrolling, touch-sized controls.
    sizes = await overflow(party_b.page)
    assert sizes["scrollWidth"] <= sizes["width"], sizes
    await expect(party_b.page.locator("#phase-banner")).to_be_in_viewport()
    await expect(party_b.page.locator('#tiles > li[data-seat="mediator"]')).to_be_in_viewport()
    assert await small_targets(party_b) == []
    await screenshot(party_b, "trainee-view-phone")

    await phase_button(coach, "caucus:party_a").click()
    await expect(party_b.page.locator("#away")).to_be_in_viewport()
    await screenshot(party_b, "trainee-caucus-away-phone")
    await screenshot(coach, "coach-view-caucus-1280x720")
    for page in (mediator, party_a, party_b, coach):
        assert page.errors == [], (page.seat, page.errors)
