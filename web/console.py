"""The admin console's pages (/admin/…) and who-am-I (/api/me).

Each console section is its `<main>` (`web/static/console/<section>.html`) set
in one shell (`console/shell.html`: head, header, navigation) plus its module
`js/console-<section>.js`; `js/console.js` draws the shared navigation and
talks to the API with the session's CSRF token. The pages hold no data: everything comes
from the JSON API, which checks permissions on every call.
"""

from __future__ import annotations

import functools

from aiohttp import web

from web.auth import CSRF, person_of
from web.errors import NotFound, Unauthorized
from web.pages import STATIC_DIR

routes = web.RouteTableDef()

#: the console's sections, in navigation order: its title and any stylesheet of its own
SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "live": ("live rooms", ()),
    "simulations": ("simulations", ()),
    "rounds": ("practice rounds", ()),
    "cohorts": ("cohorts", ()),
    "progress": ("progress", ("progress.css",)),
    "people": ("people", ()),
    "scenarios": ("scenarios", ()),
    "recordings": ("recordings", ()),
}
PAGES = STATIC_DIR / "console"


@functools.cache
def page_of(section: str) -> str:
    """The section's whole page: its main set in the shell (read once; static markup)."""
    title, styles = SECTIONS[section]
    return (
        (PAGES / "shell.html")
        .read_text()
        .format(
            title=title,
            styles="".join(f'  <link rel="stylesheet" href="/static/{s}">\n' for s in styles),
            main=(PAGES / f"{section}.html").read_text(),
            section=section,
        )
    )


@routes.get("/admin")
async def console_home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/admin/live")


@routes.get("/admin/{section}")
async def console_page(request: web.Request) -> web.Response:
    section = request.match_info["section"]
    if section not in SECTIONS:
        raise NotFound(f"there is no console page {section!r}")
    # The page itself is public (static markup); its data needs a signed-in staff member.
    return web.Response(text=page_of(section), content_type="text/html")


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
