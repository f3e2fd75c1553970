"""A room opened anew (another node, or after a restart) starts from its stored
timeline: phase, who held each seat (held as dropped), their consent; the holder's
join resumes the seat with that consent, and nobody else can take it meanwhile."""

from __future__ import annotations

from pathlib import Path

import pytest

from recordings.feedback import Feedback
from rooms.commands import ChangePhase, GiveConsent, Join
from rooms.directory import RoomDirectory
from rooms.media_port import NoMedia
from rooms.service import RoomService
from sessions.errors import DomainError
from sessions.ids import Identity, ScenarioId, SeatId
from sessions.rooms import Consent, JoinOutcome
from sessions.scenarios import builtin_scenarios
from storage.catalogue import Catalogue
from storage.database import Database, default_url
from storage.migrate import upgrade
from storage.notes import Notes

UNTIL = 2**31


def service_on(database: Database) -> RoomService:
    """A node of its own over the shared storage."""
    catalogue = Catalogue(database)
    scenarios = builtin_scenarios()
    feedback = Feedback(Notes(database), catalogue, scenarios)
    return RoomService(RoomDirectory(catalogue, scenarios), NoMedia(), feedback, grace_s=60)


async def test_a_room_opened_anew_resumes_its_seats_and_consent(tmp_path: Path) -> None:
    database = Database(default_url(tmp_path))
    await upgrade(database)
    room = (await Catalogue(database).create_simulation(ScenarioId("boundary-fence"), 1)).id
    first = service_on(database)
    for seat in ("mediator", "party_a", "coach"):
        await first.execute(Join(room, Identity(f"p-{seat}"), seat, SeatId(seat), seat, UNTIL))
    await first.execute(GiveConsent("party_a", True))
    await first.execute(ChangePhase("coach", "joint", None))
    # the first node is gone without a word (no drop, no leave stored)

    second = service_on(database)
    joined = await second.execute(
        Join(room, Identity("p-party_a"), "Amara", SeatId("party_a"), "s2", UNTIL)
    )
    assert joined.outcome is JoinOutcome.RESUMED
    live = second.directory.peek(room)
    assert live is not None
    assert str(live.room.phase) == "joint"
    assert live.room.participants[SeatId("party_a")].consent is Consent.GIVEN
    held = live.room.participants[SeatId("mediator")]
    assert not held.connected and held.identity == "p-mediator"
    assert set(live.releases) == {SeatId("mediator"), SeatId("coach")}  # grace timers run
    with pytest.raises(DomainError) as taken:
        await second.execute(
            Join(room, Identity("someone-else"), "X", SeatId("mediator"), "s3", UNTIL)
        )
    assert taken.value.code == "seat_taken"
    for service in (first, second):
        service.directory.close()
        await service.close()
    await database.close()
