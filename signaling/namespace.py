"""The Socket.IO namespace: validate each event, apply the domain, tell media, emit views."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from recordings.feedback import Author, Feedback, draft_from
from sessions.audience import audience
from sessions.errors import DomainError, NotPermitted, NotSeated
from sessions.ids import RoomId, SeatId
from sessions.roles import is_staff, role_of
from sessions.timeline import Event, EventKind
from sessions.views import view_for, visible_briefs
from signaling.client_faults import ClientFaultLog
from signaling.directory import LiveRoom, RoomDirectory
from signaling.media_port import MediaPort
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
    NAMESPACE,
    RESERVED_EVENTS,
    BadPayload,
    ClientEvent,
    ErrorCode,
    ServerEvent,
    error,
    integer,
    ok,
    payload,
    socket_room,
    text,
)
from signaling.tokens import TokenError, verify
from signaling.turn import IceServerPolicy

logger = logging.getLogger(__name__)
client_faults = ClientFaultLog(logger)

Handler = Callable[[str, object], Awaitable[dict[str, Any]]]


def _refused(what: str, exc: ValueError) -> BadPayload:
    """Media refused a client's description or candidate: the client's mistake, one line."""
    reason = str(exc)[:200] or type(exc).__name__
    client_faults.refused(what, reason)
    return BadPayload(ErrorCode.BAD_REQUEST, f"the {what} was refused: {reason}")


class SimulationNamespace(socketio.AsyncNamespace):
    #: async identity → may it take a seat (signaling/revocation.py); None admits every token
    identity_check: Callable[[str], Awaitable[bool]] | None = None

    def __init__(
        self,
        directory: RoomDirectory,
        secret: str,
        media: MediaPort,
        grace_s: float,
        feedback: Feedback | None = None,
        ice: IceServerPolicy | None = None,
    ) -> None:
        super().__init__(NAMESPACE)
        self.directory = directory
        self.media = media
        self.feedback = feedback
        self._secret = secret
        self._grace_s = grace_s
        self._ice = ice or IceServerPolicy()
        #: (room, seat) → (identity, token expiry): whom each seat's TURN credential names
        self._seat_tokens: dict[tuple[RoomId, SeatId], tuple[str, int]] = {}
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
            await self._disconnected(sid)
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

    def _seated(self, sid: str) -> tuple[LiveRoom, SeatId]:
        found = self.directory.locate(sid)
        if found is None:
            raise BadPayload(ErrorCode.NOT_JOINED, "join a seat first")
        return found

    # --- seats ----------------------------------------------------------------------

    async def _join(self, sid: str, data: object) -> dict[str, Any]:
        fields = payload(data, {"token", "room"})
        token = text(fields, "token", MAX_TOKEN_CHARS)
        asked_room = text(fields, "room", MAX_ROOM_ID_CHARS, required=False)
        claims = verify(self._secret, token or "")
        if self.identity_check is not None and not await self.identity_check(claims.identity):
            raise BadPayload(ErrorCode.TOKEN_REVOKED, "this account has been deactivated")
        if asked_room is not None and asked_room != claims.room:
            raise BadPayload(ErrorCode.WRONG_ROOM, "this join link is for another simulation")
        if self.directory.locate(sid) is not None:
            raise BadPayload(ErrorCode.BAD_REQUEST, "this connection already sits in a seat")
        live = await self.directory.open(claims.room)
        async with live.lock:
            now = self.directory.now_ms(live)
            room, outcome, event = live.room.join(claims.identity, claims.name, claims.seat, now)
            await self.directory.commit(live, room, event)
            displaced = self.directory.bind(live, claims.seat, sid)
            release = live.releases.pop(claims.seat, None)
        if release is not None:
            release.cancel()
        self._seat_tokens[(live.id, claims.seat)] = (claims.identity, claims.expires_at)
        await self.enter_room(sid, socket_room(live.id))
        if displaced is not None:
            await self._displace(live, claims.seat, displaced)
        await self.media.seat_connected(live.id, claims.seat)
        await self.media.audience_changed(live.id, audience(live.room))
        await self._broadcast(live)
        logger.info("%s %s seat %s in %s", claims.identity, outcome.value, claims.seat, live.id)
        return ok(
            outcome=outcome.value,
            state=view_for(
                live.room,
                claims.seat,
                self.directory.now_ms(live),
                self.media.media_status(live.id),
            ),
            iceServers=self.ice_servers(live.id, claims.seat),
        )

    async def _displace(self, live: LiveRoom, seat: SeatId, old_sid: str) -> None:
        """A second connection with the same identity replaces the first."""
        await self.media.seat_disconnected(live.id, seat, gap="replaced by a new connection")
        await self.emit(
            ServerEvent.REPLACED, {"reason": "joined from another connection"}, to=old_sid
        )
        await self.leave_room(old_sid, socket_room(live.id))
        await self.disconnect(old_sid)

    async def _leave(self, sid: str, data: object) -> dict[str, Any]:
        payload(data, set())
        live, seat = self._seated(sid)
        async with live.lock:
            room, event = live.room.leave(seat, self.directory.now_ms(live))
            await self.directory.commit(live, room, event)
            self.directory.unbind(sid)
        self._seat_tokens.pop((live.id, seat), None)
        await self.leave_room(sid, socket_room(live.id))
        await self.media.seat_disconnected(live.id, seat)
        await self._broadcast(live)
        return ok()

    async def _disconnected(self, sid: str) -> None:
        found = self.directory.unbind(sid)
        if found is None:
            return
        live, seat = found
        async with live.lock:
            if seat not in live.room.participants:
                return
            room, event = live.room.drop(seat, self.directory.now_ms(live))
            await self.directory.commit(live, room, event)
            live.releases[seat] = asyncio.create_task(self._release_after_grace(live, seat))
        await self.media.seat_disconnected(live.id, seat, gap="signalling lost")
        await self._broadcast(live)

    async def _release_after_grace(self, live: LiveRoom, seat: SeatId) -> None:
        await asyncio.sleep(self._grace_s)  # a timer, not synchronisation
        async with live.lock:
            live.releases.pop(seat, None)
            participant = live.room.participants.get(seat)
            if participant is None or participant.connected:
                return
            room, event = live.room.leave(seat, self.directory.now_ms(live), "grace_expired")
            await self.directory.commit(live, room, event)
            self._seat_tokens.pop((live.id, seat), None)
        logger.info("released seat %s in %s after the grace period", seat, live.id)
        await self.media.seat_disconnected(live.id, seat)  # forgets its media gap
        await self._broadcast(live)

    # --- the simulation -------------------------------------------------------------

    async def _phase(self, sid: str, data: object) -> dict[str, Any]:
        fields = payload(data, {"to", "planned_s"})
        request = text(fields, "to", MAX_PHASE_CHARS) or ""
        planned_s = integer(fields, "planned_s", 1, MAX_PLANNED_S)
        live, seat = self._seated(sid)
        async with live.lock:
            now = self.directory.now_ms(live)
            planned_ms = None if planned_s is None else planned_s * 1000
            room, event = live.room.change_phase(seat, request, now, planned_ms)
            await self.directory.commit(live, room, event)
        # Forwarding switches first: nobody should hear a caucus while the banner catches up.
        await self.media.audience_changed(live.id, audience(room))
        await self._broadcast(live)
        return ok(phase=str(room.phase), t_ms=event.t_ms)

    async def _whisper(self, sid: str, data: object) -> dict[str, Any]:
        fields = payload(data, {"text"})
        message = text(fields, "text", MAX_WHISPER_CHARS) or ""
        live, seat = self._seated(sid)
        target = live.room.whisper_target(seat)
        target_sid = live.sockets.get(target)
        if target_sid is None:
            raise NotSeated(f"the {target} is not connected")
        async with live.lock:  # the room stays as it is: nobody else's change is undone
            now = self.directory.now_ms(live)
            event = Event(now, EventKind.WHISPER, seat, {"to": target, "text": message})
            await self.directory.commit(live, live.room, event)
        await self.emit(
            ServerEvent.WHISPER, {"from": seat, "text": message, "t_ms": now}, to=target_sid
        )
        return ok(t_ms=now)

    async def _consent(self, sid: str, data: object) -> dict[str, Any]:
        fields = payload(data, {"recording"})
        given = fields.get("recording")
        if not isinstance(given, bool):
            raise BadPayload(ErrorCode.BAD_REQUEST, "'recording' must be true or false")
        live, seat = self._seated(sid)
        async with live.lock:
            room, event = live.room.answer_consent(seat, given, self.directory.now_ms(live))
            await self.directory.commit(live, room, event)
        await self._broadcast(live)
        return ok(consent=room.participants[seat].consent.value)

    async def _annotate(self, sid: str, data: object) -> dict[str, Any]:
        """A live note, placed at the moment its author saw what it is about.

        `lag_ms` is the client's estimate of how long ago, on the server's media
        clock, the moment happened: time since the keystroke + the media playout
        delay + half the signalling round trip (docs/protocol.md).
        """
        fields = payload(data, {"text", "skill", "rating", "target", "visibility", "lag_ms"})
        lag_ms = integer(fields, "lag_ms", 0, MAX_LAG_MS) or 0
        live, seat = self._seated(sid)
        if self.feedback is None:
            raise BadPayload(ErrorCode.UNKNOWN_EVENT, "this server keeps no feedback")
        now = self.directory.now_ms(live)
        draft = draft_from({k: v for k, v in fields.items() if k != "lag_ms"}, max(0, now - lag_ms))
        identity = live.room.participants[seat].identity
        note = await self.feedback.add(live.id, Author(identity, seat), draft, now)
        staff = [
            other_sid
            for other, other_sid in live.sockets.items()
            if other_sid != sid and is_staff(other)
        ]
        for other_sid in staff:
            await self.emit(ServerEvent.ANNOTATION, note, to=other_sid)
        return ok(annotation=note)

    async def _brief(self, sid: str, data: object) -> dict[str, Any]:
        fields = payload(data, {"seat"})
        key = text(fields, "seat", MAX_PHASE_CHARS) or ""
        live, seat = self._seated(sid)
        briefs = visible_briefs(live.room, seat)
        if key not in briefs:
            raise NotPermitted(f"a {role_of(seat).value} may not read the {key!r} brief")
        return ok(seat=key, brief=briefs[key])

    # --- media signalling -----------------------------------------------------------

    async def _media_answer(self, sid: str, data: object) -> dict[str, Any]:
        fields = payload(data, {"sdp", "type", "connection"})
        sdp = text(fields, "sdp", MAX_SDP_CHARS) or ""
        if fields.get("type") != "answer":
            raise BadPayload(ErrorCode.BAD_REQUEST, "'type' must be 'answer': the server offers")
        connection = integer(fields, "connection", 0, MAX_CONNECTION)
        live, seat = self._seated(sid)
        try:
            applied = await self.media.answer(live.id, seat, sdp, "answer", connection)
        except ValueError as exc:
            raise _refused("SDP answer", exc) from None
        return ok() if applied else ok(stale=True)

    async def _media_ice(self, sid: str, data: object) -> dict[str, Any]:
        fields = payload(data, {"candidate", "sdpMid", "sdpMLineIndex", "connection"})
        candidate = text(fields, "candidate", MAX_CANDIDATE_CHARS, required=False)
        mid = text(fields, "sdpMid", 64, required=False)
        index = integer(fields, "sdpMLineIndex", 0, 64)
        connection = integer(fields, "connection", 0, MAX_CONNECTION)
        live, seat = self._seated(sid)
        try:
            applied = await self.media.ice_candidate(
                live.id,
                seat,
                {"candidate": candidate or "", "sdpMid": mid, "sdpMLineIndex": index},
                connection,
            )
        except ValueError as exc:
            raise _refused("ICE candidate", exc) from None
        return ok() if applied else ok(stale=True)

    async def _media_restart(self, sid: str, data: object) -> dict[str, Any]:
        """The client's peer connection went disconnected or failed: offer a new one."""
        fields = payload(data, {"reason"})
        reason = text(fields, "reason", MAX_PHASE_CHARS)
        if reason not in MEDIA_RESTART_REASONS:
            raise BadPayload(
                ErrorCode.BAD_REQUEST,
                f"'reason' must be one of {', '.join(sorted(MEDIA_RESTART_REASONS))}",
            )
        live, seat = self._seated(sid)
        outcome = await self.media.restart(live.id, seat, reason)
        if outcome == "too_soon":
            raise BadPayload(
                ErrorCode.RATE_LIMITED, "a new media connection was just offered; answer it first"
            )
        if outcome == "no_media":
            raise BadPayload(ErrorCode.UNKNOWN_EVENT, "this server runs no media")
        if outcome == "no_connection":
            raise BadPayload(ErrorCode.NOT_JOINED, "this seat has no media connection yet")
        return ok(restarting=True)

    async def media_changed(
        self,
        room_id: RoomId,
        seat: SeatId,
        kind: EventKind | None,
        detail: dict[str, str | int | None],
    ) -> None:
        """Media's report: a seat's media status changed; store the gap event if any."""
        live = self.directory.peek(room_id)
        if live is None:
            return
        if kind is not None:
            async with live.lock:
                event = Event(self.directory.now_ms(live), kind, seat, detail)
                await self.directory.commit(live, live.room, event)
        await self._broadcast(live)

    # --- fan-out --------------------------------------------------------------------

    async def _broadcast(self, live: LiveRoom) -> None:
        """Send each connected seat the room as its role may see it."""
        room, now = live.room, self.directory.now_ms(live)
        media = self.media.media_status(live.id)
        await asyncio.gather(
            *(
                self.emit(ServerEvent.ROOM_STATE, view_for(room, seat, now, media), to=sid)
                for seat, sid in list(live.sockets.items())
            )
        )

    async def send_to_seat(
        self, room_id: RoomId, seat: SeatId, event: str, data: dict[str, Any]
    ) -> None:
        """Media's way to reach a participant (offers, ICE candidates).

        Every offer carries the seat's ``iceServers`` (fresh TURN credentials), so
        a page that builds a new peer connection from any offer, first or after a
        media failure, gets them without media/ knowing about TURN.
        """
        live = self.directory.peek(room_id)  # media never opens a room
        sid = live.sockets.get(seat) if live is not None else None
        if sid is None:
            return
        if event == ServerEvent.MEDIA_OFFER:
            data = {**data, "iceServers": self.ice_servers(room_id, seat)}
        await self.emit(event, data, to=sid)

    def ice_servers(self, room_id: RoomId, seat: SeatId) -> list[dict[str, Any]]:
        """STUN and TURN (with this seat's own credential) for a seated client; else []."""
        held = self._seat_tokens.get((room_id, seat))
        if held is None:
            return []  # nobody without a seat gets a relay
        identity, token_expires_at = held
        return self._ice.for_seat(identity, token_expires_at, time.time())

    async def close(self) -> None:
        for live in self.directory.rooms():
            for task in live.releases.values():
                task.cancel()
            live.releases.clear()
