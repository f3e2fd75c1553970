"""Availability and practice rounds in Chromium: a trainee states their weekly times in
their own zone (and a refusal marks its field); an admin asks for a round, reads it,
swaps two people, publishes; the trainee then sees their session on the home page."""

from __future__ import annotations

from typing import Any

import aiohttp
from playwright.async_api import Browser, expect

from sessions.people import Role
from storage import availability, rounds
from tests.e2e.browser import screenshot
from tests.e2e.test_home_page import local_time, open_signed_in
from tests.live_server import LiveServer
from tests.people import SignedIn, sign_in
from tests.round_rows import next_week, round_cohort
from web.auth import PEOPLE
from web.keys import DATABASE


async def test_a_trainee_states_availability_on_their_own_clock(
    server: LiveServer, browser: Browser
) -> None:
    amani = await sign_in(
        server.app, Role.TRAINEE, name="Amani Njoroge", time_zone="Africa/Nairobi"
    )
    seat = await open_signed_in(browser, server, amani, f"{server.url}/", "amani")
    page = seat.page
    await page.get_by_role("link", name="Availability").click()
    await expect(page.locator("body[data-ready=true]")).to_be_visible()
    await expect(page.locator("#zone")).to_contain_text("Africa/Nairobi")
    await page.get_by_role("button", name="Add a weekly time").click()
    await page.get_by_label("Day 1").select_option("Tuesday")
    await page.get_by_label("From, row 1").fill("18:30")
    await page.get_by_label("To, row 1").fill("21:00")
    await page.get_by_role("button", name="Add a weekly time").click()
    await page.get_by_label("Day 2").select_option("Saturday")
    await page.get_by_label("From, row 2").fill("22:00")
    await page.get_by_label("To, row 2").fill("01:00")  # past midnight
    await page.get_by_role("button", name="Add an exception").click()
    await page.get_by_label("From, exception 1").fill("2027-01-04T00:00")
    await page.get_by_label("Until, exception 1").fill("2027-01-06T00:00")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#saved")).to_have_text("Saved.")
    stored = await availability.read(server.app[DATABASE], amani.person.id)
    assert [(s.weekday, str(s.start), str(s.end)) for s in stored.weekly] == [
        (1, "18:30:00", "21:00:00"),
        (5, "22:00:00", "01:00:00"),
    ]
    assert [(e.kind, e.range.start.isoformat()) for e in stored.exceptions] == [
        ("unavailable", "2027-01-04T00:00:00")
    ]
    # an overlap is refused and the row at fault is marked
    await page.get_by_role("button", name="Add a weekly time").click()
    await page.get_by_label("Day 3").select_option("Tuesday")
    await page.get_by_label("From, row 3").fill("20:00")
    await page.get_by_label("To, row 3").fill("22:00")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#availability-problem")).to_contain_text("overlap")
    await expect(page.locator("#weekly tr").nth(2).locator("select")).to_have_attribute(
        "aria-invalid", "true"
    )
    await screenshot(seat, "availability-page")
    assert len((await availability.read(server.app[DATABASE], amani.person.id)).weekly) == 2
    assert seat.errors == [] or all("400" in e for e in seat.errors), seat.errors
    await seat.context.close()


async def test_an_admin_proposes_swaps_and_publishes_a_round_the_trainee_then_sees(
    server: LiveServer, browser: Browser
) -> None:
    db = server.app[DATABASE]
    admin = await sign_in(server.app, Role.ADMIN, name="Ada Admin", time_zone="Europe/London")
    cohort = await round_cohort(db, trainees_per_zone=2)
    console = await open_signed_in(browser, server, admin, f"{server.url}/admin/rounds", "admin")
    page = console.page
    await expect(page.locator("body[data-ready=true]")).to_be_visible()
    await page.locator("#cohort").select_option(cohort.cohort)
    # a trainee's experience level, set here, is what the matcher reads
    senior = cohort.trainees[0]
    await page.locator("#levels summary").click()
    await page.get_by_label(f"Level of {cohort.name_of[senior]}").fill("2")
    await page.get_by_role("button", name="Save levels").click()
    await expect(page.locator("#levels-status")).to_have_text("Saved.")
    assert (await rounds.levels_of(db, cohort.cohort))[senior] == 2
    await page.locator("#scenario").select_option("boundary-fence")
    first, last = next_week()
    await page.locator("#from").fill(first.isoformat())
    await page.locator("#to").fill(last.isoformat())
    await page.get_by_role("button", name="Propose groups").click()
    await expect(page.locator("#round[data-status=draft]")).to_be_visible()
    await expect(page.locator("#groups .group")).to_have_count(2)
    await expect(page.locator('#rules li[data-rule="availability"]')).to_have_class("met")
    await expect(page.locator("#unplaced-none")).to_be_visible()
    # each member's own clock is shown next to their name
    taipei = next(t for t in cohort.trainees if cohort.zone_of[t] == "Asia/Taipei")
    await expect(page.locator(f'#groups li[data-person="{taipei}"]')).to_contain_text("Asia/Taipei")
    await expect(page.locator("#round-list li")).to_have_count(1)

    # swap the two mediators' seats with each other's first party
    groups = page.locator("#groups .group")
    mediator = await groups.nth(0).locator("li").nth(0).get_attribute("data-person")
    party = await groups.nth(1).locator("li").nth(1).get_attribute("data-person")
    assert mediator and party
    await page.locator("#swap-a").select_option(mediator)
    await page.locator("#swap-b").select_option(party)
    await page.get_by_role("button", name="Swap", exact=True).click()
    await expect(page.locator("#broken")).not_to_be_empty()
    await expect(groups.nth(0).locator("li").nth(0)).to_have_attribute("data-person", party)
    await screenshot(console, "console-rounds-proposal")

    await page.get_by_role("button", name="Publish: schedule and tell everyone").click()
    await expect(page.locator("#round[data-status=published]")).to_be_visible()
    await expect(page.locator("#groups a", has_text="Join link")).to_have_count(2)
    await screenshot(console, "console-rounds-published")
    assert console.errors == [], console.errors
    await console.context.close()

    # the trainee who was swapped into the mediator's seat sees it on their home page
    people = server.app[PEOPLE]
    token, csrf = await people.start_session(party, "127.0.0.1")
    person = await people.get(party)
    assert person is not None
    trainee = SignedIn(person, token, csrf)
    home = await open_signed_in(browser, server, trainee, f"{server.url}/", "trainee")
    published = await the_round(server, admin)
    [group] = [g for g in published["groups"] if g["mediator"] == party]
    when = local_time(group["start_ms"], cohort.zone_of[party])
    await expect(home.page.locator("#upcoming")).to_contain_text(when)
    assert home.errors == [], home.errors
    await home.context.close()


async def the_round(server: LiveServer, admin: SignedIn) -> dict[str, Any]:
    """The only round on the server, as the API shows it."""
    async with aiohttp.ClientSession(cookies=admin.cookies) as http:
        async with http.get(f"{server.url}/api/rounds") as listed:
            [summary] = await listed.json()
        async with http.get(f"{server.url}/api/rounds/{summary['id']}") as response:
            return dict(await response.json())
