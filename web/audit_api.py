"""The audit log for the console: every deletion, by hand or by retention (admins only)."""

from __future__ import annotations

from aiohttp import web

from sessions.errors import NotPermitted
from storage import audit
from web.auth import person_of
from web.errors import BadRequest
from web.keys import DATABASE
from web.viewers import require_admin

routes = web.RouteTableDef()

MAX_LIMIT = 1000


@routes.get("/api/audit")
async def audit_log(request: web.Request) -> web.Response:
    """The newest entries first; `?limit=` (1–1000, default 200)."""
    person = person_of(request)
    if person is not None and not person.is_admin and "Authorization" not in request.headers:
        raise NotPermitted("only an admin reads the audit log")
    require_admin(request)
    raw = request.query.get("limit", "200")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    async with request.app[DATABASE].reading() as conn:
        entries = await audit.entries(conn, int(raw))
    return web.json_response(entries)
