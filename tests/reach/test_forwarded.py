"""X-Forwarded-* are honoured from trusted proxies only, on a real server on loopback.

The test's client binds its socket to 127.0.0.2 or 127.0.0.3, so the server sees
two different peers: only one of them is named in CAUCUS_TRUSTED_PROXIES.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from caucus.app import create_app
from caucus.config import Config
from web.forwarded import client_address, parse_networks

PROXY, STRANGER = "127.0.0.2", "127.0.0.3"
FORWARDED = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "caucus.example",
    "X-Forwarded-For": "203.0.113.7",
}


@dataclass
class Site:
    port: int
    admin: str

    async def get(self, path: str, source: str, headers: dict[str, str]) -> dict[str, str]:
        connector = aiohttp.TCPConnector(local_addr=(source, 0))
        async with aiohttp.ClientSession(connector=connector) as http:
            async with http.get(f"http://127.0.0.1:{self.port}{path}", headers=headers) as r:
                assert r.status == 200, await r.text()
                body: dict[str, str] = await r.json()
                return body

    async def link(self, source: str, headers: dict[str, str]) -> str:
        connector = aiohttp.TCPConnector(local_addr=(source, 0))
        auth = {"Authorization": f"Bearer {self.admin}", **headers}
        async with aiohttp.ClientSession(connector=connector) as http:
            async with http.post(
                f"http://127.0.0.1:{self.port}/api/simulations",
                json={"scenario": "boundary-fence"},
                headers=auth,
            ) as r:
                assert r.status == 201, await r.text()
                link: str = (await r.json())["links"]["mediator"]
                return link


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    config = Config(data_dir=tmp_path, media=False, trusted_proxies=f"{PROXY}, 10.0.0.0/8")
    app = create_app(config)

    async def whoami(request: web.Request) -> web.Response:
        # what any handler sees: the scheme, host and client address after the middleware
        return web.json_response(
            {"scheme": request.scheme, "host": request.host, "remote": request.remote or ""}
        )

    app.router.add_get("/test/whoami", whoami)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    try:
        yield Site(runner.addresses[0][1], config.with_secrets().admin_token)
    finally:
        await runner.cleanup()


async def test_a_trusted_proxy_sets_scheme_host_and_client_address(site: Site) -> None:
    seen = await site.get("/test/whoami", PROXY, FORWARDED)
    assert seen == {"scheme": "https", "host": "caucus.example", "remote": "203.0.113.7"}
    link = await site.link(PROXY, FORWARDED)
    assert link.startswith("https://caucus.example/join/")


async def test_anyone_else_forwarded_headers_are_ignored(site: Site) -> None:
    seen = await site.get("/test/whoami", STRANGER, FORWARDED)
    assert seen == {"scheme": "http", "host": f"127.0.0.1:{site.port}", "remote": STRANGER}
    link = await site.link(STRANGER, FORWARDED)
    assert link.startswith(f"http://127.0.0.1:{site.port}/join/")


async def test_garbage_from_a_trusted_proxy_changes_nothing(site: Site) -> None:
    headers = {
        "X-Forwarded-Proto": "gopher",
        "X-Forwarded-Host": "evil.example/<script>",
        "X-Forwarded-For": "not-an-address",
    }
    seen = await site.get("/test/whoami", PROXY, headers)
    assert seen == {"scheme": "http", "host": f"127.0.0.1:{site.port}", "remote": PROXY}


@pytest.mark.parametrize(
    ("chain", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        # a client's own made-up entry at the left is not believed past the first stranger
        ("1.2.3.4, 203.0.113.7", "203.0.113.7"),
        # trusted hops (10.0.0.0/8 here) are skipped, right to left
        ("203.0.113.7, 10.1.2.3", "203.0.113.7"),
        ("[2001:db8::1]:4711, 10.1.2.3", "2001:db8::1"),
        ("garbage, 10.1.2.3", "10.1.2.3"),
    ],
)
def test_the_client_is_the_nearest_untrusted_hop(chain: str, client: str) -> None:
    assert client_address(chain, PROXY, parse_networks(f"{PROXY},10.0.0.0/8")) == client


def test_a_bad_trusted_proxy_entry_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="'10.0.0.0/33' is not an IP address or CIDR"):
        parse_networks("127.0.0.1, 10.0.0.0/33")
