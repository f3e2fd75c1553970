"""A whole session over real Socket.IO: four seats join, the coach walks every phase."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from sessions.ids import ScenarioId
from sessions.scenarios import builtin_scenarios
from tests.live_server import LiveServer, seat_participants

SEATS = ["mediator", "party_a", "party_b", "coach"]
TRAINEES = ["mediator", "party_a", "party_b"]


async def test_four_seats_join_and_each_sees_only_what_its_role_allows(
    server: LiveServer,
) -> None:
    room = await server.simulation("boundary-fence")
    people = await seat_participants(server, room, SEATS)
    briefs = builtin_scenarios()[ScenarioId("boundary-fence")].briefs
    # In the lobby the coach speaks to everyone, so trainees see them listed.
    lobby = await people["party_a"].wait_for_state(lambda s: len(s["roster"]) == 4)
    assert {p["seat"] for p in lobby["roster"]} == {*TRAINEES, "coach"}
    assert (await people["coach"].call("phase", {"to": "joint"}))["ok"]
    for seat in TRAINEES:
        state = await people[seat].wait_for_state(lambda s: s["phase"]["name"] == "joint")
        assert state["briefs"] == {seat: briefs[seat]}
        assert {p["seat"] for p in state["roster"]} == set(TRAINEES)  # the coach is hidden
        # No other seat's brief in anything this client was ever sent.
        everything = json.dumps(people[seat].received + [("ack", people[seat].states[0])])
        for other, brief in briefs.items():
            if other != seat:
                assert brief[:60] not in everything, (seat, other)
    coach = await people["coach"].wait_for_state(lambda s: len(s["roster"]) == 4)
    assert set(coach["briefs"]) >= {"mediator", "party_a", "party_b", "coach"}
    for person in people.values():
        await person.close()


async def test_the_coach_walks_every_phase_and_everyone_follows(server: LiveServer) -> None:
    room = await server.simulation()
    people = await seat_participants(server, room, SEATS)
    coach = people["coach"]
    walk = [
        ("joint", "joint"),
        ("caucus:party_a", "caucus:party_a"),
        ("caucus:party_b", "caucus:party_b"),
        ("joint", "joint"),
        ("timeout", "timeout"),
        ("resume", "joint"),
        ("debrief", "debrief"),
        ("ended", "ended"),
    ]
    receiving: dict[str, dict[str, list[str]]] = {
        "joint": {
            "mediator": ["party_a", "party_b"],
            "party_a": ["mediator", "party_b"],
            "party_b": ["mediator", "party_a"],
            "coach": TRAINEES,
        },
        "caucus:party_a": {
            "mediator": ["party_a"],
            "party_a": ["mediator"],
            "party_b": [],
            "coach": TRAINEES,
        },
        "caucus:party_b": {
            "mediator": ["party_b"],
            "party_a": [],
            "party_b": ["mediator"],
            "coach": TRAINEES,
        },
        "timeout": {
            "mediator": ["coach", "party_a", "party_b"],
            "party_a": ["coach", "mediator", "party_b"],
            "party_b": ["coach", "mediator", "party_a"],
            "coach": TRAINEES,
        },
        "debrief": {
            "mediator": ["coach", "party_a", "party_b"],
            "party_a": ["coach", "mediator", "party_b"],
            "party_b": ["coach", "mediator", "party_a"],
            "coach": TRAINEES,
        },
        "ended": {seat: [] for seat in SEATS},
    }
    for request, phase in walk:
        reply = await coach.call("phase", {"to": request})
        assert reply == {"ok": True, "phase": phase, "t_ms": reply["t_ms"]}
        for seat, person in people.items():
            state = await person.wait_for_state(partial(in_phase, phase))
            assert state["receiving"] == sorted(receiving[phase][seat]), (phase, seat)
            coach_listed = any(p["seat"] == "coach" for p in state["roster"])
            assert coach_listed == (seat == "coach" or "coach" in receiving[phase][seat])
    kinds = [e["phase"] for e in await server.catalogue.events(room) if e["kind"] == "phase"]
    assert kinds == [phase for _, phase in walk]
    for person in people.values():
        await person.close()


async def test_the_mediator_calls_a_caucus_but_cannot_stop_the_simulation(
    server: LiveServer,
) -> None:
    room = await server.simulation()
    people = await seat_participants(server, room, SEATS)
    assert (await people["coach"].call("phase", {"to": "joint"}))["ok"]
    assert (await people["mediator"].call("phase", {"to": "caucus:party_b"}))["ok"]
    reply = await people["mediator"].call("phase", {"to": "debrief"})
    assert reply["code"] == "forbidden"
    await people["party_b"].wait_for_state(lambda s: s["phase"]["name"] == "caucus:party_b")
    for person in people.values():
        await person.close()


async def test_whispers_reach_only_the_mediator_and_come_back_to_the_coach(
    server: LiveServer,
) -> None:
    room = await server.simulation()
    people = await seat_participants(server, room, SEATS)
    reply = await people["coach"].call("whisper", {"text": "Ask about the magnolia."})
    assert reply["ok"]
    mediator = people["mediator"]
    await mediator.wait_for(lambda _: bool(mediator.whispers))
    assert mediator.whispers == [
        {"from": "coach", "text": "Ask about the magnolia.", "t_ms": reply["t_ms"]}
    ]
    assert (await mediator.call("whisper", {"text": "Will do"}))["ok"]
    coach = people["coach"]
    await coach.wait_for(lambda _: bool(coach.whispers))
    assert coach.whispers[0]["text"] == "Will do"
    for seat in ("party_a", "party_b"):
        assert people[seat].whispers == []
        assert all(event != "whisper" for event, _ in people[seat].received)
    for person in people.values():
        await person.close()


async def test_consent_answers_reach_the_coach_and_recording_starts_when_all_answered(
    server: LiveServer,
) -> None:
    room = await server.simulation()
    people = await seat_participants(server, room, SEATS)
    assert (await people["coach"].call("phase", {"to": "joint"}))["ok"]
    for seat, given in (("mediator", True), ("party_a", False)):
        reply = await people[seat].call("consent", {"recording": given})
        assert reply == {"ok": True, "consent": "given" if given else "declined"}
    state = await people["coach"].wait_for_state(
        lambda s: {p["seat"]: p["consent"] for p in s["roster"]}["party_a"] == "declined"
    )
    assert state["recording"]["on"] is False  # party_b has not answered
    assert (await people["party_b"].call("consent", {"recording": True}))["ok"]
    on = await people["party_a"].wait_for_state(lambda s: s["recording"]["on"])
    assert on["recording"]["you"] is False  # declined: never recorded
    mediator = await people["mediator"].wait_for_state(lambda s: s["recording"]["on"])
    assert mediator["recording"]["you"] is True
    for person in people.values():
        await person.close()


def in_phase(phase: str, state: dict[str, Any]) -> bool:
    return bool(state["phase"]["name"] == phase)
