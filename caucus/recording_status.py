"""Tells a room when its recording fails or records again: state in the room, pushed out."""

from __future__ import annotations

import asyncio
import logging

import socketio

from sessions.ids import RoomId
from sessions.views import view_for
from signaling.directory import LiveRoom, RoomDirectory
from signaling.protocol import NAMESPACE, ServerEvent

logger = logging.getLogger(__name__)


class RecordingStatus:
    """`Recordings.on_status`: the fault goes into the room's state, every seat gets it."""

    def __init__(self, directory: RoomDirectory, sio: socketio.AsyncServer) -> None:
        self._directory = directory
        self._sio = sio
        self._pushes: set[asyncio.Task[None]] = set()

    def __call__(self, room_id: RoomId, reason: str | None) -> None:
        live = self._directory.set_recording_fault(room_id, reason)
        if live is None:
            return
        task = asyncio.get_running_loop().create_task(self._push(live))
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    async def _push(self, live: LiveRoom) -> None:
        now = self._directory.now_ms(live)
        for seat, sid in list(live.sockets.items()):
            try:
                await self._sio.emit(
                    ServerEvent.ROOM_STATE,
                    view_for(live.room, seat, now),
                    to=sid,
                    namespace=NAMESPACE,
                )
            except Exception:
                logger.exception("could not send %s the recording status", seat)
