"""Issue #11 item 3: SIGTERM with four recorded publishers drains within CAUCUS_DRAIN_S.

A real `caucus serve` subprocess records four seats publishing synthetic Opus and VP8
from a second subprocess (tests/system/crash_clients.py, real aiortc peer
connections); a Socket.IO client in this process stays connected without a seat.
On SIGTERM the server must tell that client `server_closing`, finish every segment
file and the catalogue, close the peer connections and exit, all within
CAUCUS_DRAIN_S – and every file must decode, frame for frame what the catalogue says.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from pathlib import Path

import pytest

from caucus.config import Config
from signaling.admission import seat_token
from tests.live_server import Participant
from tests.media.synthetic import SEATS
from tests.server_process import ServerProcess
from tests.stored import create_simulation, sqlite_file
from tests.system.recording_from_outside import TRACKS, Clients, decode_fully, poll, segments_of

DRAIN_S = 5.0
RECORD_S = 3.0


@pytest.mark.timeout(120)
async def test_sigterm_drains_within_the_deadline_and_every_segment_is_complete(
    tmp_path: Path,
) -> None:
    config = Config(data_dir=tmp_path).with_secrets()
    room = await create_simulation(config)
    database = sqlite_file(config)
    tokens = {
        str(seat): seat_token(config.secret, room, seat, f"Person {seat}")[0] for seat in SEATS
    }
    server = ServerProcess(
        tmp_path,
        CAUCUS_MEDIA="1",
        CAUCUS_ICE_ADDRESSES="127.0.0.1",
        CAUCUS_DRAIN_S=str(DRAIN_S),
    )
    clients: Clients | None = None
    watcher = Participant("observer_1", "", room)
    try:
        await server.start()
        await watcher.connect(server.url)
        clients = await Clients.start(server.url, room, tokens, tmp_path / "clients.log")
        await clients.ready(timeout=30)

        def recording() -> bool:
            open_now = {
                (str(s.seat), s.kind)
                for s in segments_of(database, room).values()
                if s.status == "recording"
            }
            return open_now >= TRACKS

        await poll(recording, 20, "every seat's audio and video to be recorded")
        await asyncio.sleep(RECORD_S)  # a timer: the stretch being recorded

        assert server.proc is not None
        term = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(asyncio.to_thread(server.proc.wait), DRAIN_S + 10)
        took = time.monotonic() - term
        print(f"\nSIGTERM → exit in {took:.2f} s (CAUCUS_DRAIN_S={DRAIN_S}), exit code {code}")
        log = server.log_tail(40)
        assert took <= DRAIN_S, f"exit after {took:.2f} s\n{log}"
        assert code == 0, log
        assert "drained in" in log and "NOT finished" not in log, log
        assert any(event == "server_closing" for event, _ in watcher.received), watcher.received

        segments = list(segments_of(database, room).values())
        assert {(str(s.seat), s.kind) for s in segments} >= TRACKS
        assert {s.status for s in segments} == {"complete"}, [
            (s.id, s.status, s.reason) for s in segments
        ]
        for segment in segments:
            decoded = decode_fully(Path(segment.path))
            assert not decoded.errors, (segment.path, decoded.errors)
            assert decoded.packets == segment.frames > 0, (segment, decoded)
        print(f"{len(segments)} segments complete, every file decodes")
    finally:
        if clients is not None:
            await clients.kill()
        with contextlib.suppress(Exception):
            await watcher.close()
        server.stop()
