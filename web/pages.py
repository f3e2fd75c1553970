"""Health, the browser client's pages and its static files."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from placement.nodes import NodeInfo
from sessions.actions import seat_facts
from sessions.rooms import Consent
from signaling.tokens import TokenError, verify
from web.auth import person_of
from web.errors import NotFound, Unauthorized
from web.every_node import ask
from web.health import process_counts
from web.keys import CATALOGUE, DIRECTORY, PLACEMENT, SCENARIOS, SECRET
from web.room_owner import FORWARDED_BY, HTTP, passed_on, reachable

STATIC_DIR = Path(__file__).parent / "static"
#: the Socket.IO browser client, installed from npm by the set-up command (not committed)
VENDOR_DIR = Path(__file__).resolve().parent.parent / "node_modules" / "socket.io-client" / "dist"

routes = web.RouteTableDef()


@routes.get("/healthz")
async def health(request: web.Request) -> web.Response:
    rooms = request.app[DIRECTORY].rooms()
    return web.json_response(
        {
            "ok": True,
            "rooms_live": len(rooms),
            "participants_connected": sum(len(r.sockets) for r in rooms),
            # ?heap=1 also walks the heap for peer connections not yet collected
            **process_counts(request.app, heap=request.query.get("heap") == "1"),
        }
    )


@routes.get("/")
async def index(request: web.Request) -> web.FileResponse:
    # A signed-in person's home page; anyone else the welcome page (with "Sign in").
    if person_of(request) is not None:
        return web.FileResponse(STATIC_DIR / "home.html")
    return web.FileResponse(STATIC_DIR / "index.html")


@routes.get("/join/{room}")
async def join_page(request: web.Request) -> web.FileResponse:
    # The seat token travels in the URL fragment; the page reads it from there.
    return web.FileResponse(STATIC_DIR / "join.html")


@routes.get("/review")
async def review_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "review.html")


@routes.get("/recordings/{room}")
async def playback_page(request: web.Request) -> web.FileResponse:
    # The viewer's token travels in the URL fragment, as on join links.
    return web.FileResponse(STATIC_DIR / "playback.html")


@routes.get("/api/join/{room}")
async def join_preview(request: web.Request) -> web.Response:
    """What the join page shows before the seat is taken: the scenario's title, and the
    seat's recording consent if its holder already answered (a reload mid-session is
    not asked again), and the seat's role facts the page needs before joining (its
    role, whether it publishes, whether it answers the recording question), so the
    page derives nothing from the seat's name, and `origin`: where the page connects
    its socket ("" = this origin; another node's when the room is placed there, 503
    `unavailable` while the placement cannot be asked). The seat token comes as
    `Authorization: Bearer`."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send the seat token (Authorization: Bearer …)")
    try:
        claims = verify(request.app[SECRET], token)
    except TokenError as exc:
        raise Unauthorized(exc.message) from None
    record = await request.app[CATALOGUE].simulation(request.match_info["room"])
    if record is None or record.id != claims.room:
        raise NotFound("there is no such simulation for this link")
    consent = Consent.PENDING
    live = request.app[DIRECTORY].peek(record.id)
    held = live.room.participants.get(claims.seat) if live is not None else None
    if held is not None and held.identity == claims.identity:
        consent = held.consent
    origin = ""
    if live is None:  # live here: here; else where it is placed (placed now if new)
        placement = request.app[PLACEMENT]
        node = await placement.place(record.id)
        if node.id != placement.here.id:
            origin = node.origin
            consent = await consent_at(request, node)
    return web.json_response(
        {
            "room": record.id,
            "seat": claims.seat,
            "title": request.app[SCENARIOS][record.scenario_id].title,
            "consent": consent.value,
            "origin": origin,
            **seat_facts(claims.seat),
        }
    )


async def consent_at(request: web.Request, node: NodeInfo) -> Consent:
    """The seat's consent as `node`, which runs the room, knows it (its holder may have
    answered there); pending if it cannot say. Asked once: a forwarded ask is not
    sent on."""
    origin = reachable(request, node)
    if origin is None or FORWARDED_BY in request.headers:
        return Consent.PENDING
    url = origin + request.rel_url.raw_path_qs
    reply = await ask(request.app[HTTP], "GET", url, passed_on(request), None)
    if reply is None or reply[0] != 200 or not isinstance(reply[1], dict):
        return Consent.PENDING
    known = reply[1].get("consent")
    return Consent(known) if known in set(Consent) else Consent.PENDING


def add_static(app: web.Application) -> None:
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    if VENDOR_DIR.is_dir():
        app.router.add_static("/vendor/socket.io/", VENDOR_DIR, follow_symlinks=False)
