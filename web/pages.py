"""Health, the browser client's pages and its static files."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from web.health import process_counts
from web.keys import DIRECTORY

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


def add_static(app: web.Application) -> None:
    app.router.add_static("/static/", STATIC_DIR, follow_symlinks=False)
    if VENDOR_DIR.is_dir():
        app.router.add_static("/vendor/socket.io/", VENDOR_DIR, follow_symlinks=False)
