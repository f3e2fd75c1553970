"""Live notes over Socket.IO: placed at the moment seen, shared with the other staff only."""

from __future__ import annotations

from tests.live_server import LiveServer, seat_participants
from web.keys import DIRECTORY, FEEDBACK

SEATS = ["mediator", "party_a", "coach", "admin"]


async def test_a_live_note_is_placed_lag_ms_before_it_arrived_and_reaches_other_staff(
    server: LiveServer,
) -> None:
    room = await server.simulation()
    people = await seat_participants(server, room, SEATS)
    assert (await people["coach"].call("phase", {"to": "joint"}))["ok"]
    live = await server.app[DIRECTORY].open(room)
    live.t0_ms -= 10_000  # as if the session had been running for ten seconds
    before = server.app[DIRECTORY].now_ms(live)
    reply = await people["coach"].call(
        "annotate", {"text": "Good open question", "skill": "active_listening", "lag_ms": 400}
    )
    after = server.app[DIRECTORY].now_ms(live)
    assert reply["ok"], reply
    note = reply["annotation"]
    assert before - 400 <= note["t_ms"] <= after - 400
    assert note["author_seat"] == "coach" and note["visibility"] == "coach"
    admin = people["admin"]
    await admin.wait_for(lambda _: any(e == "annotation" for e, _ in admin.received))
    assert [d for e, d in admin.received if e == "annotation"] == [note]
    for seat in ("mediator", "party_a", "coach"):
        assert all(e != "annotation" for e, _ in people[seat].received)
    stored = await server.app[FEEDBACK].store.for_session(room)
    assert [n["id"] for n in stored] == [note["id"]]
    for person in people.values():
        await person.close()


async def test_bad_live_notes_are_refused_and_nothing_is_stored(server: LiveServer) -> None:
    room = await server.simulation()
    people = await seat_participants(server, room, SEATS)
    cases = [
        ("party_a", {"text": "I want to grade myself"}, "forbidden"),
        ("coach", {"text": "x", "lag_ms": 600_000}, "bad_request"),
        ("coach", {"text": "x", "lag_ms": -5}, "bad_request"),
        ("coach", {"text": "x" * 2001}, "invalid_annotation"),
        ("coach", {"skill": "juggling"}, "invalid_annotation"),
        ("coach", {"text": "x", "t_ms": 5}, "bad_request"),  # the server places live notes
        ("coach", "note", "bad_request"),
    ]
    for seat, payload, code in cases:
        reply = await people[seat].call("annotate", payload)
        assert reply["ok"] is False and reply["code"] == code, (payload, reply)
    assert await server.app[FEEDBACK].store.for_session(room) == []
    for person in people.values():
        await person.close()
