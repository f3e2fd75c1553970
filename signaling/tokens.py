"""Join tokens: HS256 JWTs naming a room, an identity, a display name and a seat."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from sessions.ids import Identity, RoomId, SeatId
from sessions.roles import role_of
from signaling.protocol import ErrorCode

ALGORITHM = "HS256"
MAX_NAME_CHARS = 80
#: tolerated clock difference between the issuing machine and this one
LEEWAY_S = 30


class TokenError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class SeatClaims:
    room: RoomId
    identity: Identity
    name: str
    seat: SeatId
    expires_at: int

    def __post_init__(self) -> None:
        role_of(self.seat)  # raises UnknownSeat for a seat no role sits in
        if not self.name.strip() or len(self.name) > MAX_NAME_CHARS:
            raise ValueError(f"a display name has 1 to {MAX_NAME_CHARS} characters")
        if not self.identity or len(self.identity) > 128:
            raise ValueError("an identity has 1 to 128 characters")


def issue(secret: str, claims: SeatClaims) -> str:
    body = {
        "room": claims.room,
        "sub": claims.identity,
        "name": claims.name,
        "seat": claims.seat,
        "exp": claims.expires_at,
        "iat": int(time.time()),
    }
    return jwt.encode(body, secret, algorithm=ALGORITHM)


def claims_for(
    room: str, identity: str, name: str, seat: str, ttl_s: int, now: float | None = None
) -> SeatClaims:
    expires = int((time.time() if now is None else now) + ttl_s)
    return SeatClaims(RoomId(room), Identity(identity), name, SeatId(seat), expires)


def verify(secret: str, token: str) -> SeatClaims:
    """The claims of a token this server signed, or a TokenError saying why not."""
    if not token.isascii():  # a JWT is base64url and dots; PyJWT would fail to encode it
        raise TokenError(ErrorCode.TOKEN_INVALID, "the join token is not valid: not ASCII")
    try:
        body = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],  # never "none", never whatever the header asks for
            options={"require": ["exp", "sub", "room", "seat", "name"]},
            leeway=LEEWAY_S,
        )
    except jwt.ExpiredSignatureError:
        raise TokenError(ErrorCode.TOKEN_EXPIRED, "the join link has expired") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(ErrorCode.TOKEN_INVALID, f"the join token is not valid: {exc}") from None
    try:
        return SeatClaims(
            RoomId(str(body["room"])),
            Identity(str(body["sub"])),
            str(body["name"]),
            SeatId(str(body["seat"])),
            int(body["exp"]),
        )
    except Exception as exc:  # any malformed claim is an invalid token
        raise TokenError(ErrorCode.TOKEN_INVALID, f"the join token is malformed: {exc}") from None
