"""Recording in the forwarding benchmark (``bench/forwarding.py --record``): every
bench room recorded as ``caucus serve`` records it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import av

from bench.recording import recording_room
from media.seat_connection import SeatConnection
from recordings.service import Recordings
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from storage.catalogue import Catalogue
from storage.database import Database, default_url
from storage.migrate import upgrade


class BenchRecordings:
    """Every bench room recorded the way ``caucus serve`` records: a simulation in a
    catalogue, :class:`Recordings` following its room, each producer's frames fed
    to it through a packet sink (what ``caucus.media_bridge.SfuMedia`` does)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database = Database(default_url(folder))
        self._catalogue = Catalogue(self.database)
        self._started = time.monotonic()
        self.recordings = Recordings(self._catalogue, folder / "rec", self._session_ms)
        self._rooms: dict[str, RoomId] = {}

    def _session_ms(self, room: RoomId) -> int:
        return int((time.monotonic() - self._started) * 1000)

    async def open(self) -> None:
        await upgrade(self.database)

    async def close(self) -> None:
        await self.recordings.close()
        await self.database.close()

    async def attach(self, bench_room: str, participant: SeatConnection) -> None:
        room_id = self._rooms.get(bench_room)
        if room_id is None:
            room = await recording_room(self._catalogue)
            self.recordings.room_changed(room, self._session_ms(room.id))
            room_id = self._rooms[bench_room] = room.id
        recordings = self.recordings

        def sink(seat: SeatId, kind: MediaKind, packet: av.Packet[Any]) -> None:
            clock_rate = 48000 if kind is MediaKind.AUDIO else 90000
            codec = "opus" if kind is MediaKind.AUDIO else "vp8"
            recordings.frame_forwarded(
                room_id, seat, kind, codec, clock_rate, bytes(packet), int(packet.pts or 0)
            )

        for producer in participant.producers.values():
            producer.sinks.append(sink)

    def written(self) -> int:
        return sum(f.stat().st_size for f in (self.folder / "rec").rglob("*") if f.is_file())
