"""What may be asked of a live room: one typed command each, and what it answers.

`RoomService.execute(command)` returns the command's result type (`Command[R]` → R)
or raises a `DomainError` whose `code` the adapters send unchanged. A seat's
commands name the `connection` that sits in the seat (a Socket.IO sid today); the
service finds the room and seat from it, so no adapter handles a room itself.
Payloads are checked for shape and size by the adapters before they become
commands; the room's rules are checked here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sessions.ids import Identity, RoomId, SeatId
from sessions.rooms import Consent, JoinOutcome
from sessions.timeline import EventKind

R = TypeVar("R", covariant=True)


class Command(Generic[R]):
    """A request to a live room whose answer is an R."""


@dataclass(frozen=True)
class Joined:
    room_id: RoomId
    seat: SeatId
    outcome: JoinOutcome
    #: the room as the seat sees it now
    view: dict[str, Any]


@dataclass(frozen=True)
class PhaseChanged:
    phase: str
    t_ms: int


# --- seats -------------------------------------------------------------------------


@dataclass(frozen=True)
class Join(Command[Joined]):
    """`identity` (admitted by a checked token, `until` unix s) takes `seat` on `connection`."""

    room_id: str
    identity: Identity
    name: str
    seat: SeatId
    connection: str
    until: int


@dataclass(frozen=True)
class Leave(Command[None]):
    """The seat is given up; `disconnect`: its connection is closed too (revoked)."""

    connection: str
    disconnect: bool = False


@dataclass(frozen=True)
class Drop(Command[None]):
    """The connection was lost: its seat is held for the grace period."""

    connection: str


# --- the simulation ------------------------------------------------------------------


@dataclass(frozen=True)
class ChangePhase(Command[PhaseChanged]):
    connection: str
    to: str
    planned_ms: int | None = None


@dataclass(frozen=True)
class End(Command[int | None]):
    """Staff end the room from outside it; the session time it ended, None if it had."""

    room_id: str
    by: str


@dataclass(frozen=True)
class Whisper(Command[int]):
    """A whisper between coach and mediator; answers its session time."""

    connection: str
    text: str


@dataclass(frozen=True)
class GiveConsent(Command[Consent]):
    connection: str
    recording: bool


@dataclass(frozen=True)
class Annotate(Command[dict[str, Any]]):
    """A live note placed `lag_ms` before it arrived (when its author saw the moment).

    `note` holds the note's fields as sent (text, skill, rating, target, visibility);
    the annotation rules check them. Answers the stored note, once committed.
    """

    connection: str
    note: Mapping[str, Any]
    lag_ms: int = 0


@dataclass(frozen=True)
class ReadBrief(Command[str]):
    """The confidential brief `key` (a seat's), if the asking seat may read it."""

    connection: str
    key: str


# --- media ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerMedia(Command[bool]):
    """The seat's SDP answer; False if it answers a replaced connection (`number`)."""

    connection: str
    sdp: str
    number: int | None = None


@dataclass(frozen=True)
class AddCandidate(Command[bool]):
    """A client ICE candidate ("" ends them); False if for a replaced connection."""

    connection: str
    candidate: Mapping[str, Any]
    number: int | None = None


@dataclass(frozen=True)
class RestartMedia(Command[None]):
    """The seat's peer connection went `reason` (disconnected, failed): offer a new one."""

    connection: str
    reason: str


@dataclass(frozen=True)
class ReportMedia(Command[None]):
    """Media's report: a seat's media status changed; `kind` is the gap event to store."""

    room_id: RoomId
    seat: SeatId
    kind: EventKind | None
    detail: Mapping[str, str | int | None]


@dataclass(frozen=True)
class RecordingFault(Command[None]):
    """The recorder's report: its fault (None: recording again), shown in the room state."""

    room_id: RoomId
    reason: str | None
