"""The review list as a first-time user met it (issue 12): sessions that never ran are
set apart; each recording says when it ran and who was in it; a filter finds one."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.async_api import Browser, expect

from tests.e2e.browser import DESKTOP, SCREENSHOTS, WAIT_MS
from tests.e2e.first_time import record_with_lobby
from tests.live_server import LiveServer

NOV_30 = int(datetime(2026, 11, 30, 14, 0, tzinfo=UTC).timestamp() * 1000)
DEC_1 = int(datetime(2026, 12, 1, 9, 30, tzinfo=UTC).timestamp() * 1000)
OTHERS = {
    "mediator": "Ana Souza",
    "party_a": "Kofi Mensah",
    "party_b": "Mei Lin",
    "coach": "Dr Helen Brandt",
}


async def test_the_review_list_shows_when_each_ran_who_was_in_it_and_filters(
    server: LiveServer, browser: Browser
) -> None:
    first = await record_with_lobby(server, t0_ms=NOV_30)
    second = await record_with_lobby(server, OTHERS, t0_ms=DEC_1)
    never = await server.simulation("boundary-fence")  # links made, nobody came

    context = await browser.new_context(viewport=DESKTOP, timezone_id="UTC", locale="en-GB")
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{server.url}/review#token={server.config.admin_token}")

    listed = page.locator("#recordings > li.recording-item")
    await expect(listed).to_have_count(2)
    # newest run first, dated by when it ran (the lobby ended 3 s after t0), not created
    assert await listed.evaluate_all("els => els.map(e => e.dataset.room)") == [
        second.room,
        first.room,
    ]
    one = page.locator(f'#recordings li[data-room="{first.room}"]')
    await expect(one).to_contain_text("Ran 30 Nov 2026, 14:00")
    await expect(one).to_contain_text("00:09 long")
    await expect(one).to_contain_text(
        "Li Wei (Mediator), Wanjiru Kamau (Party A), Diego Ramos (Party B), Dr Helen Brandt (Coach)"
    )
    # the simulation that never ran is grouped apart, closed
    await expect(page.locator(f'#recordings li[data-room="{never}"]')).to_have_count(0)
    not_run = page.locator("#not-run")
    await expect(not_run.locator("summary")).to_have_text("Not run yet (1)")
    await not_run.locator("summary").click()
    await expect(not_run.locator(f'li[data-room="{never}"]')).to_contain_text("Created")

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / "review-list.png")

    await page.get_by_label("Scenario or person").fill("kofi")
    await expect(listed).to_have_count(1)
    await expect(listed).to_have_attribute("data-room", second.room)
    await expect(page.locator("#filter-count")).to_have_text("1 of 2 recordings shown.")
    await page.get_by_label("Scenario or person").fill("alder")  # the scenario's title
    await expect(listed).to_have_count(2)
    await page.get_by_label("Ran on or before").fill("2026-11-30")
    await expect(listed).to_have_count(1)
    await expect(listed).to_have_attribute("data-room", first.room)
    await page.get_by_label("Scenario or person").fill("nobody by this name")
    await expect(listed).to_have_count(0)
    await expect(page.locator("#recordings")).to_contain_text("No recording matches the filter.")
    assert errors == []
    await context.close()
