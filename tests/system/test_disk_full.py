"""Issue #11 item 2: the disk fills while four seats are recorded – the recording fails,
the room does not.

The data directory (database, secrets and recordings) is a small tmpfs this test
mounts (root only). A real `caucus serve` subprocess records four real aiortc seats
from this process; then the test fills the tmpfs to the last byte. Then:

- media keeps flowing between all four seats, as before the fault (twice, seconds apart);
- the coach's room state says the recording `failed`, with the disk's reason;
- a phase change and a note while the disk is full either succeed or answer
  `unavailable` and change nothing; once space is back both succeed and are stored;
- once space is back recording starts again (new segments), after
  CAUCUS_RECORDING_RETRY_S, at the next phase change;
- at the end no segment is left `recording`: each is `complete` or `failed` with a
  reason, and `recording_failed` is on the timeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from caucus.config import Config
from sessions.ids import RoomId
from signaling.admission import seat_token
from storage.catalogue import Segment
from tests.media.synthetic import SEATS
from tests.server_process import ServerProcess
from tests.stored import create_simulation, sqlite_file
from tests.system.recorded_seats import RecordedRoom, now
from tests.system.recording_from_outside import TRACKS, poll, read_db, segments_of

TMPFS_SIZE = "24m"
RETRY_S = 1.0
FLOW_TIMEOUT_S = 15.0

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> int:
    """Write zeros to `path` until the file system says ENOSPC; the bytes written."""
    written = 0
    chunk = b"\0" * (256 * 1024)
    with path.open("wb", buffering=0) as f:
        while True:
            try:
                written += f.write(chunk)
            except OSError as exc:
                if exc.errno != 28:
                    raise
                if len(chunk) == 1:
                    return written
                chunk = chunk[: len(chunk) // 2]


def rows(database: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    with contextlib.closing(read_db(database)) as db:
        return list(db.execute(sql, args).fetchall())


@pytest.mark.timeout(180)
async def test_a_full_disk_fails_the_recording_and_the_room_goes_on(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with tmpfs(data, TMPFS_SIZE):
        config = Config(data_dir=data).with_secrets()
        room = await create_simulation(config)
        database = sqlite_file(config)
        tokens = {
            str(seat): seat_token(config.secret, room, seat, f"Person {seat}")[0] for seat in SEATS
        }
        log = tmp_path / "server.log"
        log.touch()
        (data / "server.log").symlink_to(log)  # the log must not share the full disk
        server = ServerProcess(
            data,
            CAUCUS_MEDIA="1",
            CAUCUS_ICE_ADDRESSES="127.0.0.1",
            CAUCUS_RECORDING_RETRY_S=str(RETRY_S),
        )
        seats: RecordedRoom | None = None
        try:
            await server.start()
            seats = RecordedRoom(server.url, room, tokens)
            await seats.start()
            await poll(
                lambda: {(str(s.seat), s.kind) for s in open_segments(database, room)} >= TRACKS,
                20,
                "every seat's audio and video to be recorded",
            )
            before = now()
            await asyncio.sleep(2.0)  # a timer: a stretch of normal forwarding to compare with
            expected = seats.received(before)
            for seat, tracks in expected.items():
                assert len(tracks) >= 4, f"{seat} received only {tracks} before the fault"

            # -- the disk fills
            filler = data / "filler"
            filled = await asyncio.to_thread(fill, filler)
            full_at = now()
            print(f"\nfilled the tmpfs with {filled / 2**20:.1f} MiB")
            coach = seats.coach
            state = await coach.wait_for_state(
                lambda s: s["recording"]["status"] == "failed", FLOW_TIMEOUT_S
            )
            reason = state["recording"]["fault"]
            print(f"recording failed {now() - full_at:.2f} s after the disk filled: {reason}")
            assert "ENOSPC" in reason or "No space" in reason, reason
            trainee = seats.seats[SEATS[1]].socket.state["recording"]
            assert trainee["fault"] is None, "only the coach and admin are told why"

            # -- forwarding goes on, for every seat, and stays on
            await seats.wait_receiving(expected, now(), FLOW_TIMEOUT_S)
            await asyncio.sleep(2.0)  # a timer: does it *stay* on
            await seats.wait_receiving(expected, now(), FLOW_TIMEOUT_S)
            print("media flows between all four seats after the fault")

            # -- signalling while full: succeeds or answers `unavailable` and changes nothing
            phase_before = coach.state["phase"]["name"]
            reply = await coach.call("phase", {"to": "caucus:party_a"})
            if not reply["ok"]:
                assert reply["code"] == "unavailable", reply
                assert coach.state["phase"]["name"] == phase_before
            note = await coach.call("annotate", {"text": "noted while the disk was full"})
            assert note["ok"] or note["code"] == "unavailable", note
            print(f"while full: phase → {reply.get('code', 'ok')}, note → {note.get('code', 'ok')}")

            # -- space is back (every segment so far was opened before)
            resumed_after = max(s.id for s in segments_of(database, room).values())
            filler.unlink()
            await asyncio.sleep(RETRY_S)  # a timer: the retry interval is the behaviour
            target = "joint" if reply["ok"] else "caucus:party_a"
            after = await coach.call("phase", {"to": target})
            assert after["ok"], after
            note = await coach.call("annotate", {"text": "noted once space was back"})
            assert note["ok"], note
            phases = rows(
                database,
                "SELECT json_extract(detail, '$.phase') FROM events"
                " WHERE simulation_id = ? AND kind = 'phase'",
                room,
            )
            assert (target,) in phases, phases
            notes = rows(
                database,
                "SELECT text FROM annotations WHERE simulation_id = ?",
                room,
            )
            assert ("noted once space was back",) in notes, notes
            print(f"space back: phase → {target}, note stored")
            await coach.wait_for_state(
                lambda s: s["recording"]["status"] == "recording", FLOW_TIMEOUT_S
            )
            print("the coach sees the recording on again")
            await poll(
                lambda: any(s.id > resumed_after for s in open_segments(database, room)),
                FLOW_TIMEOUT_S,
                "a new segment once space is back",
            )
            await seats.wait_receiving({seat: set() for seat in expected}, now(), FLOW_TIMEOUT_S)
        finally:
            # The clients leave first, as people do; the server then drains what is left.
            if seats is not None:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(30):
                        await seats.leave()
            server.stop()  # SIGTERM: the drain finishes the files and the catalogue

        segments = segments_of(database, room).values()
        statuses = {s.status for s in segments}
        print(f"{len(segments)} segments: " + ", ".join(sorted(statuses)))
        assert "recording" not in statuses and statuses <= {"complete", "failed"}, statuses
        failed = rows(
            database,
            "SELECT id, reason FROM segments WHERE simulation_id = ? AND status = 'failed'",
            room,
        )
        assert failed and all(reason for _, reason in failed), failed
        assert any(s.status == "complete" for s in segments if s.id > resumed_after)
        events = rows(
            database,
            "SELECT json_extract(detail, '$.reason') FROM events"
            " WHERE simulation_id = ? AND kind = 'recording_failed'",
            room,
        )
        assert events and events[0][0] == reason, events


def open_segments(database: Path, room: RoomId) -> list[Segment]:
    try:
        return [s for s in segments_of(database, room).values() if s.status == "recording"]
    except sqlite3.OperationalError:  # the server is writing its WAL: read again next time
        return []
