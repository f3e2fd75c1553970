"""Signalling events, their payload limits and error codes: the wire contract.

Every client→server event is acknowledged with `{"ok": true, ...}` or
`{"ok": false, "code": <ErrorCode>, "message": <text>}`. docs/protocol.md
documents each event; this module is the single source of names and limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

NAMESPACE = "/"


#: Socket.IO room holding every live socket of a simulation room
def socket_room(room_id: str) -> str:
    return f"room:{room_id}"


class ClientEvent(StrEnum):
    """Events a client sends; each gets an acknowledgement."""

    JOIN = "join"
    LEAVE = "leave"
    PHASE = "phase"
    WHISPER = "whisper"
    BRIEF = "brief"
    CONSENT = "consent"
    ANNOTATE = "annotate"
    MEDIA_ANSWER = "media_answer"
    MEDIA_ICE = "media_ice"
    MEDIA_RESTART = "media_restart"


#: names Socket.IO gives meaning to; a client event so named is refused, never dispatched
RESERVED_EVENTS = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}
)


class ServerEvent(StrEnum):
    """Events the server sends without being asked."""

    ROOM_STATE = "room_state"
    WHISPER = "whisper"
    REPLACED = "replaced"
    ANNOTATION = "annotation"
    MEDIA_OFFER = "media_offer"
    MEDIA_VIDEO = "media_video"  # which received videos are paused, each one's layer
    SERVER_CLOSING = "server_closing"  # the server drains: finish up, reconnect later


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"
    TOO_LARGE = "too_large"
    UNKNOWN_EVENT = "unknown_event"
    NOT_JOINED = "not_joined"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_INVALID = "token_invalid"
    TOKEN_REVOKED = "token_revoked"  # the person it names was deactivated
    WRONG_ROOM = "wrong_room"
    UNKNOWN_ROOM = "unknown_room"
    RATE_LIMITED = "rate_limited"
    #: storage failed (disk full, I/O error), or placement cannot be asked (Redis away);
    #: nothing changed, try again
    UNAVAILABLE = "unavailable"
    WRONG_NODE = "wrong_node"  # the room runs on another node: the ack's `origin`
    SERVER_CLOSING = "server_closing"  # the server is draining and takes no joins
    INTERNAL = "internal"


MAX_TOKEN_CHARS = 4096
MAX_ROOM_ID_CHARS = 64
MAX_PHASE_CHARS = 32
MAX_WHISPER_CHARS = 1000
MAX_PLANNED_S = 4 * 3600
MAX_SDP_CHARS = 64 * 1024
#: a live note may be placed at most this far before it reached the server
MAX_LAG_MS = 60_000
MAX_CANDIDATE_CHARS = 1024
#: a media connection number (offers carry it; answers and candidates may echo it)
MAX_CONNECTION = 2**31 - 1
#: why a client asks for a new media connection (its RTCPeerConnection's state)
MEDIA_RESTART_REASONS = frozenset({"disconnected", "failed"})
#: engine.io refuses (and disconnects) any single packet above this
MAX_PACKET_BYTES = 128 * 1024


class BadPayload(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def ok(**fields: Any) -> dict[str, Any]:
    return {"ok": True, **fields}


def error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "code": code, "message": message}


def payload(data: object, allowed: set[str]) -> Mapping[str, Any]:
    """`data` as an object with no keys beyond `allowed`."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BadPayload(ErrorCode.BAD_REQUEST, "the payload must be an object")
    extra = set(data) - allowed
    if extra:
        raise BadPayload(
            ErrorCode.BAD_REQUEST, f"unknown fields: {', '.join(sorted(map(str, extra)))}"
        )
    return data


def text(data: Mapping[str, Any], key: str, max_chars: int, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise BadPayload(ErrorCode.BAD_REQUEST, f"'{key}' is required")
        return None
    if not isinstance(value, str):
        raise BadPayload(ErrorCode.BAD_REQUEST, f"'{key}' must be a string")
    if len(value) > max_chars:
        raise BadPayload(ErrorCode.TOO_LARGE, f"'{key}' is longer than {max_chars} characters")
    if required and not value.strip():
        raise BadPayload(ErrorCode.BAD_REQUEST, f"'{key}' must not be empty")
    return value


def integer(data: Mapping[str, Any], key: str, low: int, high: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadPayload(ErrorCode.BAD_REQUEST, f"'{key}' must be an integer")
    if not low <= value <= high:
        raise BadPayload(ErrorCode.BAD_REQUEST, f"'{key}' must be between {low} and {high}")
    return value
