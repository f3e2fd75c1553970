"""A whole simulation run from four browsers: the coach drives every phase with the buttons."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.e2e.browser import (
    SeatPage,
    all_show_phase,
    expect_controls,
    expect_tiles,
    phase_button,
    seat_all,
)
from tests.live_server import LiveServer

TRAINEES = ["mediator", "party_a", "party_b"]


async def everyone_sees(pages: dict[str, SeatPage], banner: str) -> None:
    await all_show_phase(pages.values(), banner)


async def test_a_coach_drives_a_whole_simulation_and_every_page_follows(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    names = {"mediator": "Li Wei", "party_a": "Wanjiru Kamau", "party_b": "Diego Ramos"}
    pages = await seat_all(browser, server, room, {**names, "coach": "Dr Helen Brandt"})
    coach, mediator, party_a, party_b = (pages[s] for s in ["coach", *TRAINEES])

    await everyone_sees(pages, "Waiting to start")
    # No plan for the lobby: the timer counts up.
    await expect(coach.page.locator("#phase-timer")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    await expect_tiles(coach, ["mediator", "party_a", "party_b", "coach"])
    await expect_tiles(party_b, ["mediator", "party_a", "party_b", "coach"])
    everything = {"joint": True, "caucus:party_a": False, "caucus:party_b": False}
    await expect_controls(coach, {**everything, "timeout": False, "resume": False})
    await expect_controls(coach, {"debrief": False, "ended": True})
    # The mediator may move between joint session and caucuses, and nothing else.
    await expect_controls(mediator, {"caucus:party_a": False, "caucus:party_b": False})
    await expect(mediator.page.locator('#phase-controls [data-to="timeout"]')).to_have_count(0)
    await expect(mediator.page.locator('#phase-controls [data-to="ended"]')).to_have_count(0)
    for party in (party_a, party_b):
        await expect(party.page.locator("#phase-controls")).to_be_hidden()
        await expect(party.page.locator("#whispers")).to_be_hidden()

    await phase_button(coach, "joint").click()
    await everyone_sees(pages, "Joint session")
    # Screen readers hear the change through a polite live region.
    announcer = party_b.page.locator("#announcer")
    await expect(announcer).to_have_attribute("aria-live", "polite")
    await expect(announcer).to_contain_text("Phase changed: Joint session.")
    # The scenario plans 15 minutes of joint session: the timer counts down.
    await expect(party_a.page.locator("#phase-timer")).to_have_text(
        re.compile(r"^1[45]:\d\d left$")
    )
    await expect_controls(coach, {"joint": False, "caucus:party_a": True, "timeout": True})
    await expect_controls(coach, {"resume": False, "debrief": True, "ended": True})
    await expect_controls(mediator, {"caucus:party_a": True, "caucus:party_b": True})
    # The coach watches the role-play silently: trainees no longer see the coach.
    await expect_tiles(party_a, ["mediator", "party_a", "party_b"])

    await phase_button(coach, "caucus:party_a").click()
    await everyone_sees(pages, "Private caucus with Amara Okafor")
    away = party_b.page.locator("#away")
    await expect(away).to_be_visible()
    await expect(away).to_contain_text("The mediator is in a private caucus with Amara Okafor")
    await expect_tiles(party_b, [])
    await expect_tiles(party_a, ["mediator", "party_a"])
    await expect_tiles(mediator, ["mediator", "party_a"])
    await expect(mediator.page.locator("#others")).to_contain_text("Diego Ramos")
    await expect_tiles(coach, ["mediator", "party_a", "party_b", "coach"])
    await expect(coach.page.locator("#away")).to_be_hidden()
    await expect_controls(coach, {"joint": True, "caucus:party_a": False, "caucus:party_b": True})
    await expect(phase_button(coach, "joint")).to_have_text("Back to joint session")

    await phase_button(coach, "joint").click()
    await everyone_sees(pages, "Joint session")
    await expect(away).to_be_hidden()
    await expect_tiles(party_b, ["mediator", "party_a", "party_b"])

    await phase_button(coach, "timeout").click()
    await everyone_sees(pages, "Time-out")
    await expect_controls(coach, {"resume": True, "timeout": False, "caucus:party_a": False})
    await expect_controls(mediator, {"caucus:party_a": False, "caucus:party_b": False})
    await expect_tiles(party_b, ["mediator", "party_a", "party_b", "coach"])

    await phase_button(coach, "resume").click()
    await everyone_sees(pages, "Joint session")

    # The mediator calls a caucus of their own, and ends it.
    await phase_button(mediator, "caucus:party_b").click()
    await everyone_sees(pages, "Private caucus with Tomasz Nowak")
    await expect(party_a.page.locator("#away")).to_contain_text("Tomasz Nowak")
    await phase_button(mediator, "joint").click()
    await everyone_sees(pages, "Joint session")

    await phase_button(coach, "debrief").click()
    await everyone_sees(pages, "Debrief")
    await expect_controls(coach, {"joint": False, "timeout": False, "resume": False})
    await expect_controls(coach, {"debrief": False, "ended": True})

    await phase_button(coach, "ended").click()
    confirm = coach.page.get_by_role("button", name="End now")
    await expect(confirm).to_be_focused()
    await confirm.click()
    await everyone_sees(pages, "Session ended")
    for page in pages.values():
        await expect(page.page.locator("#away")).to_contain_text("The session has ended")
    await expect_controls(coach, {"joint": False, "ended": False})

    # Every page saw the same phases in the same order.
    expected = [
        "joint",
        "caucus:party_a",
        "joint",
        "timeout",
        "joint",
        "caucus:party_b",
        "joint",
        "debrief",
        "ended",
    ]
    for page in pages.values():
        names_seen = [e["data"]["phase"]["name"] for e in await page.received("room_state")]
        changes = [n for i, n in enumerate(names_seen) if i == 0 or n != names_seen[i - 1]]
        assert changes[-len(expected) :] == expected, (page.seat, changes)
        assert page.errors == [], (page.seat, page.errors)


async def test_coach_and_mediator_whisper_and_the_parties_never_see_it(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    pages = await seat_all(browser, server, room, dict.fromkeys([*TRAINEES, "coach"]))
    coach, mediator = pages["coach"], pages["mediator"]

    await coach.page.get_by_label("Whisper to the mediator").fill(
        "Ask what the garden means to her (W-17)."
    )
    await coach.page.get_by_role("button", name="Send to mediator").click()
    log = mediator.page.get_by_role("log", name="Whispers from your coach")
    await expect(log).to_contain_text("Ask what the garden means to her (W-17).")
    await expect(coach.page.get_by_label("Whisper to the mediator")).to_have_value("")

    reply = mediator.page.get_by_label("Reply to your coach")
    await reply.fill("Will do after her opening.")
    await reply.press("Enter")  # Enter sends
    await expect(coach.page.get_by_role("log")).to_contain_text("Will do after her opening.")

    for party in ("party_a", "party_b"):
        assert await pages[party].received("whisper") == []
        await expect(pages[party].page.locator("body")).not_to_contain_text("W-17")
    assert [w["data"]["text"] for w in await mediator.received("whisper")] == [
        "Ask what the garden means to her (W-17)."
    ]
    for page in pages.values():
        assert page.errors == [], (page.seat, page.errors)
