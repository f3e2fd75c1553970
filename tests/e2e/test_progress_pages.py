"""The accountability tracker in Chromium: a trainee in Taipei reads her coach's note on the
playback page (which marks it read), finds herself complete on /progress, takes her
certificate and opens its public verification page signed out; her coach sees the cohort
on the console's progress page, who is behind first, and sorts it."""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import replace

from playwright.async_api import Browser, expect

from sessions.ids import ScenarioId
from sessions.logbook import Reflections
from sessions.people import Role
from sessions.scenarios import Scenario, builtin_scenarios
from storage import cohorts, logbook
from storage.schema import simulations
from tests.e2e.browser import DESKTOP, SCREENSHOTS, screenshot
from tests.e2e.test_home_page import open_signed_in
from tests.live_server import LiveServer
from tests.logbook_rows import finished, note
from tests.people import sign_in
from web.keys import DATABASE

SHIPPED = builtin_scenarios()
TAIPEI = "Asia/Taipei"


def scenario_of(scenario_id: str) -> Scenario | None:
    return SHIPPED.get(ScenarioId(scenario_id))


async def test_a_trainee_completes_takes_her_certificate_and_her_coach_sees_who_is_behind(
    server: LiveServer, browser: Browser
) -> None:
    app = server.app
    db = app[DATABASE]
    lin = await sign_in(app, Role.TRAINEE, "lin@example.org", "Lin Wei", TAIPEI)
    bo = await sign_in(app, Role.TRAINEE, "bo@example.org", "Bo Berg", "Europe/London")
    kip = await sign_in(app, Role.TRAINEE, "kip@example.org", "Kip Mwangi", "Africa/Nairobi")
    coach = await sign_in(app, Role.COACH, "ruth@example.org", "Ruth Diaz", "America/Phoenix")
    today = datetime.datetime.now(datetime.UTC).date()
    course = await cohorts.add(
        db,
        {
            "name": "Winter mediation course",
            "starts_on": (today - datetime.timedelta(days=30)).isoformat(),
            "ends_on": (today + datetime.timedelta(days=5)).isoformat(),
            "requirements": {"party_sessions": 2, "feedback_read": True, "reflections": True},
        },
    )
    trainees = [lin.person.id, bo.person.id, kip.person.id]
    await cohorts.set_members(db, course.id, [coach.person.id], trainees)
    first = await finished(
        db,
        {"party_a": (lin.person.id, "Lin Wei"), "party_b": (bo.person.id, "Bo Berg")},
        seats={"party_a": lin.person.id, "party_b": bo.person.id},
    )
    second = await finished(db, {"party_a": (lin.person.id, "Lin Wei")})
    async with db.transaction() as conn:
        await conn.execute(
            simulations.update()
            .where(simulations.c.id.in_([first, second]))
            .values(cohort_id=course.id)
        )
    await note(db, first, "You named your interest clearly", t_ms=20_000, target="party_a")
    for sim in (first, second):
        await logbook.record_completed(db, sim, scenario_of)
    for stored in await logbook.entries(db, lin.person.id):
        reflected = Reflections(went_well="I kept to my interests")
        await logbook.change(db, stored, replace(stored.entry, reflections=reflected))

    # The playback page marks the note addressed to Lin read when it shows it to her.
    playback = await open_signed_in(
        browser, server, lin, f"{server.url}/recordings/{first}", "lin-playback"
    )
    page = playback.page
    async with page.expect_response(lambda r: r.url.endswith("/read")) as marked:
        await expect(page.locator("#notes")).to_contain_text("You named your interest clearly")
    assert (await marked.value).status == 200
    await playback.close()

    mine = await open_signed_in(browser, server, lin, f"{server.url}/progress", "lin")
    page = mine.page
    card = page.locator(f'section[data-cohort="{course.id}"]')
    await expect(card.locator("[data-status]")).to_have_text("Complete")
    await expect(card.locator('tr[data-requirement="party_sessions"]')).to_contain_text("2")
    await expect(card.locator('tr[data-requirement="feedback_read"] td').nth(1)).to_have_text("1")
    last_day = (today + datetime.timedelta(days=5)).strftime("%-d %b %Y")
    await expect(card).to_contain_text(f"everything by the end of {last_day} (your time)")
    await expect(page.locator("#zone")).to_contain_text(TAIPEI)
    await card.get_by_role("button", name="Get your certificate").click()
    verify = card.get_by_role("link", name="Public verification page")
    await expect(verify).to_be_visible()
    await expect(card.get_by_role("link", name="Download the PDF")).to_be_visible()
    await screenshot(mine, "progress-trainee-complete")
    href = await verify.get_attribute("href")
    assert href is not None and href.startswith("/certificates/")
    assert mine.errors == []
    await mine.close()

    # Anyone, signed out, checks the certificate.
    context = await browser.new_context(viewport=DESKTOP)
    public = await context.new_page()
    await public.goto(f"{server.url}{href}")
    await expect(public.locator("#verdict")).to_have_text("Valid")
    await expect(public.locator("main")).to_contain_text("Lin Wei")
    await expect(public.locator("main")).to_contain_text("Winter mediation course")
    await expect(public.locator("main")).not_to_contain_text("lin@example.org")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await public.screenshot(path=SCREENSHOTS / "certificate-verification.png")
    await context.close()

    # The coach: who is behind first (Kip, nothing done with most of the course gone).
    console = await open_signed_in(browser, server, coach, f"{server.url}/admin/progress", "ruth")
    page = console.page
    table = page.locator('#trainees[data-loaded="true"]')
    await expect(table.locator("tbody tr")).to_have_count(3)
    first_row = table.locator("tbody tr").first
    await expect(first_row).to_have_attribute("data-status", "behind")
    await expect(first_row).to_contain_text("Kip Mwangi")
    await expect(first_row).to_have_class("row-behind")
    lin_row = table.locator(f'tbody tr[data-person="{lin.person.id}"]')
    await expect(lin_row).to_contain_text("Complete")
    await expect(lin_row.get_by_role("link", name="valid")).to_be_visible()
    await expect(page.locator("#progress-summary")).to_have_text(
        "3 trainees · 1 complete · 1 behind schedule"
    )
    await screenshot(console, "progress-console-coach")
    await page.locator('button[data-sort="name"]').click()
    await expect(table.locator("tbody tr").first).to_contain_text("Bo Berg")
    await page.locator('button[data-sort="name"]').click()
    await expect(table.locator("tbody tr").first).to_contain_text("Lin Wei")
    assert console.errors == []
    await console.close()

    # An admin revokes it from the console; its public page says so at once.
    admin = await sign_in(app, Role.ADMIN, "ada@example.org", "Ada Admin")
    console = await open_signed_in(
        browser, server, admin, f"{server.url}/admin/progress?cohort={course.id}", "ada"
    )
    page = console.page
    lin_row = page.locator(f'#trainees[data-loaded="true"] tbody tr[data-person="{lin.person.id}"]')
    page.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await lin_row.get_by_role("button", name="Revoke Lin Wei's certificate").click()
    await expect(
        page.locator(f'#trainees[data-loaded="true"] tbody tr[data-person="{lin.person.id}"]')
    ).to_contain_text("revoked")
    assert console.errors == []
    await console.close()
    context = await browser.new_context(viewport=DESKTOP)
    public = await context.new_page()
    await public.goto(f"{server.url}{href}")
    await expect(public.locator("#verdict")).to_contain_text("Revoked on")
    await public.screenshot(path=SCREENSHOTS / "certificate-verification-revoked.png")
    await context.close()
