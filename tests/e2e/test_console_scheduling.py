"""The console's simulations and live rooms pages, and a signed-in trainee who joins
without a link, in real Chromium against a real server."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, Route, expect
from sqlalchemy import insert

from sessions.people import Role
from storage.schema import cohort_members, cohorts
from tests.e2e.browser import DESKTOP, INSTRUMENT, SCREENSHOTS, WAIT_MS, SeatPage, take_seat
from tests.live_server import LiveServer
from tests.people import SignedIn, sign_in
from web.auth import COOKIE
from web.keys import DATABASE

PHOENIX, NAIROBI = "America/Phoenix", "Africa/Nairobi"


async def full_screenshot(seat_page: SeatPage, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await seat_page.page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def signed_in_page(
    browser: Browser, server: LiveServer, who: SignedIn | None, path: str, name: str
) -> SeatPage:
    """A browser context carrying `who`'s session cookie (none: anonymous) on `path`."""
    context = await browser.new_context(viewport=DESKTOP, locale="en-GB")
    await context.add_init_script(INSTRUMENT)
    if who is not None:
        await context.add_cookies([{"name": COOKIE, "value": who.token, "url": server.url}])
    page = await context.new_page()
    page.set_default_timeout(WAIT_MS)
    opened = SeatPage(name, context, page)
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    await page.goto(f"{server.url}{path}")
    return opened


async def stand_in_lists(seat_page: SeatPage, people: list[SignedIn]) -> None:
    """/api/people and /api/cohorts belong to the people and cohorts work, not built on
    this branch: the page is handed the real rows (ids from this server's database)."""

    async def people_list(route: Route) -> None:
        rows = [{"id": p.person.id, "name": p.person.name, "active": True} for p in people]
        await route.fulfill(status=200, content_type="application/json", body=json.dumps(rows))

    async def cohort_list(route: Route) -> None:
        body = json.dumps([{"id": "spring", "name": "Spring 2027"}])
        await route.fulfill(status=200, content_type="application/json", body=body)

    await seat_page.page.route("**/api/people", people_list)
    await seat_page.page.route("**/api/cohorts", cohort_list)


async def test_an_admin_schedules_people_into_seats_and_a_trainee_joins_without_a_link(
    server: LiveServer, browser: Browser
) -> None:
    app = server.app
    admin = await sign_in(app, Role.ADMIN, "ada@example.org", "Ada Admin", PHOENIX)
    amara = await sign_in(app, Role.TRAINEE, "amara@example.org", "Amara Odhiambo", NAIROBI)
    ben = await sign_in(app, Role.TRAINEE, "ben@example.org", "Ben Okafor", "Europe/London")
    async with app[DATABASE].transaction() as conn:
        await conn.execute(
            insert(cohorts).values(
                id="spring",
                name="Spring 2027",
                starts_on="2027-01-01",
                ends_on="2027-06-30",
                requirements={},
                created_ms=0,
            )
        )
        await conn.execute(
            insert(cohort_members).values(
                cohort_id="spring", person_id=amara.person.id, role="trainee"
            )
        )

    console = await signed_in_page(browser, server, admin, "/admin/simulations", "admin")
    await stand_in_lists(console, [admin, amara, ben])
    await console.page.reload()
    page = console.page
    await expect(page.locator("#zone-hint")).to_have_text(f"(your time, {PHOENIX})")
    # five minutes from now, typed as the admin's own wall-clock time in Phoenix
    start = datetime.fromtimestamp(time.time() + 300, ZoneInfo(PHOENIX)).replace(second=0)
    await page.get_by_label("Scenario").select_option("boundary-fence")
    await page.get_by_label("Cohort").select_option("spring")
    await page.locator("#starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Length (minutes)").fill("45")
    await page.locator("#seat-mediator").select_option(amara.person.id)
    await page.locator("#seat-party_a").select_option(ben.person.id)
    await page.get_by_role("button", name="Schedule").click()

    row = page.locator("#upcoming tbody tr")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Amara Odhiambo")
    await expect(row).to_contain_text("Ben Okafor")
    await expect(row).to_contain_text(start.strftime("%H:%M"))  # the admin's own time
    # the seats nobody holds got guest links, each with a copy button
    links = page.locator("#link-list li")
    await expect(links).to_have_count(3)
    assert await links.evaluate_all("els => els.map(e => e.dataset.seat)") == [
        "party_b",
        "coach",
        "observer_1",
    ]
    await expect(links.first.get_by_role("button", name="Copy")).to_be_visible()
    room = await row.get_attribute("data-id")
    assert room is not None
    await full_screenshot(console, "console-simulations")

    # Amara, signed in, opens the room's address with no token and is seated
    trainee = await signed_in_page(browser, server, amara, f"/join/{room}", "mediator")
    await take_seat(trainee)
    await expect(trainee.page.locator("#tiles")).to_contain_text("Amara Odhiambo")

    # somebody not signed in is told to sign in
    stranger = await signed_in_page(browser, server, None, f"/join/{room}", "nobody")
    await expect(stranger.page.get_by_role("heading", name="Sign in to join")).to_be_visible()
    await expect(stranger.page.get_by_role("link", name="Sign in")).to_have_attribute(
        "href", f"/login?next=%2Fjoin%2F{room}"
    )

    # the live rooms page shows her connected, then ends the room for her too
    live = await signed_in_page(browser, server, admin, "/admin/live", "admin-live")
    card = live.page.locator(f'.live-room[data-id="{room}"]')
    await expect(card.locator('tr[data-seat="mediator"]')).to_contain_text("Amara Odhiambo")
    await expect(card.locator('tr[data-seat="mediator"] .seat-state')).to_have_text("Connected")
    await expect(card.locator('tr[data-seat="party_a"]')).to_contain_text("Ben Okafor (not here)")
    await expect(card.locator(".phase-pill")).to_contain_text("Lobby")
    await full_screenshot(live, "console-live")
    await card.get_by_role("button", name="End").click()
    await live.page.get_by_role("button", name="End it now").click()
    await expect(trainee.page.get_by_role("heading", name="The session has ended")).to_be_visible()
    await expect(card.locator(".phase-pill")).to_have_text("Ended")
    for opened in (console, trainee, stranger, live):
        assert opened.errors == [], opened.errors
        await opened.close()


async def test_one_scheduled_time_reads_in_each_persons_own_zone(
    server: LiveServer, browser: Browser
) -> None:
    phoenix = await sign_in(server.app, Role.ADMIN, "ada@example.org", "Ada", PHOENIX)
    nairobi = await sign_in(server.app, Role.ADMIN, "wanjiru@example.org", "Wanjiru", NAIROBI)
    async with phoenix.session() as http:
        async with http.post(
            f"{server.url}/api/schedule",
            json={"scenario": "workplace-rota", "local_time": "2027-03-10T09:00"},
            headers=phoenix.write_headers,
        ) as response:
            created = await response.json()
    assert datetime.fromtimestamp(created["scheduled_ms"] / 1000, UTC).hour == 16
    for who, shown in ((phoenix, "09:00"), (nairobi, "19:00")):
        opened = await signed_in_page(browser, server, who, "/admin/simulations", who.person.name)
        row = opened.page.locator(f'#upcoming tr[data-id="{created["id"]}"]')
        await expect(row).to_contain_text("10 Mar 2027")
        await expect(row).to_contain_text(shown)
        await opened.close()


async def test_before_it_opens_the_join_page_says_when_in_the_persons_own_time(
    server: LiveServer, browser: Browser
) -> None:
    admin = await sign_in(server.app, Role.ADMIN, "ada@example.org", "Ada", PHOENIX)
    amara = await sign_in(server.app, Role.TRAINEE, "amara@example.org", "Amara", NAIROBI)
    start = (int(time.time()) // 60 + 120) * 60_000  # two hours ahead, on the minute
    async with admin.session() as http:
        async with http.post(
            f"{server.url}/api/schedule",
            json={
                "scenario": "boundary-fence",
                "scheduled_ms": start,
                "seats": {"party_b": amara.person.id},
            },
            headers=admin.write_headers,
        ) as response:
            created = await response.json()
    opened = await signed_in_page(browser, server, amara, f"/join/{created['id']}", "party_b")
    page = opened.page
    await expect(
        page.get_by_role("heading", name="This simulation is not open yet")
    ).to_be_visible()
    opens = datetime.fromtimestamp(start / 1000 - 15 * 60, ZoneInfo(NAIROBI))
    await expect(page.locator("#notice-text")).to_contain_text(opens.strftime("%H:%M"))
    await expect(page.get_by_role("button", name="Try again")).to_be_visible()
    assert opened.errors == [], opened.errors
    await opened.close()
