"""Issue #14's must-show, in real Chromium against a real server with its media server.

A fresh install: an empty data directory, `caucus users add … --role admin` run as a
real process, whose printed link the admin opens. The admin sets a password, creates a
cohort, invites a coach (Phoenix) and three trainees (Nairobi, Taipei, London) on the
people page, copying each link off the page; adds them to the cohort; schedules a
simulation a few minutes ahead and seats them. Each signs in from their link, sees the
time in their own zone on their home page and joins from it (no link); the coach starts
the joint session, media flows, the coach notes a moment for the Nairobi trainee and ends
the session. Afterwards the recording and that note are on the trainee's home page, the
session the coach coached on theirs, and the recording plays for the trainee signed in.
Every console page and the home pages are screenshotted (test-artifacts/screenshots/journey-*).
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, Page

from tests.e2e.browser import VIDEO_PLAYING, SeatPage, phase_button
from tests.e2e.journey import (
    Newcomer,
    caucus_users_add,
    expect,
    person_page,
    phase_is,
    set_password,
    shot,
    take_seat,
    when_text,
)
from tests.live_server import start_server
from tests.server_process import free_port
from web.console import SECTIONS

ADMIN_ZONE = "Europe/London"
COACH = Newcomer("ruth@example.org", "Ruth Diaz", "coach", "America/Phoenix")
NAIROBI = Newcomer("amara@example.org", "Amara Odhiambo", "trainee", "Africa/Nairobi")
TAIPEI = Newcomer("lin@example.org", "Lin Wei", "trainee", "Asia/Taipei")
LONDON = Newcomer("ben@example.org", "Ben Okafor", "trainee", "Europe/London")
#: four Chromium pages with media on a server with its SFU (tests/conftest.py)
pytestmark = pytest.mark.quiet
#: who sits where in the boundary-fence scenario (a mediator and two parties)
SEATS = {"mediator": NAIROBI, "party_a": TAIPEI, "party_b": LONDON, "coach": COACH}
SCENARIO = "boundary-fence"
COHORT = "Spring 2027 — Nairobi, Taipei, London, Phoenix"
NOTE = "You named both worries before proposing anything: keep doing that"
#: media and recordings cross real sockets on a loaded machine
MEDIA_MS = 60_000

#: on each console page, what shows that the journey's data has been drawn
FILLED = {
    "live": '#live-updated:has-text("Updated")',
    "simulations": '#past tr[data-id="{room}"]',
    "cohorts": "#cohort-list tbody tr",
    "people": '#people-rows tr:has-text("ben@example.org")',
    "scenarios": '#scenario-list tr[data-scenario="boundary-fence"]',
    "recordings": "#recordings tbody tr",
}


def updated_in(zone: str) -> re.Pattern[str]:
    """The live rooms page's "Updated 13:39:21." at `zone`'s hour (a minute either side)."""
    hours = {datetime.fromtimestamp(time.time() + d, ZoneInfo(zone)).hour for d in (-60, 60)}
    return re.compile(rf"^Updated ({'|'.join(f'{h:02d}' for h in hours)}):\d\d:\d\d\.$")


async def invite(admin: Page, who: Newcomer) -> str:
    """Invite `who` on the people page; the link the page shows to copy."""
    await admin.get_by_label("Email").fill(who.email)
    await admin.get_by_label("Name").fill(who.name)
    await admin.get_by_label("Role").select_option(who.role)
    await admin.get_by_label("Time zone").fill(who.time_zone)
    await admin.get_by_role("button", name="Invite").click()
    await expect(admin.locator("#link-title")).to_have_text(f"Invitation link for {who.name}")
    link = await admin.locator("#link").text_content() or ""
    await admin.get_by_role("button", name="Copy").click()
    await expect(admin.locator("#copied")).to_have_text("Copied.")
    assert await admin.evaluate("() => navigator.clipboard.readText()") == link
    return link


async def create_cohort(admin: Page) -> None:
    await admin.get_by_role("button", name="New cohort").click()
    form = admin.locator("#cohort-form")
    await form.get_by_label("Name", exact=True).fill(COHORT)
    await form.get_by_label("Starts on").fill("2026-11-01")
    await form.get_by_label("Ends on").fill("2027-06-30")
    await form.get_by_label("Sessions as mediator").fill("2")
    await form.get_by_label("Sessions as a party").fill("4")
    await form.locator(f'input[name="scenario"][value="{SCENARIO}"]').check()
    await admin.get_by_role("button", name="Save cohort").click()
    await expect(form).to_be_hidden()
    await expect(admin.locator("#cohort-list tbody tr")).to_contain_text(COHORT)


async def add_members(admin: Page) -> None:
    """Edit the cohort: the coach and the three trainees, picked from the people list."""
    row = admin.locator("#cohort-list tbody tr", has_text=COHORT)
    await row.get_by_role("button", name="Edit").click()
    form = admin.locator("#cohort-form")
    await form.locator("#pick-coaches").get_by_label(COACH.name).check()
    for trainee in (NAIROBI, TAIPEI, LONDON):
        await form.locator("#pick-trainees").get_by_label(trainee.name).check()
    await admin.get_by_role("button", name="Save cohort").click()
    await expect(form).to_be_hidden()
    await expect(row).to_contain_text(COACH.name)
    await expect(row).to_contain_text(f"3: {NAIROBI.name}")


async def schedule(admin: Page) -> tuple[str, int]:
    """Schedule the simulation four minutes ahead (join opens 15 min before: open now),
    typed as the admin's own wall-clock time; its id and start (UTC ms)."""
    start = datetime.fromtimestamp(time.time() + 240, ZoneInfo(ADMIN_ZONE))
    start = start.replace(second=0, microsecond=0)
    await expect(admin.locator("#zone-hint")).to_have_text(f"(your time, {ADMIN_ZONE})")
    await admin.get_by_label("Scenario").select_option(SCENARIO)
    await admin.get_by_label("Cohort").select_option(label=COHORT)
    await admin.locator("#starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    await admin.get_by_label("Length (minutes)").fill("45")
    await admin.get_by_label("Observer seats").fill("0")
    await admin.get_by_label("Observer seats").dispatch_event("change")
    await expect(admin.locator("#seat-list select")).to_have_count(len(SEATS))
    for seat, who in SEATS.items():
        await admin.locator(f"#seat-{seat}").select_option(label=who.name)
    await admin.get_by_role("button", name="Schedule").click()
    row = admin.locator("#upcoming tbody tr")
    await expect(row).to_have_count(1)
    for who in SEATS.values():
        await expect(row).to_contain_text(who.name)
    await expect(row).to_contain_text(start.strftime("%H:%M"))
    await expect(admin.locator("#links")).to_be_hidden()  # everyone seated: no guest links
    await shot(admin, "console-simulations-scheduled")
    room = await row.get_attribute("data-id")
    assert room
    return room, int(start.timestamp() * 1000)


async def arrive(browser: Browser, who: Newcomer, link: str, room: str, at_ms: int) -> SeatPage:
    """`who` opens their invitation, sets a password, lands home and sees the simulation
    at its time in their own zone, Join open."""
    opened = await person_page(browser, who.name, link)
    page = opened.page
    await set_password(page, who.name, f"{who.email} chose this")
    await page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/$"))
    await expect(page.get_by_role("heading", name="Your sessions")).to_be_visible()
    item = page.locator(f'#upcoming li[data-id="{room}"]')
    await expect(item.locator(".when time")).to_have_text(when_text(at_ms, who.time_zone))
    await expect(page.locator("#zone")).to_contain_text(f"Times are shown in {who.time_zone}")
    await expect(item.get_by_role("button", name="Join")).to_be_enabled()
    await expect(item).to_contain_text("Open now")
    return opened


async def join_from_home(opened: SeatPage, room: str, trainee: bool) -> None:
    item = opened.page.locator(f'#upcoming li[data-id="{room}"]')
    await item.get_by_role("button", name="Join").click()
    await opened.page.wait_for_url(re.compile(rf"/join/{room}$"))
    await take_seat(opened, consent=trainee)


@pytest.mark.timeout(480)
async def test_a_fresh_install_runs_a_scheduled_simulation_from_invitations_to_feedback(
    tmp_path: Path, browser: Browser
) -> None:
    data = tmp_path / "data"
    port = free_port()
    first = await caucus_users_add(data, port, "ada@example.org", "Ada Admin", ADMIN_ZONE)
    assert first.startswith(f"http://127.0.0.1:{port}/invite/"), first
    server = await start_server(
        data,
        port=port,
        media=True,
        ice_addresses="127.0.0.1",
        grace_s=60.0,  # the default heartbeats: a loaded machine does not look like a lost link
    )
    people: list[SeatPage] = []
    try:
        # 1. The first admin, from the link the CLI printed.
        admin_seat = await person_page(browser, "admin", first)
        people.append(admin_seat)
        admin = admin_seat.page
        await admin_seat.context.grant_permissions(["clipboard-read", "clipboard-write"])
        await set_password(admin, "Ada Admin", "ada's first password")
        await admin.wait_for_url("**/admin/live")
        await expect(admin.locator("#you")).to_have_text("Ada Admin · admin")

        # 2. A cohort; the people, invited on the people page; into the cohort.
        await admin.get_by_role("link", name="Cohorts").click()
        await admin.wait_for_url("**/admin/cohorts")
        await create_cohort(admin)
        await admin.get_by_role("link", name="People").click()
        await admin.wait_for_url("**/admin/people")
        links = {who.email: await invite(admin, who) for who in SEATS.values()}
        await expect(admin.locator("#people-rows tr")).to_have_count(5)
        await admin.get_by_role("link", name="Cohorts").click()
        await admin.wait_for_url("**/admin/cohorts")
        await add_members(admin)

        # 3. The simulation, scheduled and seated.
        await admin.get_by_role("link", name="Simulations").click()
        await admin.wait_for_url("**/admin/simulations")
        room, at_ms = await schedule(admin)

        # 4. Each signs in from their invitation and sees the time in their own zone.
        arrived = await asyncio.gather(
            *(arrive(browser, who, links[who.email], room, at_ms) for who in SEATS.values())
        )
        pages = dict(zip(SEATS, arrived, strict=True))
        people.extend(arrived)
        # the two: the same moment, as Nairobi's and as Phoenix's own clock
        nairobi_time, phoenix_time = (
            when_text(at_ms, NAIROBI.time_zone),
            when_text(at_ms, COACH.time_zone),
        )
        assert nairobi_time != phoenix_time
        await expect(pages["mediator"].page.locator("#upcoming .when time")).to_have_text(
            nairobi_time
        )
        await expect(pages["coach"].page.locator("#upcoming .when time")).to_have_text(phoenix_time)
        await shot(pages["mediator"].page, "home-trainee-nairobi-before")
        await shot(pages["coach"].page, "home-coach-phoenix-before")

        # 5. Everyone joins from their home page; the coach runs the session.
        await asyncio.gather(
            *(join_from_home(p, room, seat != "coach") for seat, p in pages.items())
        )
        coach = pages["coach"]
        await phase_button(coach, "joint").click()
        for p in pages.values():
            await phase_is(p, "Joint session")
        trainees = ["mediator", "party_a", "party_b"]
        await coach.page.wait_for_function(VIDEO_PLAYING, arg=trainees, timeout=MEDIA_MS)
        await pages["mediator"].page.wait_for_function(
            VIDEO_PLAYING, arg=["party_a", "party_b"], timeout=MEDIA_MS
        )
        await admin.get_by_role("link", name="Live").click()
        await admin.wait_for_url("**/admin/live")
        card = admin.locator(f'.live-room[data-id="{room}"]')
        await expect(card.locator('tr[data-seat="mediator"]')).to_contain_text(NAIROBI.name)
        await expect(card.locator(".phase-pill")).to_contain_text("Joint")
        # the page's clock is the admin's own (London), not the browser's (Kolkata)
        await expect(admin.locator("#live-updated")).to_have_text(updated_in(ADMIN_ZONE))
        await shot(admin, "console-live")

        # a live note for the Nairobi trainee (the mediator)
        await coach.page.get_by_label("For", exact=True).select_option("mediator")
        await coach.page.locator("#live-note-text").click()  # the moment: when it is focused
        await coach.page.keyboard.type(NOTE)
        await coach.page.keyboard.press("Enter")
        await expect(coach.page.locator("#live-notes li.mine")).to_contain_text(NOTE)
        await expect(coach.page.locator("#live-notes li.mine")).to_contain_text("for Mediator")
        await shot(coach.page, "room-coach")
        await shot(pages["mediator"].page, "room-trainee-nairobi")
        await coach.page.get_by_role("button", name="End session…").click()
        await coach.page.get_by_role("button", name="End now").click()
        for seat in trainees:
            await expect(
                pages[seat].page.get_by_role("link", name="Your sessions and feedback")
            ).to_be_visible()

        # 6. Home again: the past session, its recording and the note for her.
        mediator = pages["mediator"].page
        await mediator.get_by_role("link", name="Your sessions and feedback").click()
        past = mediator.locator(f'#past li[data-id="{room}"]')
        await expect(past).to_contain_text("1 note from your coach")
        await expect(past).not_to_contain_text("you did not join")
        await expect(past).to_contain_text(NOTE)
        recording = past.get_by_role("link", name="Recording and feedback")
        await expect(recording).to_have_attribute("href", f"/recordings/{room}")
        await shot(mediator, "home-trainee-nairobi-after")
        taipei = pages["party_a"].page
        await taipei.goto(f"{server.url}/")
        other = taipei.locator(f'#past li[data-id="{room}"]')
        await expect(other.get_by_role("link", name="Recording and feedback")).to_be_visible()
        await expect(other).not_to_contain_text(NOTE)
        await shot(taipei, "home-trainee-taipei-after")
        await coach.page.goto(f"{server.url}/")
        coached = coach.page.locator(f'#past li[data-id="{room}"]')
        await expect(coached).to_contain_text("You coached this session · 1 note")
        await expect(coached.get_by_role("link", name="Review the recording")).to_be_visible()
        await shot(coach.page, "home-coach-phoenix-after")

        # the recording, from her home page, signed in (no token): it plays
        async with mediator.expect_response(
            re.compile(rf"/api/recordings/{room}/segments/\d+"), timeout=MEDIA_MS
        ) as segment:
            await recording.click()
        assert (await segment.value).ok
        await mediator.wait_for_url(f"{server.url}/recordings/{room}")
        await expect(mediator.locator('#players li[data-state="video"]').first).to_be_visible(
            timeout=MEDIA_MS
        )
        await expect(mediator.locator("#notes")).to_contain_text(NOTE)
        await mediator.locator("#play").click()
        await mediator.wait_for_function(
            "() => Number(document.getElementById('time').dataset.tMs) > 500", timeout=MEDIA_MS
        )
        await shot(mediator, "playback-trainee")

        # 7. Every console page, with what the journey put there.
        for section in SECTIONS:
            await admin.goto(f"{server.url}/admin/{section}")
            await expect(admin.locator("#you")).to_have_text("Ada Admin · admin")
            await expect(admin.locator("#console-problem")).to_be_empty()
            await expect(
                admin.locator(FILLED.get(section, "#you").format(room=room)).first
            ).to_be_visible()
            await shot(admin, f"console-{section}" + ("-after" if section == "live" else ""))
        await admin.goto(f"{server.url}/")
        await expect(admin.get_by_role("heading", name="Your sessions")).to_be_visible()
        await shot(admin, "home-admin")
        for p in people:
            assert p.errors == [], (p.seat, p.errors)
    finally:
        for p in people:
            await p.close()
        await server.stop()
