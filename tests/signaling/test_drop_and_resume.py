"""Identity-based seats: a dropped participant keeps the seat for the grace period."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.live_server import Participant, seat_participants, start_server
from tests.tcp_outage import OutageRelay

# Short heartbeats so the server notices a silent link in ~3 s instead of ~55 s.
FAST_HEARTBEAT = {"ping_interval_s": 1.0, "ping_timeout_s": 2.0}


def seat_connected(state: dict[str, Any], seat: str) -> bool | None:
    for p in state["roster"]:
        if p["seat"] == seat:
            return bool(p["connected"])
    return None  # not seated


async def test_a_client_cut_off_for_10_s_comes_back_into_its_seat(tmp_path: Path) -> None:
    server = await start_server(tmp_path, grace_s=60.0, **FAST_HEARTBEAT)
    relay = OutageRelay(server.port)
    await relay.start()
    room = await server.simulation()
    people = await seat_participants(server, room, ["mediator", "party_b", "coach"])
    party_a = Participant("party_a", server.token(room, "party_a"), room)
    await party_a.connect(f"http://127.0.0.1:{relay.port}")
    assert (await party_a.join())["ok"]
    assert (await people["coach"].call("phase", {"to": "joint"}))["ok"]
    assert (await people["coach"].call("phase", {"to": "caucus:party_a"}))["ok"]
    await party_a.wait_for_state(lambda s: s["phase"]["name"] == "caucus:party_a")
    joins_before = len(party_a.states)

    relay.outage(10.0)
    mediator = people["mediator"]
    held = await mediator.wait_for_state(lambda s: seat_connected(s, "party_a") is False, 20)
    assert held["phase"]["name"] == "caucus:party_a"  # the seat is held, the caucus goes on

    back = await mediator.wait_for_state(lambda s: seat_connected(s, "party_a") is True, 30)
    assert back["receiving"] == ["party_a"]
    resumed = await party_a.wait_for(
        lambda s: party_a.states.index(s) >= joins_before and s["you"]["seat"] == "party_a", 5
    )
    assert resumed["you"]["role"] == "party"
    assert resumed["phase"]["name"] == "caucus:party_a"
    assert resumed["receiving"] == ["mediator"]
    kinds = [(e["kind"], e["seat"]) for e in await server.catalogue.events(room)]
    assert ("drop", "party_a") in kinds and ("resume", "party_a") in kinds
    assert ("leave", "party_a") not in kinds

    for person in [*people.values(), party_a]:
        await person.close()
    await relay.close()
    await server.stop()


async def test_after_the_grace_period_the_seat_is_released(tmp_path: Path) -> None:
    server = await start_server(tmp_path, grace_s=2.0, **FAST_HEARTBEAT)
    relay = OutageRelay(server.port)
    await relay.start()
    room = await server.simulation()
    people = await seat_participants(server, room, ["mediator"])
    party_a = Participant("party_a", server.token(room, "party_a"), room, rejoin=False)
    await party_a.connect(f"http://127.0.0.1:{relay.port}")
    assert (await party_a.join())["ok"]

    relay.outage(60.0)
    mediator = people["mediator"]
    await mediator.wait_for_state(lambda s: seat_connected(s, "party_a") is False, 20)
    released = await mediator.wait_for_state(lambda s: seat_connected(s, "party_a") is None, 20)
    assert [p["seat"] for p in released["roster"]] == ["mediator"]
    leave = [e for e in await server.catalogue.events(room) if e["kind"] == "leave"]
    assert leave == [
        {"t_ms": leave[0]["t_ms"], "kind": "leave", "seat": "party_a", "reason": "grace_expired"}
    ]

    # Somebody else may now take the seat.
    newcomer = Participant("party_a", server.token(room, "party_a", identity="new"), room)
    await newcomer.connect(server.url)
    assert (await newcomer.join())["outcome"] == "joined"

    for person in [mediator, newcomer]:
        await person.close()
    await party_a.client.disconnect()
    await relay.close()
    await server.stop()


async def test_a_second_connection_with_the_same_identity_replaces_the_first(
    tmp_path: Path,
) -> None:
    server = await start_server(tmp_path)
    room = await server.simulation()
    people = await seat_participants(server, room, ["mediator", "party_a"])
    first = people["party_a"]
    first.rejoin = False
    second = Participant("party_a", server.token(room, "party_a"), room)
    await second.connect(server.url)
    reply = await second.join()
    assert reply["outcome"] == "replaced"
    await first.wait_for(lambda _: any(e == "replaced" for e, _ in first.received))
    state = await people["mediator"].wait_for_state(
        lambda s: [p["seat"] for p in s["roster"]] == ["mediator", "party_a"]
    )
    assert seat_connected(state, "party_a") is True
    # The displaced socket's disconnect does not drop the seat.
    kinds = [e["kind"] for e in await server.catalogue.events(room)]
    assert "drop" not in kinds and kinds.count("replace") == 1
    for person in (people["mediator"], second):
        await person.close()
    await server.stop()
