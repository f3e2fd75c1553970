"""A recording fault is the recording's problem (issue #11 item 2, issue #16 item 3).

Frames reach `Recordings.frame_forwarded` on the SFU's forwarding path; the disk work runs on
the writer thread. A disk that refuses (here: a recordings folder that cannot be
created, ENOTDIR) or is too slow (a writer stalled on a job) never raises into that
path nor makes it wait: the recording fails with a reason, and records again
once the disk can take it. Nor does a stalled database: the catalogue's writes
wait in their own queue.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from recordings.service import Recordings
from recordings.writer_thread import WriterThread
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.media_kinds import MediaKind
from sessions.rooms import Room
from sessions.scenarios import builtin_scenarios
from storage.catalogue import Catalogue
from storage.database import SQLITE_FILE
from tests.builders import in_phase
from tests.encoded_media import opus_frames

SEATS = ("mediator", "party_a", "party_b", "coach")
MEDIATOR = SeatId("mediator")
AUDIO = list(opus_frames(100))


async def recorded_room(catalogue: Catalogue) -> Room:
    record = await catalogue.create_simulation(ScenarioId("boundary-fence"), 0)
    room = Room.create(record.id, builtin_scenarios()[record.scenario_id], 0)
    for seat in SEATS:
        room, _, _ = room.join(f"id-{seat}", seat, SeatId(seat), 0)  # type: ignore[arg-type]
        if seat != "coach":
            room, _ = room.answer_consent(SeatId(seat), True, 0)
    return in_phase(room, "joint")


class Told:
    """Recordings.on_status, as the room hears it."""

    def __init__(self) -> None:
        self.statuses: list[str | None] = []
        self.changed = asyncio.Event()

    def __call__(self, room_id: RoomId, reason: str | None) -> None:
        self.statuses.append(reason)
        self.changed.set()

    async def next(self) -> str | None:
        await asyncio.wait_for(self.changed.wait(), 10)
        self.changed.clear()
        return self.statuses[-1]


def feed(recordings: Recordings, room: Room, frames: list[tuple[bytes, int]]) -> None:
    """What the SFU does for each received audio frame: hand it over and go on."""
    for data, ts in frames:
        recordings.frame_forwarded(room.id, MEDIATOR, MediaKind.AUDIO, "opus", 48_000, data, ts)


async def test_a_disk_fault_fails_the_recording_without_raising_into_forwarding(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")  # the recordings folder cannot be made under a file: ENOTDIR
    clock = [0]
    recordings = Recordings(
        catalogue, blocker / "recordings", lambda room: clock[0], retry_s=3600, min_free_bytes=0
    )
    told = Told()
    recordings.on_status = told
    room = await recorded_room(catalogue)
    recordings.room_changed(room, 0)
    try:
        feed(recordings, room, AUDIO[:20])  # must not raise
        reason = await told.next()
        assert reason is not None and "ENOTDIR" in reason, reason
        assert recordings.status(room.id) == reason
        feed(recordings, room, AUDIO[20:40])  # a failed recording takes frames quietly
        assert await asyncio.to_thread(recordings.disk.wait_idle, 10)
        recordings.disk.deliver_results()
        await recordings.writes.flush()
        segments = await catalogue.segments(room.id)
        assert len(segments) == 1, segments
        assert segments[0].status == "failed" and segments[0].reason == reason
        events = [e for e in await catalogue.events(room.id) if e["kind"] == "recording_failed"]
        assert [e["reason"] for e in events] == [reason]

        # The disk can take files again: the next room change records again, in a new segment.
        blocker.unlink()
        recordings.retry_s = 0  # (the retry interval has passed)
        clock[0] = 1000
        recordings.room_changed(room, 1000)
        assert await told.next() is None
        feed(recordings, room, AUDIO[40:80])
        await recordings.close()
        segments = await catalogue.segments(room.id)
        assert [s.status for s in segments] == ["failed", "complete"], segments
        assert segments[1].frames == 40
        kinds = [e["kind"] for e in await catalogue.events(room.id)]
        assert kinds.count("recording_resumed") == 1
    finally:
        await recordings.close()


async def test_a_stalled_disk_drops_frames_and_marks_the_recording_instead_of_waiting(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    disk = WriterThread(max_frames=8)
    recordings = Recordings(catalogue, tmp_path / "rec", lambda room: 0, disk=disk)
    told = Told()
    recordings.on_status = told
    room = await recorded_room(catalogue)
    recordings.room_changed(room, 0)
    stalled, release = threading.Event(), threading.Event()

    def stall() -> None:  # the disk hangs (an NFS server gone, a dying drive)
        stalled.set()
        release.wait(30)

    try:
        disk.submit(stall)
        assert await asyncio.to_thread(stalled.wait, 10)
        # If a frame waited for the disk this would never return: `release` is set after.
        feed(recordings, room, AUDIO[:50])
        assert disk.stats.frames_dropped >= 1
        reason = recordings.status(room.id)
        assert reason is not None and "queue was full" in reason
        assert told.statuses == [reason]
        release.set()
        assert await asyncio.to_thread(disk.wait_idle, 10)
        disk.deliver_results()
        await recordings.writes.flush()
        segments = await catalogue.segments(room.id)
        assert [s.status for s in segments] == ["failed"], segments
        assert segments[0].reason == reason
        assert segments[0].frames == 8  # what the queue held was still written
    finally:
        release.set()
        await recordings.close()


async def test_frames_are_recorded_while_the_database_is_stalled(
    tmp_path: Path, catalogue: Catalogue
) -> None:
    """The catalogue's writes wait in their queue; the frames that made them do not."""
    recordings = Recordings(catalogue, tmp_path / "rec", lambda room: 0)
    room = await recorded_room(catalogue)
    recordings.room_changed(room, 0)
    # another process holds the database's write lock (SQLite: the file is the database)
    locker = sqlite3.connect(tmp_path / SQLITE_FILE, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        feed(recordings, room, AUDIO[:10])  # the segment's row is queued
        for _ in range(3):
            await asyncio.sleep(0)  # the queue's task starts the insert: it waits for the lock
        assert recordings.writes.pending >= 1
        started = time.perf_counter()
        feed(recordings, room, AUDIO[10:60])
        took = time.perf_counter() - started
        assert took < 0.5, f"50 frames took {took:.2f} s while the database was locked"
        assert await catalogue.segments(room.id) == []  # (reading is not blocked in WAL)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    await recordings.close()
    (segment,) = await catalogue.segments(room.id)
    assert (segment.status, segment.frames) == ("complete", 60)
