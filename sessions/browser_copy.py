"""The browser's second copy of a seat's media: whether a chunk may be kept, and who may
watch it.

Each publisher's page records its own camera and microphone (MediaRecorder, WebM) in
chunks placed on the session clock. A chunk is kept only if the seat was being recorded
with its consent for the whole stretch, and it is watched under the same rule as the
server's segment of that moment (`visibility_of`): a chunk that spans a change of
visibility (the joint session into a caucus) gets the narrowest one that covers every
part, its seat's own (`seat:<seat>`), so a caucus never reaches a non-member.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sessions.ids import SeatId
from sessions.phases import Phase, PhaseKind
from sessions.recording_rules import PUBLIC, visibility_of
from sessions.roles import TRAINEE_ROLES, Capability, can, role_of

TimelineEvent = Mapping[str, Any]

#: the end of a chunk may pass the consent withdrawal the server stored by this much:
#: the page stops at the click, the server stores the withdrawal when it arrives
END_SLACK_MS = 2000


@dataclass(frozen=True)
class CopyLimits:
    """How much a browser copy may hold on the server."""

    chunk_bytes: int = 16 * 1024 * 1024
    seat_bytes: int = 1024 * 1024 * 1024
    session_bytes: int = 4 * 1024 * 1024 * 1024
    #: the highest chunk number accepted (a 4 h session in 5 s chunks is 2,880)
    max_chunks: int = 100_000

    def __post_init__(self) -> None:
        if min(self.chunk_bytes, self.seat_bytes, self.session_bytes, self.max_chunks) <= 0:
            raise ValueError("browser copy limits must be positive")


def may_copy(seat: SeatId) -> bool:
    """Only seats that publish media keep a browser copy."""
    return can(seat, Capability.PUBLISH_AUDIO) or can(seat, Capability.PUBLISH_VIDEO)


def phases_between(
    events: Iterable[TimelineEvent], start_ms: int, end_ms: int, live: tuple[Phase, int] | None
) -> list[Phase]:
    """Every phase in force at some moment of [start_ms, end_ms] (`live`: the live room's
    current phase and when it began, which the stored timeline may not have yet)."""
    changes: list[tuple[int, Phase]] = [(0, Phase(PhaseKind.LOBBY))]
    for event in events:
        if event.get("kind") == "phase":
            changes.append((int(event["t_ms"]), Phase.parse(str(event["phase"]))))
    if live is not None and (live[1], live[0]) not in changes:
        if live[1] >= changes[-1][0] and live[0] != changes[-1][1]:
            changes.append((live[1], live[0]))
    changes.sort(key=lambda c: c[0])
    seen: list[Phase] = []
    for i, (at, phase) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else None
        if at <= end_ms and (until is None or until > start_ms) and phase not in seen:
            seen.append(phase)
    return seen


def copy_visibility(seat: SeatId, phases: Sequence[Phase]) -> str:
    """Who may watch a chunk recorded across `phases`: the one visibility they share, or
    only the seat itself and the staff when they differ."""
    kinds = {visibility_of(phase, seat) for phase in phases} or {PUBLIC}
    return kinds.pop() if len(kinds) == 1 else f"seat:{seat}"


def consented_throughout(
    events: Iterable[TimelineEvent],
    seat: SeatId,
    start_ms: int,
    end_ms: int,
    live_consent: str | None = None,
) -> bool:
    """Whether `seat` agreed to be recorded at `start_ms` and did not withdraw before
    `end_ms` (less END_SLACK_MS). Staff seats are recorded without being asked.

    `live_consent`: the live room's current answer, which the stored timeline may lag.
    """
    if role_of(seat) not in TRAINEE_ROLES:
        return True
    answer: str | None = None
    for event in events:
        if event.get("kind") != "consent" or event.get("seat") != seat:
            continue
        t = int(event["t_ms"])
        if t <= start_ms:
            answer = str(event.get("consent"))
        elif t < end_ms - END_SLACK_MS and event.get("consent") != "given":
            return False
    if answer is None and live_consent == "given":
        answer = live_consent  # the stored timeline has not caught up yet
    return answer == "given"
