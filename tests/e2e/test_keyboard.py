"""The coach reaches and works the phase controls with the keyboard alone."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.e2e.browser import phase_button, seat
from tests.live_server import LiveServer

MAX_TABS = 40


async def focused_control(page: Page) -> str | None:
    value: str | None = await page.evaluate("document.activeElement?.dataset?.to ?? null")
    return value


async def tab_to(page: Page, to: str) -> None:
    """Press Tab from where focus is until the phase control `to` has it (bounded)."""
    for _ in range(MAX_TABS):
        if await focused_control(page) == to:
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached the {to!r} control")


async def test_the_coach_tabs_through_phase_controls_and_triggers_them_from_the_keyboard(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    mediator = await seat(browser, server, room, "mediator")
    coach = await seat(browser, server, room, "coach")
    page = coach.page

    # From the top of the page, Tab alone reaches the first phase control.
    await page.locator("body").focus()
    await tab_to(page, "joint")
    start = phase_button(coach, "joint")
    await expect(start).to_be_focused()
    outline = await start.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none", "a focused control must show where focus is"
    await page.keyboard.press("Enter")
    await mediator.phase_is("Joint session")
    await coach.phase_is("Joint session")

    # "Start joint session" is no longer valid: focus moved to the first control that is,
    # and Tab visits the enabled ones in order, skipping the others (resume).
    await expect(phase_button(coach, "caucus:party_a")).to_be_focused()
    order = []
    for _ in range(5):
        order.append(await focused_control(page))
        await page.keyboard.press("Tab")
    assert order == ["caucus:party_a", "caucus:party_b", "timeout", "debrief", "ended"], order

    await page.keyboard.press("Shift+Tab")  # back onto "End session…"
    await page.keyboard.press("Shift+Tab")  # "Debrief"
    await page.keyboard.press("Shift+Tab")  # "Time-out"
    assert await focused_control(page) == "timeout"
    await page.keyboard.press("Space")
    await mediator.phase_is("Time-out")
    await coach.phase_is("Time-out")
    # The pressed control is no longer valid; focus moved to the first one that is.
    await expect(phase_button(coach, "resume")).to_be_focused()

    # Ending asks first: Enter opens the confirmation, Escape backs out.
    await tab_to(page, "ended")
    await page.keyboard.press("Enter")
    end_now = page.get_by_role("button", name="End now")
    await expect(end_now).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(end_now).to_be_hidden()
    await expect(phase_button(coach, "ended")).to_be_focused()
    await mediator.phase_is("Time-out")
    assert coach.errors == [] and mediator.errors == []
