"""The room service without sockets: commands in, typed events and state out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from recordings.feedback import Feedback
from rooms.commands import (
    Annotate,
    ChangePhase,
    Command,
    Drop,
    End,
    GiveConsent,
    Join,
    Leave,
    ReadBrief,
    RecordingFault,
    ReportMedia,
    RestartMedia,
    Whisper,
)
from rooms.directory import RoomDirectory
from rooms.events import (
    AudienceChanged,
    MediaGap,
    NoteAdded,
    RoomChanged,
    RoomReleased,
    SeatDropped,
    SeatEntered,
    SeatLeft,
    SeatReplaced,
    SeatsToTell,
    Whispered,
)
from rooms.media_port import NoMedia
from rooms.service import RoomService
from sessions.errors import DomainError
from sessions.ids import Identity, RoomId, ScenarioId, SeatId
from sessions.phases import PhaseKind
from sessions.rooms import Consent, JoinOutcome
from sessions.scenarios import builtin_scenarios
from sessions.timeline import EventKind
from storage.catalogue import Catalogue
from storage.database import Database, default_url
from storage.migrate import upgrade
from storage.notes import Notes

EVENTS = (
    AudienceChanged,
    MediaGap,
    NoteAdded,
    RoomReleased,
    SeatDropped,
    SeatEntered,
    SeatLeft,
    SeatReplaced,
    SeatsToTell,
    Whispered,
)


@dataclass
class Heard:
    """Every event the service published (and the changes it delivered), in order."""

    events: list[object] = field(default_factory=list)
    changes: list[RoomChanged] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def of(self, kind: type[object]) -> list[object]:
        return [e for e in self.events if isinstance(e, kind)]

    def kinds(self) -> list[str]:
        return [type(e).__name__ for e in self.events]

    async def next(self, kind: type[object]) -> object:
        while not self.of(kind):
            self.arrived.clear()
            await self.arrived.wait()
        return self.of(kind)[0]


@dataclass
class World:
    service: RoomService
    catalogue: Catalogue
    heard: Heard
    room: RoomId

    async def seat(self, seat: str, connection: str | None = None) -> str:
        connection = connection or f"sid-{seat}"
        await self.service.execute(
            Join(self.room, Identity(f"person-{seat}"), seat, SeatId(seat), connection, 2**31)
        )
        return connection

    async def stored(self) -> list[str]:
        return [str(e["kind"]) for e in await self.catalogue.events(self.room)]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    database = Database(default_url(tmp_path))
    await upgrade(database)
    catalogue = Catalogue(database)
    scenarios = builtin_scenarios()
    directory = RoomDirectory(catalogue, scenarios)
    feedback = Feedback(Notes(database), catalogue, scenarios)
    service = RoomService(directory, NoMedia(), feedback, grace_s=0.05)
    heard = Heard()

    def hear(event: object) -> None:
        heard.events.append(event)
        heard.arrived.set()

    for kind in EVENTS:
        service.events.subscribe(kind, hear)
    service.events.subscribe(RoomChanged, heard.changes.append)
    record = await catalogue.create_simulation(ScenarioId("boundary-fence"), 1)
    yield World(service, catalogue, heard, record.id)
    directory.close()
    await service.close()
    await database.close()


async def refused(world: World, command: Command[object]) -> str:
    with pytest.raises(DomainError) as refusal:
        await world.service.execute(command)
    return refusal.value.code


async def test_a_join_seats_the_person_connects_media_and_tells_every_seat(world: World) -> None:
    joined = await world.service.execute(
        Join(world.room, Identity("amara"), "Amara", SeatId("party_a"), "sid-1", 2**31)
    )
    assert joined.outcome is JoinOutcome.JOINED and joined.seat == "party_a"
    assert joined.view["you"]["seat"] == "party_a"
    assert world.heard.kinds() == ["SeatEntered", "AudienceChanged", "SeatsToTell"]
    entered = world.heard.of(SeatEntered)[0]
    assert entered == SeatEntered(world.room, SeatId("party_a"), "sid-1", Identity("amara"), 2**31)
    told = world.heard.of(SeatsToTell)[0]
    assert isinstance(told, SeatsToTell) and set(told.views) == {"sid-1"}
    assert [c.room.participants.keys() for c in world.heard.changes] == [{"party_a"}]
    assert await world.stored() == ["join"]


async def test_the_same_person_joining_again_replaces_the_old_connection(world: World) -> None:
    await world.seat("mediator", "old")
    world.heard.events.clear()
    again = await world.service.execute(
        Join(world.room, Identity("person-mediator"), "m", SeatId("mediator"), "new", 2**31)
    )
    assert again.outcome is JoinOutcome.REPLACED
    assert world.heard.kinds()[:2] == ["SeatReplaced", "SeatEntered"]
    assert world.heard.of(SeatReplaced)[0] == SeatReplaced(world.room, SeatId("mediator"), "old")
    assert await refused(world, GiveConsent("old", True)) == "not_joined"


async def test_leave_frees_the_seat_and_the_connection_is_no_longer_seated(world: World) -> None:
    sid = await world.seat("party_b")
    world.heard.events.clear()
    await world.service.execute(Leave(sid))
    assert world.heard.kinds() == ["SeatLeft", "SeatsToTell"]
    assert world.heard.of(SeatLeft)[0] == SeatLeft(world.room, SeatId("party_b"), sid, False)
    assert world.heard.changes[-1].room.participants == {}
    assert await refused(world, Leave(sid)) == "not_joined"
    assert await world.stored() == ["join", "leave"]


async def test_a_dropped_seat_is_held_then_released_after_the_grace_period(world: World) -> None:
    sid = await world.seat("party_a")
    await world.service.execute(Drop(sid))
    dropped = world.heard.of(SeatDropped)[0]
    assert dropped == SeatDropped(world.room, SeatId("party_a"), "signalling lost")
    assert not world.heard.changes[-1].room.participants[SeatId("party_a")].connected
    left = await asyncio.wait_for(world.heard.next(SeatLeft), 5)
    assert left == SeatLeft(world.room, SeatId("party_a"), None)
    assert await world.stored() == ["join", "drop", "leave"]
    events = await world.catalogue.events(world.room)
    assert events[-1]["reason"] == "grace_expired"


class WatchedLock(asyncio.Lock):
    """A room's lock that tells how many commands wait for it."""

    def __init__(self) -> None:
        super().__init__()
        self._waiters_seen = 0
        self._queued = asyncio.Event()

    async def acquire(self) -> Literal[True]:
        if self.locked():
            self._waiters_seen += 1
            self._queued.set()
        return await super().acquire()

    async def waiting(self, count: int) -> None:
        while self._waiters_seen < count:
            self._queued.clear()
            await self._queued.wait()


def watched_lock(world: World) -> WatchedLock:
    live = world.service.directory.peek(world.room)
    assert live is not None
    live.lock = WatchedLock()
    return live.lock


async def test_the_old_sockets_drop_after_a_new_socket_took_the_seat_changes_nothing(
    world: World,
) -> None:
    """A page back on a new socket before the server noticed its old one die: the old
    socket's drop, queued behind the new socket's join, must not drop the new holder
    (its media would be closed under it, and the seat released after the grace)."""
    await world.seat("mediator", "old")
    lock = watched_lock(world)
    async with lock:  # both wait here, the new socket's join first
        rejoin = asyncio.create_task(
            world.service.execute(
                Join(world.room, Identity("person-mediator"), "m", SeatId("mediator"), "new", 2**31)
            )
        )
        drop = asyncio.create_task(world.service.execute(Drop("old")))
        await lock.waiting(2)
        world.heard.events.clear()
    await rejoin
    await drop
    assert SeatDropped not in {type(e) for e in world.heard.events}, world.heard.kinds()
    assert world.heard.changes[-1].room.participants[SeatId("mediator")].connected
    assert world.service.connection_of(world.room, SeatId("mediator")) == "new"
    assert await world.stored() == ["join", "replace"]  # it was still connected when joined


async def test_the_old_sockets_leave_after_a_new_socket_took_the_seat_is_refused(
    world: World,
) -> None:
    await world.seat("mediator", "old")
    lock = watched_lock(world)
    async with lock:  # the old socket's leave waits here behind the new one's join
        rejoin = asyncio.create_task(
            world.service.execute(
                Join(world.room, Identity("person-mediator"), "m", SeatId("mediator"), "new", 2**31)
            )
        )
        leave = asyncio.create_task(world.service.execute(Leave("old")))
        await lock.waiting(2)
    await rejoin
    with pytest.raises(DomainError) as refusal:
        await leave
    assert refusal.value.code == "not_joined"
    assert world.service.connection_of(world.room, SeatId("mediator")) == "new"
    assert world.heard.changes[-1].room.participants[SeatId("mediator")].connected
    assert await world.stored() == ["join", "replace"]


async def test_a_phase_change_switches_the_audience_before_telling_the_seats(world: World) -> None:
    coach = await world.seat("coach")
    await world.seat("mediator")
    world.heard.events.clear()
    changed = await world.service.execute(ChangePhase(coach, "joint"))
    assert changed.phase == "joint"
    assert world.heard.kinds() == ["AudienceChanged", "SeatsToTell"]
    assert world.heard.changes[-1].room.phase.kind is PhaseKind.JOINT
    assert await world.stored() == ["join", "join", "phase"]


async def test_a_party_may_not_drive_phases_and_nothing_changes(world: World) -> None:
    party = await world.seat("party_a")
    world.heard.events.clear()
    assert await refused(world, ChangePhase(party, "joint")) == "forbidden"
    assert await refused(world, ChangePhase(party, "no-such-phase")) in (
        "invalid_transition",
        "rule_broken",
    )
    assert world.heard.events == [] and await world.stored() == ["join"]


async def test_consent_is_stored_and_shown(world: World) -> None:
    sid = await world.seat("party_a")
    assert await world.service.execute(GiveConsent(sid, True)) is Consent.GIVEN
    assert world.heard.kinds()[-1] == "SeatsToTell"
    assert await world.stored() == ["join", "consent"]


async def test_a_whisper_goes_to_the_mediator_only_while_connected(world: World) -> None:
    coach = await world.seat("coach")
    assert await refused(world, Whisper(coach, "slow down")) == "not_seated"
    mediator = await world.seat("mediator")
    t_ms = await world.service.execute(Whisper(coach, "slow down"))
    whispered = world.heard.of(Whispered)[0]
    assert whispered == Whispered(world.room, mediator, SeatId("coach"), "slow down", t_ms)
    party = await world.seat("party_a")
    assert await refused(world, Whisper(party, "psst")) == "forbidden"
    assert (await world.stored()).count("whisper") == 1


async def test_a_live_note_is_stored_and_shown_to_the_other_staff_only(world: World) -> None:
    coach = await world.seat("coach")
    admin = await world.seat("admin")
    await world.seat("mediator")
    note = await world.service.execute(Annotate(coach, {"text": "good question"}, lag_ms=0))
    assert note["text"] == "good question"
    added = world.heard.of(NoteAdded)[0]
    assert added == NoteAdded(world.room, note, (admin,))
    bad = Annotate(coach, {"text": "x", "visibility": "everyone"})
    assert await refused(world, bad) == "invalid_annotation"


async def test_a_brief_is_read_only_by_those_who_may(world: World) -> None:
    party = await world.seat("party_a")
    assert await world.service.execute(ReadBrief(party, "party_a"))
    assert await refused(world, ReadBrief(party, "party_b")) == "forbidden"


async def test_end_closes_the_room_for_everyone_once(world: World) -> None:
    await world.seat("mediator")
    world.heard.events.clear()
    at = await world.service.execute(End(world.room, "admin@example.org"))
    assert isinstance(at, int)
    assert world.heard.kinds() == ["AudienceChanged", "SeatsToTell"]
    assert world.heard.changes[-1].room.phase.kind is PhaseKind.ENDED
    assert await world.service.execute(End(world.room, "admin@example.org")) is None
    late = Join(world.room, Identity("late"), "Late", SeatId("party_a"), "sid-late", 2**31)
    assert await refused(world, late) == "forbidden"


async def test_media_reports_and_recording_faults_reach_the_seats(world: World) -> None:
    await world.seat("mediator")
    world.heard.events.clear()
    lost = ReportMedia(world.room, SeatId("mediator"), EventKind.MEDIA_LOST, {"reason": "ice"})
    await world.service.execute(lost)
    assert world.heard.kinds() == ["MediaGap", "SeatsToTell"]
    gap = MediaGap(world.room, SeatId("mediator"), EventKind.MEDIA_LOST, {"reason": "ice"})
    assert world.heard.events[0] == gap
    assert (await world.stored())[-1] == "media_lost"
    await world.service.execute(RecordingFault(world.room, "disk full"))
    assert world.heard.kinds() == ["MediaGap", "SeatsToTell", "SeatsToTell"]
    live = world.service.directory.peek(world.room)
    assert live is not None and live.room.recording_fault == "disk full"


async def test_seats_of_a_deactivated_person_are_left_and_disconnected(world: World) -> None:
    await world.seat("party_a", "sid-a")
    await world.seat("party_b", "sid-b")
    assert await world.service.end_seats_of("person-party_a") == 1
    left = world.heard.of(SeatLeft)
    assert left == [SeatLeft(world.room, SeatId("party_a"), "sid-a", True)]


async def test_errors_are_domain_errors_with_codes(world: World) -> None:
    nobody = Join("no-such-room", Identity("x"), "X", SeatId("mediator"), "sid-x", 2**31)
    assert await refused(world, nobody) == "unknown_room"
    assert await refused(world, ChangePhase("never-joined", "joint")) == "not_joined"
    sid = await world.seat("mediator")
    again = Join(world.room, Identity("y"), "Y", SeatId("party_a"), sid, 2**31)
    assert await refused(world, again) == "bad_request"
    assert await refused(world, RestartMedia(sid, "failed")) == "unknown_event"  # no media here


async def test_concurrent_commands_on_one_room_are_serialised(world: World) -> None:
    """Each command sees the room the previous one left: no change is lost."""
    seats = ["mediator", "party_a", "party_b", "coach", "observer_1", "admin"]
    await asyncio.gather(*(world.seat(seat) for seat in seats))
    sizes = [len(change.room.participants) for change in world.heard.changes]
    assert sizes == [1, 2, 3, 4, 5, 6]
    consents = [GiveConsent(f"sid-{seat}", True) for seat in seats[:3]]
    await asyncio.gather(*(world.service.execute(c) for c in consents))
    given = [
        sum(p.consent is Consent.GIVEN for p in change.room.participants.values())
        for change in world.heard.changes[6:]
    ]
    assert given == [1, 2, 3]
    assert await world.stored() == ["join"] * 6 + ["consent"] * 3
