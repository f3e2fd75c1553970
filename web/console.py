"""The admin console's pages (/admin/…) and who-am-I (/api/me).

Each console section is one static page (`web/static/console-<section>.html`)
plus its module; `js/console.js` draws the shared navigation and talks to the
API with the session's CSRF token. The pages hold no data: everything comes
from the JSON API, which checks permissions on every call.
"""

from __future__ import annotations

from aiohttp import web

from web.auth import CSRF, person_of
from web.errors import NotFound, Unauthorized
from web.pages import STATIC_DIR

routes = web.RouteTableDef()

#: the console's sections, in navigation order (each has console-<name>.html)
SECTIONS = (
    "live",
    "simulations",
    "rounds",
    "cohorts",
    "progress",
    "people",
    "scenarios",
    "recordings",
)


@routes.get("/admin")
async def console_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/live")


@routes.get("/admin/{section}")
async def console_page(request: web.Request) -> web.FileResponse:
    section = request.match_info["section"]
    page = STATIC_DIR / f"console-{section}.html"
    if section not in SECTIONS or not page.is_file():
        raise NotFound(f"there is no console page {section!r}")
    # The page itself is public (static markup); its data needs a signed-in staff member.
    return web.FileResponse(page)


@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    """The signed-in person, and the CSRF token their page sends with every write."""
    person = person_of(request)
    if person is None:
        raise Unauthorized("sign in first")
    return web.json_response(
        {
            "id": person.id,
            "email": person.email,
            "name": person.name,
            "time_zone": person.time_zone,
            "role": person.role.value,
            "csrf": request[CSRF],
        }
    )
