"""Who is asking to review recordings: the admin, a person identified by a seat token, or a
signed-in person (worked out by web.person_viewers before the handler runs)."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from aiohttp import web

from sessions.ids import RoomId, SeatId
from sessions.rooms import Room
from signaling.tokens import TokenError, verify
from web.auth import bears_admin_token
from web.errors import NotFound, Unauthorized
from web.keys import CATALOGUE, SCENARIOS, SECRET

#: how long a signed media URL handed to the playback page stays valid
MEDIA_URL_TTL_S = 6 * 3600


@dataclass(frozen=True)
class Viewer:
    """The admin (every session) or an identity (the sessions it sat in, in those seats)."""

    identity: str | None
    seats: dict[RoomId, SeatId]

    @property
    def is_admin(self) -> bool:
        return self.identity is None

    def seat_in(self, room_id: str) -> SeatId | None:
        """The seat the viewer watches `room_id` from; raises NotFound if not theirs."""
        if self.is_admin:
            return None
        seat = self.seats.get(RoomId(room_id))
        if seat is None:
            # Not "forbidden": a session that is not yours does not exist for you.
            raise NotFound(f"there is no recording {room_id!r}")
        return seat


#: the signed-in person as a viewer (set by web.person_viewers.signed_in_viewers)
SIGNED_IN_VIEWER = web.RequestKey("signed_in_viewer", Viewer)


async def viewer_of(request: web.Request) -> Viewer:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        if SIGNED_IN_VIEWER in request:
            return request[SIGNED_IN_VIEWER]
        raise Unauthorized(
            "sign in, or send a seat token or the admin token (Authorization: Bearer …)"
        )
    if bears_admin_token(request):
        return Viewer(None, {})
    try:
        claims = verify(request.app[SECRET], token)
    except TokenError as exc:
        raise Unauthorized(exc.message) from None
    if claims.seat not in await seats_of_room(request, claims.room):
        # Signed by us, but for a seat this simulation does not have (party_c in a
        # two-party scenario) or a simulation that does not exist: admits nobody.
        raise Unauthorized("the token names a seat this simulation does not have")
    # The token itself admits its holder to its own seat, joined or not.
    seats = {claims.room: claims.seat} | await request.app[CATALOGUE].seats_of(claims.identity)
    return Viewer(claims.identity, seats)


async def seats_of_room(request: web.Request, room_id: RoomId) -> tuple[SeatId, ...]:
    """The seats simulation `room_id` was created with; () if there is no such simulation."""
    record = await request.app[CATALOGUE].simulation(room_id)
    scenario = None if record is None else request.app[SCENARIOS].get(record.scenario_id)
    if record is None or scenario is None:
        return ()
    return Room.create(record.id, scenario, record.observers).seats


def _signature(secret: str, segment_id: int, expires: int) -> str:
    message = f"segment:{segment_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_query(secret: str, segment_id: int, now: float | None = None) -> str:
    """A query string that lets a <video> element fetch one segment without headers."""
    expires = int((time.time() if now is None else now) + MEDIA_URL_TTL_S)
    return f"exp={expires}&sig={_signature(secret, segment_id, expires)}"


def check_signed(request: web.Request, segment_id: int) -> None:
    try:
        expires = int(request.query.get("exp", ""))
    except ValueError:
        raise NotFound("there is no such segment") from None
    expected = _signature(request.app[SECRET], segment_id, expires)
    if expires < time.time() or not hmac.compare_digest(expected, request.query.get("sig", "")):
        raise NotFound("there is no such segment")


def require_admin(request: web.Request) -> None:
    """Only the admin token (or a signed-in admin, without a bearer header) passes; a
    seat token, however valid, does not (so the database is not asked: a seat token's
    seats do not matter here)."""
    if "Authorization" in request.headers:
        if bears_admin_token(request):
            return
    elif SIGNED_IN_VIEWER in request and request[SIGNED_IN_VIEWER].is_admin:
        return
    raise Unauthorized("an admin token is required (Authorization: Bearer …)")
