"""Signing in and out over HTTP: cookies, next, CSRF, invitations, and the failure limit."""

from __future__ import annotations

from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, ClientSession, CookieJar
from yarl import URL

from sessions.people import Role
from tests.live_server import LiveServer, start_server
from web.auth import COOKIE, CSRF_HEADER, PEOPLE
from web.signin import same_site_path


async def _person(server: LiveServer, email: str, role: Role, password: str) -> str:
    people = server.app[PEOPLE]
    person = await people.add(email, email.split("@")[0].title(), role, "Africa/Nairobi")
    await people.set_password(person.id, password)
    return person.id


def browser() -> ClientSession:
    """A client that keeps cookies for 127.0.0.1 (aiohttp's jar refuses IP hosts by default)."""
    return ClientSession(cookie_jar=CookieJar(unsafe=True))


def _cookie(response: ClientResponse) -> Any:
    cookies = SimpleCookie()
    for header in response.headers.getall("Set-Cookie", []):
        cookies.load(header)
    return cookies[COOKIE]


async def _login(
    http: ClientSession, server: LiveServer, email: str, password: str, **extra: Any
) -> tuple[int, dict[str, Any], ClientResponse]:
    headers = extra.pop("headers", {})
    async with http.post(
        f"{server.url}/login", json={"email": email, "password": password, **extra}, headers=headers
    ) as response:
        return response.status, await response.json(), response


def test_only_paths_on_this_site_are_followed_after_sign_in() -> None:
    assert same_site_path("/admin/people?x=1#y") == "/admin/people?x=1#y"
    for outside in [
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "admin",
        7,
        "/\nx",
        "javascript:alert(1)",
        "",
    ]:
        assert same_site_path(outside) is None, outside


async def test_sign_in_sets_a_session_cookie_and_goes_where_asked(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    try:
        await _person(server, "ada@example.org", Role.ADMIN, "ada's long password")
        await _person(server, "tom@example.org", Role.TRAINEE, "tom's long password")
        async with browser() as http:
            status, reply, response = await _login(
                http, server, "Ada@Example.org", "ada's long password"
            )
            assert (status, reply) == (200, {"ok": True, "next": "/admin"})
            cookie = _cookie(response)
            assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
            assert cookie["path"] == "/" and int(cookie["max-age"]) > 0
            async with http.get(f"{server.url}/api/me") as me:
                assert (await me.json())["email"] == "ada@example.org"
        for asked, landed in [("/admin/people", "/admin/people"), ("//evil.example", "/")]:
            async with browser() as http:
                status, reply, _ = await _login(
                    http, server, "tom@example.org", "tom's long password", next=asked
                )
                assert (status, reply["next"]) == (200, landed)
        async with browser() as http:
            async with http.get(f"{server.url}/login") as page:
                assert page.status == 200 and "Sign in" in await page.text()
    finally:
        await server.stop()


async def test_an_unknown_address_and_a_wrong_password_get_the_same_answer(
    tmp_path: Path,
) -> None:
    server = await start_server(tmp_path)
    try:
        await _person(server, "ada@example.org", Role.ADMIN, "ada's long password")
        async with browser() as http:
            answers = []
            for email in ["ada@example.org", "nobody@example.org"]:
                status, reply, response = await _login(http, server, email, "a wrong guess")
                answers.append((status, reply))
                assert COOKIE not in response.cookies
            # the same answer; the same work (one hash each) is counted in
            # tests/storage/test_people_accounts.py
            assert answers[0] == answers[1]
            assert answers[0][0] == 401 and answers[0][1]["code"] == "bad_credentials"
            for bad in [{"email": "x@example.org"}, {"email": 5, "password": "p"}, {"x": 1}]:
                async with http.post(f"{server.url}/login", json=bad) as response:
                    assert (response.status, (await response.json())["code"]) == (
                        400,
                        "bad_request",
                    )
    finally:
        await server.stop()


async def test_the_eleventh_failure_in_a_minute_is_refused_without_checking(
    tmp_path: Path,
) -> None:
    # behind a trusted proxy, so each request can come from an address of its own
    server = await start_server(tmp_path, trusted_proxies="127.0.0.1")
    try:
        await _person(server, "ada@example.org", Role.ADMIN, "ada's long password")
        await _person(server, "tom@example.org", Role.TRAINEE, "tom's long password")
        async with browser() as http:
            # per account: ten wrong passwords from ten addresses
            for n in range(10):
                status, reply, _ = await _login(
                    http,
                    server,
                    "ada@example.org",
                    f"wrong {n}",
                    headers={"X-Forwarded-For": f"198.51.100.{n}"},
                )
                assert (status, reply["code"]) == (401, "bad_credentials")
            # the 11th, with the RIGHT password, is refused: it was never checked
            status, reply, response = await _login(
                http,
                server,
                "ada@example.org",
                "ada's long password",
                headers={"X-Forwarded-For": "198.51.100.77"},
            )
            assert (status, reply["code"]) == (429, "too_many_attempts")
            assert 0 < int(response.headers["Retry-After"]) <= 60
            assert COOKIE not in response.cookies
            # another account is not affected
            status, _, _ = await _login(
                http,
                server,
                "tom@example.org",
                "tom's long password",
                headers={"X-Forwarded-For": "198.51.100.78"},
            )
            assert status == 200

        async with browser() as http:
            # per address: ten failures on ten accounts from one address
            for n in range(10):
                status, _, _ = await _login(
                    http,
                    server,
                    f"guess{n}@example.org",
                    "wrong",
                    headers={"X-Forwarded-For": "203.0.113.9"},
                )
                assert status == 401
            status, reply, _ = await _login(
                http,
                server,
                "tom@example.org",
                "tom's long password",
                headers={"X-Forwarded-For": "203.0.113.9"},
            )
            assert (status, reply["code"]) == (429, "too_many_attempts")
            status, _, _ = await _login(
                http,
                server,
                "tom@example.org",
                "tom's long password",
                headers={"X-Forwarded-For": "203.0.113.10"},
            )
            assert status == 200
    finally:
        await server.stop()


async def test_the_cookie_is_secure_when_the_request_came_over_https(tmp_path: Path) -> None:
    server = await start_server(tmp_path, trusted_proxies="127.0.0.1")
    try:
        await _person(server, "ada@example.org", Role.ADMIN, "ada's long password")
        async with browser() as http:
            _, _, response = await _login(
                http,
                server,
                "ada@example.org",
                "ada's long password",
                headers={"X-Forwarded-Proto": "https"},
            )
            assert _cookie(response)["secure"]
    finally:
        await server.stop()


async def test_signing_out_needs_the_csrf_token_and_ends_the_session(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    try:
        await _person(server, "ada@example.org", Role.ADMIN, "ada's long password")
        async with browser() as http:
            await _login(http, server, "ada@example.org", "ada's long password")
            async with http.get(f"{server.url}/api/me") as me:
                csrf = (await me.json())["csrf"]
            async with http.post(f"{server.url}/logout") as response:
                assert (response.status, (await response.json())["code"]) == (403, "csrf")
            async with http.get(f"{server.url}/api/me") as me:
                assert me.status == 200
            token = http.cookie_jar.filter_cookies(URL(server.url))[COOKIE].value
            async with http.post(f"{server.url}/logout", headers={CSRF_HEADER: csrf}) as response:
                assert (response.status, await response.json()) == (
                    200,
                    {"ok": True, "next": "/login"},
                )
            assert await server.app[PEOPLE].session(token) is None
            async with http.get(f"{server.url}/api/me") as me:
                assert me.status == 401
    finally:
        await server.stop()


async def test_an_invitation_link_sets_the_password_once(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    try:
        async with ClientSession(
            headers={"Authorization": f"Bearer {server.config.admin_token}"}
        ) as admin:
            async with admin.post(
                f"{server.url}/api/people",
                json={
                    "email": "joy@example.org",
                    "name": "Joy Wanjiru",
                    "role": "trainee",
                    "time_zone": "Africa/Nairobi",
                },
            ) as response:
                invited = await response.json()
            assert response.status == 201 and invited["mailed"] is False
        link = invited["link"]
        token = link.rsplit("/", 1)[-1]
        assert link == f"{server.url}/invite/{token}"
        async with browser() as http:
            async with http.get(link) as page:
                assert page.status == 200 and "password" in (await page.text()).lower()
            async with http.get(f"{server.url}/api/invitations/{token}") as response:
                assert await response.json() == {
                    "name": "Joy Wanjiru",
                    "email": "joy@example.org",
                    "purpose": "invite",
                }
            use = f"{server.url}/api/invitations/{token}"
            async with http.post(use, json={"password": "short"}) as response:
                assert (response.status, (await response.json())["code"]) == (400, "weak_password")
            async with http.post(use, json={"password": "joy's own password"}) as response:
                assert (response.status, await response.json()) == (200, {"ok": True, "next": "/"})
                assert _cookie(response)["httponly"]
            async with http.get(f"{server.url}/api/me") as me:
                assert (await me.json())["name"] == "Joy Wanjiru"
        async with browser() as http:
            async with http.post(use, json={"password": "another password"}) as response:
                assert (response.status, (await response.json())["code"]) == (
                    410,
                    "invitation_used",
                )
            async with http.get(f"{server.url}/api/invitations/nonsense") as response:
                assert (response.status, (await response.json())["code"]) == (
                    404,
                    "unknown_invitation",
                )
            status, _, _ = await _login(http, server, "joy@example.org", "joy's own password")
            assert status == 200
    finally:
        await server.stop()
