"""The browser's second copy: a publisher's page uploads its own recording in chunks.

`GET  /api/simulations/{simulation}/browser-copy`      which chunks the server has
`PUT  /api/simulations/{simulation}/browser-copy/{n}`  chunk n (WebM), ?t_ms=&duration_ms=
`GET  /api/recordings/{room}/copies/{chunk}`           a chunk's file (signed URL, playback)

Uploads are authenticated to the seat (its seat token as Bearer), checked against the
room, the seat and its consent over the chunk's stretch, and bounded: a chunk, a seat
and a session each have a byte cap (413). A body that is not a WebM file with at least
one frame is 415 (recordings/webm_chunk.py: a recorder stopped before its first frame
uploads an EBML header alone). A chunk already stored is acknowledged again
(the page may resend after a crash); another body under the same number is 409.
Files go under `<recordings>/<room>/browser/<seat>/<n>.webm`, written to a temporary
name and renamed, so a file the catalogue names is whole.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from recordings.webm_chunk import has_media
from sessions.browser_copy import (
    CopyLimits,
    consented_throughout,
    copy_visibility,
    may_copy,
    phases_between,
)
from sessions.errors import DomainError, NotPermitted
from sessions.ids import RoomId, SeatId
from signaling.tokens import SeatClaims, TokenError, verify
from storage.browser_copies import BrowserCopies, ChunkExists, CopyChunk
from web.auth import PEOPLE
from web.errors import BadRequest, NotFound, Unauthorized, UnsupportedMediaType
from web.keys import CATALOGUE, DIRECTORY, RECORDINGS_DIR, SECRET
from web.viewers import MEDIA_URL_TTL_S, seats_of_room

routes = web.RouteTableDef()


@dataclass
class Uploads:
    """The catalogue of chunks, the caps in force, one lock per session (caps are checked
    and the chunk stored under it, so two uploads cannot both take the last bytes)."""

    copies: BrowserCopies
    limits: CopyLimits
    locks: dict[RoomId, asyncio.Lock] = field(default_factory=dict)


UPLOADS = web.AppKey("browser_copy_uploads", Uploads)

CONTENT_TYPES = ("video/webm", "audio/webm")
#: the longest chunk a page may send (it cuts every few seconds)
MAX_DURATION_MS = 10 * 60 * 1000
_READ_BYTES = 256 * 1024


class TooLarge(DomainError):
    code = "too_large"
    status = 413


class Conflict(DomainError):
    code = "conflict"
    status = 409


class NoConsent(DomainError):
    code = "no_consent"
    status = 403


class WrongRoom(DomainError):
    code = "wrong_room"
    status = 403


def setup(app: web.Application, copies: BrowserCopies, limits: CopyLimits) -> None:
    app[UPLOADS] = Uploads(copies, limits)
    app.add_routes(routes)


async def _seat_of(request: web.Request, room_id: RoomId) -> SeatClaims:
    """The seat the bearer token holds in `room_id` (401/403/404 otherwise)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send the seat's token (Authorization: Bearer …)")
    try:
        claims = verify(request.app[SECRET], token)
    except TokenError as exc:
        raise Unauthorized(exc.message) from None
    if claims.room != room_id:
        raise WrongRoom("the token is for another simulation")
    seats = await seats_of_room(request, room_id)
    if not seats:
        raise NotFound(f"there is no simulation {room_id!r}")
    if claims.seat not in seats:
        raise Unauthorized("the token names a seat this simulation does not have")
    if await request.app[PEOPLE].is_deactivated(claims.identity):
        raise Unauthorized("this person's account is deactivated")
    if not may_copy(claims.seat):
        raise NotPermitted(f"the {claims.seat} seat publishes no media to copy")
    return claims


def _int_param(request: web.Request, name: str, low: int, high: int) -> int:
    text = request.query.get(name, "")
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be from {low} to {high}")
    return value


def _status(seat: SeatId, chunks: list[CopyChunk], limits: CopyLimits) -> dict[str, Any]:
    return {
        "ok": True,
        "seat": seat,
        "chunks": [c.n for c in chunks],
        "next": max((c.n for c in chunks), default=-1) + 1,
        "bytes": sum(c.bytes for c in chunks),
        "limits": {
            "chunk_bytes": limits.chunk_bytes,
            "seat_bytes": limits.seat_bytes,
            "session_bytes": limits.session_bytes,
        },
    }


@routes.get("/api/simulations/{simulation}/browser-copy")
async def copy_status(request: web.Request) -> web.Response:
    room_id = RoomId(request.match_info["simulation"])
    claims = await _seat_of(request, room_id)
    uploads = request.app[UPLOADS]
    chunks = await uploads.copies.chunks(room_id, claims.seat)
    return web.json_response(_status(claims.seat, chunks, uploads.limits))


async def _body(request: web.Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit`."""
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"a chunk may be at most {limit} bytes")
    parts: list[bytes] = []
    size = 0
    while True:
        part = await request.content.read(_READ_BYTES)
        if not part:
            break
        size += len(part)
        if size > limit:
            raise TooLarge(f"a chunk may be at most {limit} bytes")
        parts.append(part)
    if size == 0:
        raise BadRequest("the chunk is empty")
    return b"".join(parts)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    with partial.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)


@routes.put("/api/simulations/{simulation}/browser-copy/{n}")
async def upload_chunk(request: web.Request) -> web.Response:
    room_id = RoomId(request.match_info["simulation"])
    claims = await _seat_of(request, room_id)
    seat = claims.seat
    uploads = request.app[UPLOADS]
    limits = uploads.limits
    try:
        n = int(request.match_info["n"])
    except ValueError:
        raise BadRequest("the chunk number must be an integer") from None
    if not 0 <= n <= limits.max_chunks:
        raise BadRequest(f"the chunk number must be from 0 to {limits.max_chunks}")
    start_ms = _int_param(request, "t_ms", 0, 2**53)
    duration_ms = _int_param(request, "duration_ms", 1, MAX_DURATION_MS)
    content_type = request.content_type
    if content_type not in CONTENT_TYPES:
        raise UnsupportedMediaType(f"a chunk is WebM ({' or '.join(CONTENT_TYPES)})")
    data = await _body(request, limits.chunk_bytes)
    if not has_media(data):
        raise UnsupportedMediaType(
            "a chunk is a WebM file with at least one frame; this one has none"
        )
    digest = hashlib.sha256(data).hexdigest()
    copies = uploads.copies
    async with uploads.locks.setdefault(room_id, asyncio.Lock()):
        stored = await copies.chunk(room_id, seat, n)
        if stored is not None:
            if stored.sha256 != digest:
                raise Conflict(f"chunk {n} is already stored with other content")
            chunks = await copies.chunks(room_id, seat)
            return web.json_response(_status(seat, chunks, limits) | {"stored": n})
        events = await request.app[CATALOGUE].events(room_id)
        live = request.app[DIRECTORY].peek(room_id)
        end_ms = start_ms + duration_ms
        current = None
        live_consent = None
        if live is not None:
            current = (live.room.phase, live.room.timer.started_ms)
            participant = live.room.participants.get(seat)
            live_consent = None if participant is None else participant.consent.value
        if not consented_throughout(events, seat, start_ms, end_ms, live_consent):
            raise NoConsent(f"{seat} was not being recorded with their consent then")
        visibility = copy_visibility(seat, phases_between(events, start_ms, end_ms, current))
        seat_bytes, room_bytes = await copies.usage(room_id, seat)
        if seat_bytes + len(data) > limits.seat_bytes:
            raise TooLarge(f"this seat's copy may hold at most {limits.seat_bytes} bytes")
        if room_bytes + len(data) > limits.session_bytes:
            raise TooLarge(f"this session's copies may hold at most {limits.session_bytes} bytes")
        folder = request.app[RECORDINGS_DIR] / room_id / "browser" / seat
        path = folder / f"{n:06d}.webm"
        await asyncio.to_thread(_write, path, data)
        try:
            await copies.add(
                room_id,
                seat,
                n,
                start_ms,
                duration_ms,
                visibility,
                content_type,
                str(path),
                len(data),
                digest,
            )
        except ChunkExists:  # pragma: no cover - the lock admits one writer per room
            raise Conflict(f"chunk {n} is already stored") from None
        chunks = await copies.chunks(room_id, seat)
    return web.json_response(_status(seat, chunks, limits) | {"stored": n}, status=201)


# --- playback: a chunk's file behind a signed URL ----------------------------------------


def _signature(secret: str, chunk_id: int, expires: int) -> str:
    message = f"browser-copy:{chunk_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_copy_query(secret: str, chunk_id: int, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + MEDIA_URL_TTL_S)
    return f"exp={expires}&sig={_signature(secret, chunk_id, expires)}"


@routes.get("/api/recordings/{room}/copies/{chunk}")
async def get_copy(request: web.Request) -> web.FileResponse:
    """A browser-copy chunk's WebM file; the URL is signed for a viewer allowed to see it."""
    try:
        chunk_id = int(request.match_info["chunk"])
        expires = int(request.query.get("exp", ""))
    except ValueError:
        raise NotFound("there is no such chunk") from None
    expected = _signature(request.app[SECRET], chunk_id, expires)
    if expires < time.time() or not hmac.compare_digest(expected, request.query.get("sig", "")):
        raise NotFound("there is no such chunk")
    chunk = await request.app[UPLOADS].copies.by_id(chunk_id)
    if chunk is None or chunk.simulation_id != request.match_info["room"]:
        raise NotFound("there is no such chunk")
    path = Path(chunk.path).resolve()
    if not path.is_relative_to(request.app[RECORDINGS_DIR].resolve()) or not path.exists():
        raise NotFound("there is no such chunk")
    return web.FileResponse(
        path, headers={"Content-Type": chunk.content_type, "Cache-Control": "private, max-age=3600"}
    )
