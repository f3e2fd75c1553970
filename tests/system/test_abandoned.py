"""Issue #11 item 7: a room nobody ends, left empty, ends itself after the (shortened)
empty timeout: its recording is complete, its media and memory are released, and an
`ended` event with reason `abandoned` is on its timeline."""

from __future__ import annotations

import asyncio
from pathlib import Path

from caucus.app import RECORDINGS
from caucus.logbook_writer import LOGBOOK_WRITER
from recordings.recovery import probe
from sessions.ids import RoomId
from tests.live_server import LiveServer, start_server
from tests.media.synthetic import MEDIATOR
from tests.system.recorded_seats import RecordedRoom, now
from web.ended_rooms import ENDED_ROOMS
from web.keys import DIRECTORY

EMPTY_TIMEOUT_S = 2.0
SEATS = ("mediator", "party_a", "party_b", "coach")
RECORD_S = 3.0


def tokens(server: LiveServer, room_id: RoomId) -> dict[str, str]:
    return {
        seat: server.token(room_id, seat) for seat in ("mediator", "party_a", "party_b", "coach")
    }


def engineio_timer(task: asyncio.Task[object]) -> bool:
    """engine.io's per-socket ping loop sleeps out its interval (25 s) after the socket
    closed, and its service task lives as long as the server: neither is the room's."""
    name = getattr(task.get_coro(), "__qualname__", "")
    return name in ("AsyncSocket._send_ping", "AsyncServer._service_task")


async def test_a_room_left_empty_ends_itself_and_releases_its_media(tmp_path: Path) -> None:
    server = await start_server(
        tmp_path, media=True, ice_addresses="127.0.0.1", empty_timeout_s=EMPTY_TIMEOUT_S
    )
    directory, recordings = server.app[DIRECTORY], server.app[RECORDINGS]
    released: asyncio.Queue[RoomId] = asyncio.Queue()

    async def told(room_id: RoomId) -> None:
        await released.put(room_id)

    directory.on_released.append(told)
    try:
        baseline_tasks = len(asyncio.all_tasks())
        room_id = await server.simulation()
        seats = RecordedRoom(server.url, room_id, tokens(server, room_id))
        await seats.start()
        started = now()
        async with asyncio.timeout(20):  # re-read on every frame sent
            while len(await server.catalogue.segments(room_id, status="recording")) != 8:
                seats.sent.changed.clear()
                await seats.sent.changed.wait()
        await asyncio.sleep(RECORD_S)  # a timer: the stretch being recorded
        assert server.sfu.rooms[room_id].participants, "media never reached the server"
        leaving = now()  # the room is empty at the last seat's `leave`, within this call
        await seats.leave()

        assert await asyncio.wait_for(released.get(), EMPTY_TIMEOUT_S + 10) == room_id
        waited = now() - leaving
        print(f"released {waited:.2f} s after the seats began to leave ({EMPTY_TIMEOUT_S} s)")
        assert waited >= EMPTY_TIMEOUT_S - 0.1
        # The writer thread finishes the files; its results update the catalogue.
        assert await asyncio.to_thread(recordings.disk.wait_idle, 10)
        recordings.disk.deliver_results()
        await recordings.writes.flush()  # and the catalogue writes they queued

        assert directory.peek(room_id) is None
        assert room_id not in server.sfu.rooms
        events = await server.catalogue.events(room_id)
        ended = [e for e in events if e["kind"] == "ended"]
        assert ended and ended[-1]["reason"] == "abandoned", events[-5:]
        segments = await server.catalogue.segments(room_id)
        assert len(segments) >= 8
        assert {s.status for s in segments} == {"complete"}, segments
        for segment in segments:
            duration_ms, frames = probe(Path(segment.path))
            assert frames == segment.frames > 0, segment
        # The room's peer connections, consumers and timers are gone with it.
        assert not any(r.participants for r in server.sfu.rooms.values())
        # The ending's own writes (the simulation's end time, its logbook entries) finish.
        await server.app[ENDED_ROOMS].settle()
        await server.app[LOGBOOK_WRITER].settle()
        leftover = [
            t
            for t in asyncio.all_tasks()
            if not t.done() and t is not asyncio.current_task() and not engineio_timer(t)
        ]
        print(f"tasks: {baseline_tasks} before, {len(leftover)} after ({now() - started:.1f} s)")
        assert len(leftover) <= baseline_tasks, [t.get_coro() for t in leftover]
        # The room can be looked up again but not joined: it ended.
        rejoin = RecordedRoom(server.url, room_id, tokens(server, room_id))
        await rejoin.seats[MEDIATOR].socket.connect(server.url)
        reply = await rejoin.seats[MEDIATOR].socket.join()
        assert reply["ok"] is False and reply["code"] == "forbidden", reply
        await rejoin.seats[MEDIATOR].socket.close()
        await rejoin.close()
    finally:
        await server.stop()
