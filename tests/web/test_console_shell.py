"""The console shell: /api/me says who is signed in; cookie writes need the CSRF token."""

from __future__ import annotations

from pathlib import Path

from sessions.people import Role
from tests.live_server import start_server
from tests.people import sign_in


async def test_me_needs_a_session_and_cookie_writes_need_the_csrf_token(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    try:
        admin = await sign_in(server.app, Role.ADMIN, "ada@example.org", "Ada")
        async with admin.session() as http:
            async with http.get(f"{server.url}/api/me") as response:
                me = await response.json()
            assert (response.status, me["email"], me["role"]) == (200, "ada@example.org", "admin")
            assert me["csrf"] == admin.csrf
            # a cookie-authenticated write without the token is refused before any handler
            async with http.post(f"{server.url}/api/simulations", json={}) as response:
                assert (response.status, (await response.json())["code"]) == (403, "csrf")
        async with admin.session() as http:
            http.cookie_jar.clear()
            async with http.get(f"{server.url}/api/me") as response:
                assert (response.status, (await response.json())["code"]) == (401, "unauthorized")
        async with admin.session() as http:
            async with http.get(f"{server.url}/admin") as response:
                assert response.status == 200 and response.url.path == "/admin/live"
            async with http.get(f"{server.url}/admin/nothing") as response:
                assert response.status == 404
    finally:
        await server.stop()
