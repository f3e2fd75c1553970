"""A client's event payload, checked for shape and size, as the room command it asks for.

Each function raises `BadPayload` (a client error code) or returns the command;
the room's own rules are the room service's (`rooms/`).
"""

from __future__ import annotations

from rooms.commands import (
    AddCandidate,
    Annotate,
    AnswerMedia,
    ChangePhase,
    GiveConsent,
    Leave,
    ReadBrief,
    RestartMedia,
    Whisper,
)
from signaling.protocol import (
    MAX_CANDIDATE_CHARS,
    MAX_CONNECTION,
    MAX_LAG_MS,
    MAX_PHASE_CHARS,
    MAX_PLANNED_S,
    MAX_ROOM_ID_CHARS,
    MAX_SDP_CHARS,
    MAX_TOKEN_CHARS,
    MAX_WHISPER_CHARS,
    MEDIA_RESTART_REASONS,
    BadPayload,
    ErrorCode,
    integer,
    payload,
    text,
)


def join(data: object) -> tuple[str, str | None]:
    """The seat token, and the room the page asks for (None: the token's)."""
    fields = payload(data, {"token", "room"})
    token = text(fields, "token", MAX_TOKEN_CHARS) or ""
    return token, text(fields, "room", MAX_ROOM_ID_CHARS, required=False)


def leave(sid: str, data: object) -> Leave:
    payload(data, set())
    return Leave(sid)


def phase(sid: str, data: object) -> ChangePhase:
    fields = payload(data, {"to", "planned_s"})
    request = text(fields, "to", MAX_PHASE_CHARS) or ""
    planned_s = integer(fields, "planned_s", 1, MAX_PLANNED_S)
    return ChangePhase(sid, request, None if planned_s is None else planned_s * 1000)


def whisper(sid: str, data: object) -> Whisper:
    fields = payload(data, {"text"})
    return Whisper(sid, text(fields, "text", MAX_WHISPER_CHARS) or "")


def consent(sid: str, data: object) -> GiveConsent:
    fields = payload(data, {"recording"})
    given = fields.get("recording")
    if not isinstance(given, bool):
        raise BadPayload(ErrorCode.BAD_REQUEST, "'recording' must be true or false")
    return GiveConsent(sid, given)


def annotate(sid: str, data: object) -> Annotate:
    """A live note, placed at the moment its author saw what it is about.

    `lag_ms` is the client's estimate of how long ago, on the server's media
    clock, the moment happened: time since the keystroke + the media playout
    delay + half the signalling round trip (docs/protocol.md).
    """
    fields = payload(data, {"text", "skill", "rating", "target", "visibility", "lag_ms"})
    lag_ms = integer(fields, "lag_ms", 0, MAX_LAG_MS) or 0
    return Annotate(sid, {k: v for k, v in fields.items() if k != "lag_ms"}, lag_ms)


def brief(sid: str, data: object) -> ReadBrief:
    fields = payload(data, {"seat"})
    return ReadBrief(sid, text(fields, "seat", MAX_PHASE_CHARS) or "")


def media_answer(sid: str, data: object) -> AnswerMedia:
    fields = payload(data, {"sdp", "type", "connection"})
    sdp = text(fields, "sdp", MAX_SDP_CHARS) or ""
    if fields.get("type") != "answer":
        raise BadPayload(ErrorCode.BAD_REQUEST, "'type' must be 'answer': the server offers")
    return AnswerMedia(sid, sdp, integer(fields, "connection", 0, MAX_CONNECTION))


def media_ice(sid: str, data: object) -> AddCandidate:
    fields = payload(data, {"candidate", "sdpMid", "sdpMLineIndex", "connection"})
    candidate = text(fields, "candidate", MAX_CANDIDATE_CHARS, required=False)
    mid = text(fields, "sdpMid", 64, required=False)
    index = integer(fields, "sdpMLineIndex", 0, 64)
    connection = integer(fields, "connection", 0, MAX_CONNECTION)
    ice = {"candidate": candidate or "", "sdpMid": mid, "sdpMLineIndex": index}
    return AddCandidate(sid, ice, connection)


def media_restart(sid: str, data: object) -> RestartMedia:
    """The client's peer connection went disconnected or failed: it asks for a new one."""
    fields = payload(data, {"reason"})
    reason = text(fields, "reason", MAX_PHASE_CHARS)
    if reason not in MEDIA_RESTART_REASONS:
        raise BadPayload(
            ErrorCode.BAD_REQUEST,
            f"'reason' must be one of {', '.join(sorted(MEDIA_RESTART_REASONS))}",
        )
    return RestartMedia(sid, reason)
