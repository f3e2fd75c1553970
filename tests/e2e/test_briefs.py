"""A trainee's page holds their own confidential brief and never another seat's."""

from __future__ import annotations

import json

from playwright.async_api import Browser, expect

from sessions.ids import ScenarioId
from tests.e2e.browser import phase_button, seat_all
from tests.live_server import LiveServer
from web.keys import SCENARIOS

TRAINEES = ["mediator", "party_a", "party_b"]


def fingerprint(brief: str) -> str:
    """A sentence of a brief that appears nowhere else in the scenario."""
    return brief.split("\n\n")[0][:80]


async def test_each_trainee_sees_only_their_own_brief_in_the_page_and_on_the_wire(
    server: LiveServer, browser: Browser
) -> None:
    room = await server.simulation("boundary-fence")
    briefs = dict(server.app[SCENARIOS][ScenarioId("boundary-fence")].briefs)
    pages = await seat_all(browser, server, room, dict.fromkeys([*TRAINEES, "coach"]))
    # Walk through phases so that every kind of room state reaches the pages.
    coach = pages["coach"]
    for to, banner in [
        ("joint", "Joint session"),
        ("caucus:party_a", "Private caucus with Amara Okafor"),
        ("timeout", "Time-out"),
    ]:
        await phase_button(coach, to).click()
        for page in pages.values():
            await page.phase_is(banner)

    for seat_id in TRAINEES:
        page = pages[seat_id]
        own = page.page.locator("#brief")
        await expect(own).to_contain_text(fingerprint(briefs[seat_id]))
        await expect(page.page.locator("#other-briefs")).to_be_hidden()
        body = page.page.locator("body")
        for other, text in briefs.items():
            if other != seat_id:
                await expect(body).not_to_contain_text(fingerprint(text))

        # What the Socket.IO client received: every state carries only this seat's brief.
        log = await page.received()
        states = [e["data"] for e in log if e["event"] == "room_state"]
        states += [e["data"]["state"] for e in log if e["event"] == "ack:join"]
        assert len(states) >= 4, [e["event"] for e in log]
        for state in states:
            assert state["you"]["seat"] == seat_id
            assert state["briefs"] == {seat_id: briefs[seat_id]}
        wire = json.dumps(log, ensure_ascii=False)
        for other, text in briefs.items():
            if other != seat_id:
                assert fingerprint(text) not in wire, f"{seat_id} received the {other} brief"

    # The coach reads every brief: their own in full, the others folded away.
    await expect(coach.page.locator("#brief")).to_contain_text(fingerprint(briefs["coach"]))
    for seat_id in TRAINEES:
        folded = coach.page.locator(f'#other-briefs details[data-seat="{seat_id}"]')
        await expect(folded).to_have_count(1)
        await folded.locator("summary").click()
        await expect(folded).to_contain_text(fingerprint(briefs[seat_id]))
    for page in pages.values():
        assert page.errors == [], (page.seat, page.errors)
