"""Notes on both engines: stored, read in session order, edited, deleted with their replies."""

from __future__ import annotations

from sessions.annotations import Draft, Visibility
from sessions.ids import RoomId, ScenarioId, SeatId
from storage.catalogue import Catalogue
from storage.database import Database
from storage.notes import Notes


async def session(database: Database) -> RoomId:
    return (await Catalogue(database).create_simulation(ScenarioId("boundary-fence"), 1)).id


async def test_a_note_is_stored_as_acknowledged_and_read_in_session_order(
    database: Database,
) -> None:
    notes, room = Notes(database), await session(database)
    summary = Draft(9000, "summarised well", "summary", 4)
    later = await notes.add(room, summary, "coach-ana", "coach")
    earlier = await notes.add(
        room,
        Draft(1200, "open question", target=SeatId("mediator"), visibility=Visibility.TARGET),
        None,
        None,
    )
    assert await notes.get(room, later["id"]) == later
    assert later["skill"] == "summary" and later["rating"] == 4 and later["edited_ms"] is None
    assert earlier["visibility"] == "target" and earlier["author"] is None
    assert await notes.for_session(room) == [earlier, later]
    assert await notes.get(RoomId("another-room"), later["id"]) is None


async def test_an_edit_keeps_the_author_and_marks_the_time(database: Database) -> None:
    notes, room = Notes(database), await session(database)
    note = await notes.add(room, Draft(100, "first"), "coach-ana", "coach")
    edited = await notes.update(room, note["id"], Draft(150, "second", "listening", 3))
    assert (edited["t_ms"], edited["text"], edited["skill"], edited["rating"]) == (
        150,
        "second",
        "listening",
        3,
    )
    assert edited["author"] == "coach-ana" and edited["created_ms"] == note["created_ms"]
    assert edited["edited_ms"] is not None and edited["edited_ms"] >= note["created_ms"]


async def test_deleting_a_note_deletes_the_replies_to_it(database: Database) -> None:
    notes, room = Notes(database), await session(database)
    note = await notes.add(room, Draft(100, "why?"), "coach-ana", "coach")
    await notes.add(room, Draft(100, "because", reply_to=note["id"]), "amara", "mediator")
    other = await notes.add(room, Draft(200, "another"), "coach-ana", "coach")
    await notes.delete(room, note["id"])
    assert await notes.for_session(room) == [other]
