"""The room service: the one owner of every live room in this process.

Signalling, REST (the console's end), revocation, media's reports and the
recorder's all change a room the same way: `execute(command)`. Each handler takes
the room's lock, applies the domain (`sessions.rooms.Room`), commits the event
(stored before the room changes), and after the lock publishes typed events
(`rooms.events`) to which the socket fan-out, the media and the recorder
subscribe, once, in `create_app`. Nothing here knows of sockets or HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from recordings.feedback import Feedback
from rooms import conduct, media_commands, seats
from rooms.commands import (
    AddCandidate,
    Annotate,
    AnswerMedia,
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
from rooms.context import RoomContext
from rooms.directory import RoomDirectory
from rooms.events import EventBus, RoomChanged, RoomReleased
from rooms.media_port import MediaPort
from sessions.errors import DomainError
from sessions.ids import RoomId, SeatId
from sessions.rooms import Room

logger = logging.getLogger(__name__)

R = TypeVar("R")

_HANDLERS: dict[type[Any], Callable[[RoomContext, Any], Awaitable[Any]]] = {
    Join: seats.join,
    Leave: seats.leave,
    Drop: seats.drop,
    ChangePhase: conduct.change_phase,
    End: conduct.end,
    Whisper: conduct.whisper,
    GiveConsent: conduct.give_consent,
    Annotate: conduct.annotate,
    ReadBrief: conduct.read_brief,
    AnswerMedia: media_commands.answer,
    AddCandidate: media_commands.add_candidate,
    RestartMedia: media_commands.restart,
    ReportMedia: media_commands.report,
    RecordingFault: media_commands.recording_fault,
}


class RoomService:
    def __init__(
        self,
        directory: RoomDirectory,
        media: MediaPort,
        feedback: Feedback | None = None,
        grace_s: float = 60.0,
        events: EventBus | None = None,
    ) -> None:
        self.directory = directory
        self.events = events or EventBus()
        self._rooms = RoomContext(directory, self.events, media, feedback, grace_s)
        directory.observers.append(self._committed)
        directory.on_released.append(self._released)

    @property
    def media(self) -> MediaPort:
        return self._rooms.media

    async def execute(self, command: Command[R]) -> R:
        """Carry out `command`; its answer, or the DomainError that refused it."""
        handler = _HANDLERS.get(type(command))
        if handler is None:
            raise TypeError(f"no room command {type(command).__name__}")
        return cast(R, await handler(self._rooms, command))

    def submit(self, command: Command[None]) -> None:
        """Carry out `command` in the background (for callers that cannot wait: the
        recorder); a refusal is logged."""
        self._rooms.spawn(self.execute(command), type(command).__name__)

    # --- questions ------------------------------------------------------------------

    def connection_of(self, room_id: RoomId, seat: SeatId) -> str | None:
        """The connection in `seat`, if the room is live and someone sits there."""
        live = self.directory.peek(room_id)  # never opens a room
        return live.sockets.get(seat) if live is not None else None

    async def end_seats_of(self, identity: str) -> int:
        """Give up every connected seat `identity` holds and close its connection
        (a deactivated person); how many."""
        ended = 0
        for live in self.directory.rooms():
            for seat, connection in list(live.sockets.items()):
                held = live.room.participants.get(seat)
                if held is None or held.identity != identity:
                    continue
                try:
                    await self.execute(Leave(connection, disconnect=True))
                except DomainError as exc:  # gone meanwhile: nothing left to end
                    logger.info("seat %s in %s was not ended: %s", seat, live.id, exc)
                    continue
                ended += 1
                logger.info("ended seat %s in %s: its holder was deactivated", seat, live.id)
        return ended

    # --- lifecycle ------------------------------------------------------------------

    def _committed(self, room: Room, t_ms: int) -> None:
        self.events.deliver(RoomChanged(room, t_ms))

    async def _released(self, room_id: RoomId) -> None:
        await self.events.publish(RoomReleased(room_id))

    async def close(self) -> None:
        """Stop the seats' grace timers and wait for background commands (shutdown)."""
        for live in self.directory.rooms():
            for task in live.releases.values():
                task.cancel()
            live.releases.clear()
        await self._rooms.settle()
