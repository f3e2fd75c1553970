"""Every seat's page, in every phase, enables exactly the controls its permitted actions name.

One room, five browsers; the coach walks the phases once with the buttons and, at
each phase, every page is read in one step: the actions in the last room state it
received from the server, and what the page shows and enables.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from playwright.async_api import Browser, Page

from tests.e2e.browser import SeatPage, all_show_phase, phase_button, seat_all
from tests.live_server import LiveServer

SEATS = ["mediator", "party_a", "party_b", "coach", "observer_1"]
CAUCUS_MOVES = ["joint", "caucus:party_a", "caucus:party_b"]
EVERY_REQUEST = [*CAUCUS_MOVES, "timeout", "resume", "debrief", "ended"]
#: (the coach's request, the banner after it, what the mediator and the coach may ask then)
WALK: list[tuple[str | None, str, list[str], list[str]]] = [
    (None, "Waiting to start", [], ["joint", "ended"]),
    (
        "joint",
        "Joint session",
        CAUCUS_MOVES[1:],
        [*CAUCUS_MOVES[1:], "timeout", "debrief", "ended"],
    ),
    (
        "caucus:party_a",
        "Private caucus with Amara Okafor",
        ["joint", "caucus:party_b"],
        ["joint", "caucus:party_b", "timeout", "debrief", "ended"],
    ),
    ("timeout", "Time-out", [], ["resume", "debrief", "ended"]),
    ("debrief", "Debrief", [], ["ended"]),
    ("ended", "Session ended", [], []),
]

#: The page's last room state (join ack or room_state) and its controls, read in one
#: task so that the two cannot be from different states.
READ_PAGE = """
() => {
  const states = (window.__caucusLog || [])
    .filter((e) => e.event === "room_state" || (e.event === "ack:join" && e.data && e.data.ok))
    .map((e) => (e.event === "room_state" ? e.data : e.data.state));
  const state = states[states.length - 1];
  const shown = (id) => {
    const e = document.getElementById(id);
    return Boolean(e) && e.checkVisibility();
  };
  const buttons = shown("phase-controls")
    ? [...document.querySelectorAll("#phase-controls button[data-to]")] : [];
  return {
    phase: state.phase.name,
    actions: state.actions,
    other_briefs: [...document.querySelectorAll("#other-briefs details")]
      .map((d) => d.dataset.seat),
    dom: {
      phase_controls: buttons.map((b) => b.dataset.to),
      phases: buttons.filter((b) => !b.disabled).map((b) => b.dataset.to),
      whisper: shown("whispers"),
      annotate: shown("live-notes"),
      publish: shown("self-controls"),
      consent: shown("consent-change"),
    },
  };
}
"""


async def read(page: Page) -> dict[str, Any]:
    found: dict[str, Any] = await page.evaluate(READ_PAGE)
    return found


async def check_every_page(
    pages: dict[str, SeatPage], phase: str, mediator: list[str], coach: list[str]
) -> None:
    readings = dict(
        zip(pages, await asyncio.gather(*(read(p.page) for p in pages.values())), strict=True)
    )
    for seat, reading in readings.items():
        actions, dom = reading["actions"], reading["dom"]
        assert reading["phase"] == phase, (seat, reading["phase"])
        # The page shows and enables exactly what the server says ...
        wanted = {key: actions[key] for key in dom}
        assert dom == wanted, (seat, phase, dom, wanted)
        # Its own brief is shown apart (an observer's is the observers' brief); the rest as others.
        own = [k for k in actions["briefs"] if k in (seat, "observer")]
        assert sorted(own + reading["other_briefs"]) == actions["briefs"], (seat, reading)
    # ... and the server says: a party nothing, the mediator the caucus moves, the coach the rest.
    assert readings["mediator"]["actions"]["phase_controls"] == CAUCUS_MOVES
    assert readings["mediator"]["actions"]["phases"] == mediator
    assert readings["coach"]["actions"]["phase_controls"] == EVERY_REQUEST
    assert readings["coach"]["actions"]["phases"] == coach
    for seat in ("party_a", "party_b", "observer_1"):
        assert readings[seat]["actions"]["phase_controls"] == [], seat
    trainees_answer = phase != "ended"
    assert [readings[s]["actions"]["consent"] for s in SEATS] == [trainees_answer] * 3 + [False] * 2
    assert [readings[s]["actions"]["whisper"] for s in SEATS] == [True, False, False, True, False]
    assert [readings[s]["actions"]["annotate"] for s in SEATS] == [False] * 3 + [True, False]
    # The coach reads every trainee's brief; a trainee none but their own.
    assert readings["coach"]["other_briefs"] == ["mediator", "party_a", "party_b"]
    assert readings["party_a"]["actions"]["briefs"] == ["party_a"]


async def test_every_seat_in_every_phase_enables_exactly_its_permitted_actions(
    server: LiveServer, browser: Browser
) -> None:
    started = time.monotonic()
    room = await server.simulation("boundary-fence")
    pages = await seat_all(browser, server, room, dict.fromkeys(SEATS))
    coach = pages["coach"]
    for request, banner, mediator, coach_may in WALK:
        if request == "ended":
            await phase_button(coach, "ended").click()
            await coach.page.get_by_role("button", name="End now").click()
        elif request is not None:
            await phase_button(coach, request).click()
        await all_show_phase(pages.values(), banner)
        phase = request or "lobby"
        await check_every_page(pages, phase, mediator, coach_may)
    for page in pages.values():
        assert page.errors == [], (page.seat, page.errors)
    assert time.monotonic() - started < 90
