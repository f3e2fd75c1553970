"""The Socket.IO namespace: validate each event, hand it to the room service, answer.

Every handler is validate → command → reply: the room service (`rooms/`) owns
the rooms and publishes what changed; `signaling/fanout.py` sends it out.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import socketio

from placement.nodes import PlacedElsewhere
from rooms.commands import Drop, Join
from rooms.errors import MediaRefused
from rooms.media_port import MediaPort
from rooms.service import RoomService
from sessions.errors import DomainError
from sessions.ids import RoomId, SeatId
from signaling import requests
from signaling.client_faults import ClientFaultLog
from signaling.fanout import SocketFanOut
from signaling.protocol import (
    NAMESPACE,
    RESERVED_EVENTS,
    BadPayload,
    ClientEvent,
    ErrorCode,
    ServerEvent,
    error,
    ok,
)
from signaling.tokens import TokenError, verify
from signaling.turn import IceServerPolicy

logger = logging.getLogger(__name__)
client_faults = ClientFaultLog(logger)

Handler = Callable[[str, object], Awaitable[dict[str, Any]]]


class SimulationNamespace(socketio.AsyncNamespace):
    #: async identity → may it take a seat (signaling/revocation.py); None admits every token
    identity_check: Callable[[str], Awaitable[bool]] | None = None

    def __init__(self, rooms: RoomService, secret: str, ice: IceServerPolicy | None = None) -> None:
        super().__init__(NAMESPACE)
        self.rooms = rooms
        self._secret = secret
        self.fanout = SocketFanOut(self, ice or IceServerPolicy())
        self._handlers: dict[str, Handler] = {
            ClientEvent.JOIN: self._join,
            ClientEvent.LEAVE: self._leave,
            ClientEvent.PHASE: self._phase,
            ClientEvent.WHISPER: self._whisper,
            ClientEvent.BRIEF: self._brief,
            ClientEvent.CONSENT: self._consent,
            ClientEvent.ANNOTATE: self._annotate,
            ClientEvent.MEDIA_ANSWER: self._media_answer,
            ClientEvent.MEDIA_ICE: self._media_ice,
            ClientEvent.MEDIA_RESTART: self._media_restart,
        }

    @property
    def media(self) -> MediaPort:
        return self.rooms.media

    # --- dispatch -------------------------------------------------------------------

    async def trigger_event(self, event: str, *args: Any) -> Any:
        """Route every event here so unknown ones and bad payloads get an error ack."""
        sid, *rest = args
        if not isinstance(event, str):  # the wire guard already refuses these
            return error(ErrorCode.BAD_REQUEST, "an event name is a string")
        if event in RESERVED_EVENTS and self._sent_by_client(sid):
            # A client's event named like Socket.IO's own must not act as one.
            client_faults.refused("event", f"reserved name {event!r}")
            return error(ErrorCode.BAD_REQUEST, f"{event!r} is reserved by Socket.IO")
        if event == "connect":
            return None  # anyone may connect; joining a seat needs a token
        if event == "disconnect":
            await self.rooms.execute(Drop(sid))
            return None
        handler = self._handlers.get(event)
        if handler is None:
            return error(ErrorCode.UNKNOWN_EVENT, f"there is no event {str(event)[:40]!r}")
        if len(rest) > 1:
            return error(ErrorCode.BAD_REQUEST, "send one payload object per event")
        try:
            return await handler(sid, rest[0] if rest else None)
        except (BadPayload, TokenError) as exc:
            return error(exc.code, exc.message)
        except DomainError as exc:
            if isinstance(exc, MediaRefused):  # the client's mistake: one line, no trace
                client_faults.refused(exc.what, exc.reason)
            if isinstance(exc, PlacedElsewhere):  # the client connects there instead
                return {**error(exc.code, exc.message), "origin": exc.node.origin}
            return error(exc.code, exc.message)
        except Exception:
            logger.exception("event %s from %s failed", event, sid)
            return error(ErrorCode.INTERNAL, "the server could not handle this event")

    def _sent_by_client(self, sid: str) -> bool:
        """True for an event a client sent, False for the server's own connect/disconnect.

        python-socketio dispatches a client's EVENT packet only while the socket
        is fully connected, and calls the real `connect` and `disconnect`
        handlers while the socket is pending (connecting or disconnecting), when
        `is_connected` is False.
        """
        return bool(self.server.manager.is_connected(sid, self.namespace))

    # --- seats ----------------------------------------------------------------------

    async def _join(self, sid: str, data: object) -> dict[str, Any]:
        token, asked_room = requests.join(data)
        claims = verify(self._secret, token)
        if self.identity_check is not None and not await self.identity_check(claims.identity):
            raise BadPayload(ErrorCode.TOKEN_REVOKED, "this account has been deactivated")
        if asked_room is not None and asked_room != claims.room:
            raise BadPayload(ErrorCode.WRONG_ROOM, "this join link is for another simulation")
        if self._connected_for(sid) not in (None, claims.room):
            # `caucus serve --workers N` sent this connection to the node of its ?room=
            raise BadPayload(
                ErrorCode.WRONG_ROOM, "this connection was opened for another simulation"
            )
        joined = await self.rooms.execute(
            Join(claims.room, claims.identity, claims.name, claims.seat, sid, claims.expires_at)
        )
        return ok(
            outcome=joined.outcome.value,
            state=joined.view,
            iceServers=self.ice_servers(joined.room_id, joined.seat),
        )

    def _connected_for(self, sid: str) -> str | None:
        """The room named when the connection was opened (`/socket.io/?room=…`), if any."""
        environ = self.server.get_environ(sid, self.namespace) or {}
        room = parse_qs(environ.get("QUERY_STRING", "")).get("room")
        return room[0] if room else None

    async def _leave(self, sid: str, data: object) -> dict[str, Any]:
        await self.rooms.execute(requests.leave(sid, data))
        return ok()

    # --- the simulation -------------------------------------------------------------

    async def _phase(self, sid: str, data: object) -> dict[str, Any]:
        changed = await self.rooms.execute(requests.phase(sid, data))
        return ok(phase=changed.phase, t_ms=changed.t_ms)

    async def _whisper(self, sid: str, data: object) -> dict[str, Any]:
        return ok(t_ms=await self.rooms.execute(requests.whisper(sid, data)))

    async def _consent(self, sid: str, data: object) -> dict[str, Any]:
        return ok(consent=(await self.rooms.execute(requests.consent(sid, data))).value)

    async def _annotate(self, sid: str, data: object) -> dict[str, Any]:
        return ok(annotation=await self.rooms.execute(requests.annotate(sid, data)))

    async def _brief(self, sid: str, data: object) -> dict[str, Any]:
        asked = requests.brief(sid, data)
        return ok(seat=asked.key, brief=await self.rooms.execute(asked))

    # --- media signalling -----------------------------------------------------------

    async def _media_answer(self, sid: str, data: object) -> dict[str, Any]:
        applied = await self.rooms.execute(requests.media_answer(sid, data))
        return ok() if applied else ok(stale=True)

    async def _media_ice(self, sid: str, data: object) -> dict[str, Any]:
        applied = await self.rooms.execute(requests.media_ice(sid, data))
        return ok() if applied else ok(stale=True)

    async def _media_restart(self, sid: str, data: object) -> dict[str, Any]:
        await self.rooms.execute(requests.media_restart(sid, data))
        return ok(restarting=True)

    # --- media's way to a seat ------------------------------------------------------

    async def send_to_seat(
        self, room_id: RoomId, seat: SeatId, event: str, data: dict[str, Any]
    ) -> None:
        """Media's way to reach a participant (offers, ICE candidates).

        Every offer carries the seat's ``iceServers`` (fresh TURN credentials), so
        a page that builds a new peer connection from any offer, first or after a
        media failure, gets them without media/ knowing about TURN.
        """
        sid = self.rooms.connection_of(room_id, seat)
        if sid is None:
            return
        if event == ServerEvent.MEDIA_OFFER:
            data = {**data, "iceServers": self.ice_servers(room_id, seat)}
        await self.emit(event, data, to=sid)

    def ice_servers(self, room_id: RoomId, seat: SeatId) -> list[dict[str, Any]]:
        """STUN and TURN (with this seat's own credential) for a seated client; else []."""
        return self.fanout.ice_servers(room_id, seat)
