"""Every page, file and API route carries security headers; sockets open only from our origin."""

from __future__ import annotations

import datetime
import re
import ssl
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from caucus.app import create_app
from caucus.config import Config
from tests.hardening.conftest import LogWatch
from tests.live_server import LiveServer, seat_participants, start_server

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
CSP_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def concrete_paths(app: web.Application, room: str) -> list[tuple[str, str]]:
    """(method, path) for every route of the app, its placeholders filled in."""
    fill = {"room": room, "note": "1", "segment": "1", "identity": "someone", "fmt": "json"}
    fill |= {"id": "someone", "token": "not-a-token", "section": "people"}  # wave 2
    fill |= {"cohort": "nope", "scenario": "bakery-supply", "simulation": room}
    fill |= {
        "certificate": "nope",
        "round": "nope",
        "person": "someone",
        "entry": "nope",
        "digest": "nope",
    }  # issue 15
    fill |= {"n": "0", "chunk": "1"}  # the browser copy
    paths: list[tuple[str, str]] = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if "directory" in info:  # a static folder: one real file in it
            prefix = str(info["prefix"])
            name = next(p.name for p in Path(str(info["directory"])).iterdir() if p.is_file())
            paths.append(("GET", f"{prefix}/{name}"))
            continue
        template = str(info.get("formatter") or info.get("path") or "")
        path = re.sub(r"\{(\w+)(:[^}]*)?\}", lambda m: fill[m.group(1)], template)
        if route.method != "HEAD" and path:
            paths.append((route.method, path))
    return sorted(set(paths))


def assert_security_headers(headers: Mapping[str, str], where: str) -> None:
    got = {str(k): v for k, v in headers.items()}
    for name, value in EXPECTED.items():
        assert got.get(name) == value, (where, name, got.get(name))
    policy = {
        d.split()[0]: " ".join(d.split()[1:])
        for d in got.get("Content-Security-Policy", "").split(";")
        if d.strip()
    }
    for directive, value in CSP_DIRECTIVES.items():
        assert policy.get(directive) == value, (where, directive, policy)
    assert "'unsafe-inline'" not in got["Content-Security-Policy"], where
    assert "Strict-Transport-Security" not in got, where  # plain HTTP: no HSTS


async def test_every_route_answers_with_the_security_headers(
    server: LiveServer, http: aiohttp.ClientSession, log: LogWatch
) -> None:
    room = await server.simulation()
    paths = concrete_paths(server.app, room)
    assert len(paths) >= 20, paths
    methods = {m for m, _ in paths}
    assert {"GET", "POST", "DELETE"} <= methods
    admin = {"Authorization": f"Bearer {server.config.admin_token}"}
    for method, path in [*paths, ("GET", "/no/such/page"), ("GET", "/api/nothing-here")]:
        for headers in ({}, admin):
            async with http.request(method, server.url + path, headers=headers) as r:
                assert r.status < 500, (method, path, r.status)
                assert_security_headers(r.headers, f"{method} {path} -> {r.status}")
    log.assert_clean()


async def _handshake(
    http: aiohttp.ClientSession, url: str, origin: str | None, transport: str
) -> int:
    headers = {} if origin is None else {"Origin": origin}
    query = f"/socket.io/?EIO=4&transport={transport}"
    if transport == "websocket":
        try:
            ws = await http.ws_connect(url + query, headers=headers)
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status
        await ws.close()
        return 101
    async with http.get(url + query, headers=headers) as r:
        return r.status


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_a_socket_from_a_foreign_origin_is_refused_and_our_own_accepted(
    server: LiveServer, http: aiohttp.ClientSession, log: LogWatch, transport: str
) -> None:
    ok = 101 if transport == "websocket" else 200
    own = server.url  # http://127.0.0.1:<port>, the Host this request carries
    for origin in ("https://evil.example", "null", "http://127.0.0.1:1", "http://localhost"):
        assert await _handshake(http, server.url, origin, transport) == 400, origin
    assert await _handshake(http, server.url, own, transport) == ok
    assert await _handshake(http, server.url, None, transport) == ok  # not a browser
    assert log.tracebacks() == []
    assert len(log.warnings_from("signaling.wire")) <= 1  # rate-limited


async def test_allowed_origins_adds_origins(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    live = await start_server(
        tmp_path,
        public_url="https://caucus.example",
        allowed_origins="https://lms.example, https://other.example",
    )
    try:
        for origin in ("https://caucus.example", "https://lms.example", "https://other.example"):
            assert await _handshake(http, live.url, origin, "websocket") == 101, origin
        assert await _handshake(http, live.url, "https://evil.example", "websocket") == 400
    finally:
        await live.stop()


async def test_a_token_for_a_seat_the_room_lacks_is_refused_by_rest(
    server: LiveServer, http: aiohttp.ClientSession, log: LogWatch
) -> None:
    room = await server.simulation("boundary-fence")  # two parties: party_a, party_b
    people = await seat_participants(server, room, ["mediator", "party_a"])
    for person in people.values():
        await person.close()
    party_c = server.token(room, "party_c")
    party_a = server.token(room, "party_a")
    ghost_room = server.token("no-such-room", "party_a")  # type: ignore[arg-type]
    for path in (
        "/api/recordings",
        f"/api/recordings/{room}",
        f"/api/recordings/{room}/annotations",
    ):
        for token, status in ((party_c, 401), (ghost_room, 401), (party_a, 200)):
            headers = {"Authorization": f"Bearer {token}"}
            async with http.get(server.url + path, headers=headers) as r:
                assert r.status == status, (path, token == party_a, await r.text())
                if status == 401:
                    assert (await r.json())["code"] == "unauthorized"
    log.assert_clean()


def self_signed(directory: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "cert.pem", directory / "key.pem")
    return context


async def test_over_tls_pages_add_hsts_and_the_https_origin_is_our_own(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    config = Config(host="127.0.0.1", port=0, data_dir=tmp_path, media=False).with_secrets()
    runner = web.AppRunner(create_app(config), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=self_signed(tmp_path))
    await site.start()
    url = f"https://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with http.get(url + "/", ssl=False) as r:
            assert r.status == 200
            assert r.headers["Strict-Transport-Security"].startswith("max-age=")
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        query = "/socket.io/?EIO=4&transport=polling"
        async with http.get(url + query, headers={"Origin": url}, ssl=False) as r:
            assert r.status == 200
        async with http.get(
            url + query, headers={"Origin": "https://evil.example"}, ssl=False
        ) as r:
            assert r.status == 400
    finally:
        await runner.cleanup()
