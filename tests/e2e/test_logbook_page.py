"""The logbook page in Chromium: a trainee in Nairobi finds her finished simulation, adds
practice outside Caucus in her own time, writes a reflection, filters, and exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.async_api import Browser, expect
from sqlalchemy import insert

from sessions.ids import ScenarioId
from sessions.people import Role
from sessions.scenarios import builtin_scenarios
from storage import logbook
from storage.schema import cohort_members
from tests.e2e.browser import SCREENSHOTS, screenshot
from tests.e2e.test_home_page import NAIROBI, open_signed_in
from tests.home_rows import cohort_with_coach
from tests.live_server import LiveServer
from tests.logbook_rows import finished, rated
from tests.pdf_text import pdf_text
from tests.people import sign_in
from web.keys import DATABASE

SHIPPED = builtin_scenarios()


async def test_a_trainee_adds_an_entry_writes_a_reflection_and_exports_her_logbook(
    server: LiveServer, browser: Browser
) -> None:
    db = server.app[DATABASE]
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara Odhiambo", time_zone=NAIROBI)
    sim = await finished(
        db, {"mediator": (amara.person.id, "Amara Odhiambo"), "party_a": ("guest", "Lin Wei")}
    )
    await rated(db, sim, "mediator", "opening_statement", 4)
    await logbook.record_completed(db, sim, lambda i: SHIPPED.get(ScenarioId(i)))

    opened = await open_signed_in(browser, server, amara, f"{server.url}/logbook", "amara")
    page = opened.page
    entries = page.locator("#entries > li")
    await expect(entries).to_have_count(1)
    first = entries.first
    await expect(first).to_contain_text("Lead mediator · Online")
    await expect(first).to_contain_text("with Lin Wei")
    await expect(first).to_contain_text("The Fence on Alder Lane")
    await expect(first).to_contain_text("1 feedback note · Opening statement 4/5")
    await expect(first.get_by_role("button", name="Delete")).to_have_count(0)

    # Practice outside Caucus, typed in Nairobi time while the browser sits in Phoenix
    await page.get_by_text("Add practice outside Caucus").click()
    await page.locator("#a-when").fill("2026-03-10T18:30")
    await page.locator("#a-duration").fill("120")
    await page.locator("#a-role").select_option("co-mediator")
    await page.locator("#a-medium").select_option("face-to-face")
    await page.locator("#a-scenario").fill("Market stall lease, Kisumu")
    await page.locator("#a-with").fill("Wanjiru, Otieno")
    await page.get_by_role("button", name="Add to logbook").click()
    await expect(entries).to_have_count(2)
    added = page.locator("#entries > li[data-source='manual']")
    await expect(added.locator(".when time")).to_have_text("Tue, 10 Mar 2026, 18:30")
    stored = [e for e in await logbook.entries(db, amara.person.id) if e.simulation_id is None]
    assert len(stored) == 1
    at = datetime(2026, 3, 10, 18, 30, tzinfo=ZoneInfo(NAIROBI))
    assert stored[0].entry.at_ms == int(at.timestamp() * 1000)
    await expect(page.locator("#totals")).to_contain_text("2 sessions")

    # A hand-written entry changes in every field: the form comes back filled
    await added.get_by_role("button", name="Edit").click()
    await expect(page.locator("#a-when")).to_have_value("2026-03-10T18:30")
    await expect(page.locator("#a-with")).to_have_value("Wanjiru, Otieno")
    await page.locator("#a-duration").fill("150")
    await page.get_by_role("button", name="Save changes").click()
    await expect(added.locator(".when")).to_contain_text("150 min")
    await expect(added.locator(".when time")).to_have_text("Tue, 10 Mar 2026, 18:30")
    await expect(entries).to_have_count(2)

    # A reflection on the simulation's entry
    sim_entry = page.locator("#entries > li[data-source='caucus']")
    await sim_entry.get_by_role("button", name="Write reflections").click()
    await sim_entry.get_by_label("What went well").fill("A calm opening; both felt heard")
    await sim_entry.get_by_label("What I will do next time").fill("Summarise before caucusing")
    await sim_entry.get_by_role("button", name="Save reflections").click()
    sim_entry = page.locator("#entries > li[data-source='caucus']")
    await expect(sim_entry).to_contain_text("A calm opening; both felt heard")
    [saved] = [e for e in await logbook.entries(db, amara.person.id) if e.simulation_id == sim]
    assert saved.entry.reflections.next_steps == "Summarise before caucusing"
    await page.evaluate("() => window.scrollTo(0, 0)")
    await screenshot(opened, "logbook-trainee-nairobi")

    # Filters narrow the list and the export links follow them
    await page.locator("#f-role").select_option("co-mediator")
    await expect(entries).to_have_count(1)
    await expect(entries.first).to_contain_text("Market stall lease, Kisumu")
    href = await page.locator("#export-csv").get_attribute("href")
    assert href == "/api/logbook.csv?role=co-mediator&sort=date&order=desc"
    async with page.expect_download() as download_info:
        await page.locator("#export-csv").click()
    download = await download_info.value
    path = await download.path()
    text = path.read_bytes().decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert [dict(zip(header, r, strict=True))["Scenario"] for r in rows] == [
        "Market stall lease, Kisumu"
    ]
    await page.locator("#f-role").select_option("")
    await expect(entries).to_have_count(2)
    await expect(page.locator("#export-pdf")).to_have_attribute(
        "href", "/api/logbook.pdf?sort=date&order=desc"
    )
    async with page.expect_download() as download_info:
        await page.locator("#export-pdf").click()
    pdf = (await (await download_info.value).path()).read_bytes()
    shown = pdf_text(pdf)
    assert pdf.startswith(b"%PDF-")
    for expected in (
        "Amara Odhiambo",
        "The Fence on Alder Lane",
        "Market stall lease, Kisumu",
        "Went well: A calm opening; both felt heard",
        "2026-03-10 18:30 · Market stall lease, Kisumu",  # Nairobi time
    ):
        assert expected in shown, expected

    printed = await opened.context.new_page()
    await printed.goto(f"{server.url}/logbook/print")
    await expect(printed.locator("h1")).to_have_text("Mediation logbook")
    await expect(printed.locator(".entry")).to_have_count(2)
    await expect(printed.locator("body")).to_contain_text("A calm opening; both felt heard")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await printed.screenshot(path=SCREENSHOTS / "logbook-print.png", full_page=True)
    assert opened.errors == []
    await opened.close()


async def test_a_coach_reads_a_trainees_logbook_and_is_offered_no_change(
    server: LiveServer, browser: Browser
) -> None:
    db = server.app[DATABASE]
    amara = await sign_in(server.app, Role.TRAINEE, name="Amara Odhiambo", time_zone=NAIROBI)
    ruth = await sign_in(server.app, Role.COACH, name="Ruth Diaz", time_zone="America/Phoenix")
    cohort = await cohort_with_coach(db, ruth.person.id)
    async with db.transaction() as conn:
        await conn.execute(
            insert(cohort_members).values(
                cohort_id=cohort, person_id=amara.person.id, role="trainee"
            )
        )
    sim = await finished(db, {"mediator": (amara.person.id, "Amara Odhiambo")})
    await logbook.record_completed(db, sim)

    url = f"{server.url}/logbook?person={amara.person.id}"
    opened = await open_signed_in(browser, server, ruth, url, "ruth")
    page = opened.page
    await expect(page.locator("h1")).to_have_text("Amara Odhiambo’s logbook")
    await expect(page.locator("#zone")).to_have_text("Times are shown in Africa/Nairobi.")
    await expect(page.locator("#entries > li")).to_have_count(1)
    await expect(page.locator("#entries button")).to_have_count(0)
    await expect(page.locator("#add")).to_be_hidden()
    href = await page.locator("#export-pdf").get_attribute("href")
    assert href == f"/api/logbook.pdf?person={amara.person.id}&sort=date&order=desc"
    assert opened.errors == []
    await opened.close()
