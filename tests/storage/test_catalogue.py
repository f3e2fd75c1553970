"""The catalogue on both engines: simulations, their timelines, recorded segments, and
whose seats a person held (from the events' own `identity` column)."""

from __future__ import annotations

from sqlalchemy import select

from sessions.annotations import Draft
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.timeline import Event, EventKind
from storage.catalogue import Catalogue
from storage.database import Database
from storage.notes import Notes
from storage.schema import events

FENCE = ScenarioId("boundary-fence")
MEDIATOR, PARTY_A = SeatId("mediator"), SeatId("party_a")


async def test_a_simulation_is_stored_and_listed_newest_first(database: Database) -> None:
    catalogue = Catalogue(database)
    first = await catalogue.create_simulation(FENCE, 1)
    second = await catalogue.create_simulation(FENCE, 0)
    assert await catalogue.simulation(first.id) == first
    assert await catalogue.simulation("no-such-room") is None
    listed = await catalogue.simulations()
    assert {r.id for r in listed} == {first.id, second.id}
    assert [r.created_ms for r in listed] == sorted((r.created_ms for r in listed), reverse=True)


async def test_the_session_clock_starts_once(database: Database) -> None:
    catalogue = Catalogue(database)
    room = (await catalogue.create_simulation(FENCE, 1)).id
    assert await catalogue.start_clock(room, 1_700_000_000_000) == 1_700_000_000_000
    assert await catalogue.start_clock(room, 1_800_000_000_000) == 1_700_000_000_000
    record = await catalogue.simulation(room)
    assert record is not None and record.t0_ms == 1_700_000_000_000


async def test_events_come_back_in_order_with_their_detail(database: Database) -> None:
    catalogue = Catalogue(database)
    room = (await catalogue.create_simulation(FENCE, 1)).id
    await catalogue.append_event(room, Event(500, EventKind.PHASE, None, {"phase": "joint"}))
    await catalogue.append_event(room, Event(100, EventKind.WHISPER, SeatId("coach"), {"to": "m"}))
    assert await catalogue.events(room) == [
        {"t_ms": 500, "kind": "phase", "seat": None, "phase": "joint"},
        {"t_ms": 100, "kind": "whisper", "seat": "coach", "to": "m"},
    ]


async def test_the_seats_a_person_held_come_from_the_identity_column(database: Database) -> None:
    catalogue = Catalogue(database)
    first = (await catalogue.create_simulation(FENCE, 1)).id
    second = (await catalogue.create_simulation(FENCE, 1)).id
    await catalogue.append_event(
        first, Event(0, EventKind.JOIN, MEDIATOR, {"identity": "amara", "name": "Amara"})
    )
    await catalogue.append_event(
        first, Event(10, EventKind.REPLACE, PARTY_A, {"identity": "amara", "name": "Amara"})
    )
    await catalogue.append_event(
        second, Event(0, EventKind.RESUME, MEDIATOR, {"identity": "amara", "name": "Amara"})
    )
    # not a seating event: an identity in its detail seats nobody
    await catalogue.append_event(
        second, Event(5, EventKind.PHASE, PARTY_A, {"identity": "amara", "phase": "joint"})
    )
    await catalogue.append_event(
        second, Event(5, EventKind.JOIN, PARTY_A, {"identity": "lin", "name": "Lin"})
    )
    assert await catalogue.seats_of("amara") == {first: PARTY_A, second: MEDIATOR}
    assert await catalogue.seats_of("lin") == {second: PARTY_A}
    assert await catalogue.seats_of("nobody") == {}
    async with database.reading() as conn:
        identities = (await conn.execute(select(events.c.kind, events.c.identity))).all()
    assert ("phase", None) in identities and ("join", "lin") in identities


async def test_a_segment_is_opened_moved_and_closed(database: Database) -> None:
    catalogue = Catalogue(database)
    room = (await catalogue.create_simulation(FENCE, 1)).id
    other = (await catalogue.create_simulation(FENCE, 1)).id
    audio = await catalogue.open_segment(room, MEDIATOR, "audio", "opus", "public", "a.webm", 40)
    video = await catalogue.open_segment(room, MEDIATOR, "video", "vp8", "public", "v.webm", 60)
    await catalogue.open_segment(other, PARTY_A, "audio", "opus", "public", "o.webm", 0)
    await catalogue.move_segment(audio, 20)
    await catalogue.close_segment(audio, 2000, 100, 4096)
    await catalogue.close_segment(video, 500, 12, 999, "failed", start_ms=55, reason="ENOSPC")
    closed = await catalogue.segment(audio)
    assert closed is not None
    assert (closed.start_ms, closed.end_ms, closed.frames, closed.bytes, closed.status) == (
        20,
        2020,
        100,
        4096,
        "complete",
    )
    failed = await catalogue.segment(video)
    assert failed is not None
    assert (failed.start_ms, failed.status, failed.reason) == (55, "failed", "ENOSPC")
    assert [s.id for s in await catalogue.segments(room)] == [audio, video]
    assert [s.id for s in await catalogue.segments(room, status="failed")] == [video]
    assert {s.simulation_id for s in await catalogue.segments(status="recording")} == {other}
    assert await catalogue.segment(10_000) is None


async def test_deleting_a_simulation_deletes_its_timeline_segments_and_notes(
    database: Database,
) -> None:
    catalogue, notes = Catalogue(database), Notes(database)
    room = (await catalogue.create_simulation(FENCE, 1)).id
    kept = (await catalogue.create_simulation(FENCE, 1)).id
    for simulation in (room, kept):
        await catalogue.append_event(
            simulation, Event(0, EventKind.JOIN, MEDIATOR, {"identity": "amara"})
        )
        await catalogue.open_segment(simulation, MEDIATOR, "audio", "opus", "public", "a", 0)
        await notes.add(simulation, Draft(0, "good question"), "coach-ana", "coach")
    await catalogue.delete_simulation(room)
    assert await catalogue.simulation(room) is None
    assert await catalogue.events(room) == []
    assert await catalogue.segments(room) == []
    assert await notes.for_session(room) == []
    assert await catalogue.seats_of("amara") == {kept: MEDIATOR}
    assert len(await catalogue.events(kept)) == len(await catalogue.segments(kept)) == 1
    assert len(await notes.for_session(RoomId(kept))) == 1
