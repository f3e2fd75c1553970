"""`caucus serve --tls-cert/--tls-key`: the real command serves HTTPS and WSS itself."""

from __future__ import annotations

import asyncio
import os
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import socketio

from tests.reach.certs import self_signed
from tests.server_process import free_port

#: servers on loopback that carry no media and are timed by nothing but a generous deadline
pytestmark = pytest.mark.shares_machine

ROOT = Path(__file__).resolve().parents[2]
#: a start, or the exit of a refused one: 2-5 s alone, but over 20 s beside three test
#: processes and their browsers on two cores (CI, 2026-12-03)
START_S = 60.0


class Serve:
    """`python -m caucus serve ...` in a subprocess, its stderr kept for the assertions."""

    def __init__(self, data_dir: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.log = data_dir / "serve.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "caucus", "serve", "--workers", "1", "--port", str(self.port)]
            + ["--data-dir", str(data_dir), "--observers", "0", *args],
            stdout=subprocess.PIPE,
            stderr=self.log.open("wb"),
            env={**os.environ, "CAUCUS_MEDIA": "0", **env},
            cwd=ROOT,
        )

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")

    async def healthy(self, url: str, context: ssl.SSLContext | bool) -> None:
        async with aiohttp.ClientSession() as http:
            for _ in range(int(START_S / 0.05)):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"serve exited {self.proc.returncode}:\n{self.stderr()}")
                try:
                    async with http.get(f"{url}/healthz", ssl=context) as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)  # polling a starting process: nothing to await
        raise RuntimeError(f"serve did not become healthy:\n{self.stderr()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path, "127.0.0.1", "localhost")


@pytest.fixture
def trust(cert: tuple[Path, Path]) -> ssl.SSLContext:
    """A client context that trusts exactly the test's certificate (and checks the name)."""
    return ssl.create_default_context(cafile=str(cert[0]))


@pytest.fixture
async def https_server(
    tmp_path: Path, cert: tuple[Path, Path], trust: ssl.SSLContext
) -> AsyncIterator[Serve]:
    serve = Serve(
        tmp_path / "data",
        "--tls-cert",
        str(cert[0]),
        "--tls-key",
        str(cert[1]),
        CAUCUS_TURN_SECRET="turn-secret",
        CAUCUS_TURN_URLS="turns:127.0.0.1:5349?transport=tcp",
    )
    try:
        await serve.healthy(f"https://127.0.0.1:{serve.port}", trust)
        yield serve
    finally:
        serve.stop()


async def test_serve_with_a_certificate_speaks_https_and_refuses_plain_http(
    https_server: Serve, trust: ssl.SSLContext
) -> None:
    url = f"https://127.0.0.1:{https_server.port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/healthz", ssl=trust) as r:
            assert r.status == 200
        with pytest.raises(aiohttp.ClientError):
            async with http.get(f"http://127.0.0.1:{https_server.port}/healthz") as r:
                await r.read()
    assert https_server.proc.stdout is not None
    printed = [https_server.proc.stdout.readline().decode() for _ in range(2)]
    assert f"Caucus serving on {url} " in printed[1], printed


async def test_join_links_are_https_and_a_seat_joins_over_wss(
    https_server: Serve, trust: ssl.SSLContext, tmp_path: Path
) -> None:
    url = f"https://127.0.0.1:{https_server.port}"
    admin = (tmp_path / "data" / "admin.token").read_text().strip()
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {admin}"}) as http:
        async with http.post(
            f"{url}/api/simulations", json={"scenario": "boundary-fence"}, ssl=trust
        ) as r:
            assert r.status == 201, await r.text()
            created = await r.json()
    link = created["links"]["party_a"]
    assert link.startswith(f"{url}/join/{created['id']}#token=")
    token = link.split("#token=", 1)[1]

    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trust))
    client = socketio.AsyncClient(http_session=http)
    try:
        await client.connect(url, transports=["websocket"], wait_timeout=10)
        assert client.transport() == "websocket"
        reply = await client.call("join", {"token": token}, timeout=10)
    finally:
        await client.disconnect()
        await http.close()
    assert reply["ok"], reply
    assert reply["state"]["you"]["seat"] == "party_a"
    [turn] = reply["iceServers"]
    assert turn["urls"] == ["turns:127.0.0.1:5349?transport=tcp"]
    expiry, identity = turn["username"].split(":", 1)
    assert identity == f"{created['id']}:party_a"
    assert 0 < int(expiry) - time.time() <= 24 * 3600
    assert turn["credential"]


def _serve_warning(tmp_path: Path, *args: str, **env: str) -> str:
    """What `serve` says on stderr before it serves (then it is stopped)."""
    serve = Serve(tmp_path / "data", *args, **env)
    try:
        assert serve.proc.stdout is not None
        first = serve.proc.stdout.readline().decode()  # stdout: the admin token, after any warning
        assert "Admin token" in first or "Simulation" in first, serve.stderr()
        return serve.stderr()
    finally:
        serve.stop()


WARNING = "Browsers give cameras and microphones only to https pages"


def test_plain_http_on_a_public_address_warns_that_browsers_refuse_cameras(
    tmp_path: Path,
) -> None:
    assert WARNING in _serve_warning(tmp_path, "--host", "0.0.0.0")


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--host", "127.0.0.1"), {}),
        (("--host", "0.0.0.0"), {"CAUCUS_TRUSTED_PROXIES": "127.0.0.1"}),
    ],
)
def test_no_warning_on_loopback_or_behind_a_trusted_proxy(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    assert WARNING not in _serve_warning(tmp_path, *args, **env)


def test_no_warning_with_tls(tmp_path: Path, cert: tuple[Path, Path]) -> None:
    args = ("--host", "0.0.0.0", "--tls-cert", str(cert[0]), "--tls-key", str(cert[1]))
    assert WARNING not in _serve_warning(tmp_path, *args)


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (("--tls-cert", "/nonexistent/cert.pem"), {}, "both a certificate and a key"),
        (("--tls-cert", "/no/c.pem", "--tls-key", "/no/k.pem"), {}, "cannot load TLS certificate"),
        ((), {"CAUCUS_TRUSTED_PROXIES": "10.0.0.0/33"}, "is not an IP address or CIDR"),
        ((), {"CAUCUS_TURN_URLS": "turns:t.example:5349"}, "needs CAUCUS_TURN_SECRET"),
        ((), {"CAUCUS_STUN_URL": "t.example:3478"}, "is not a stun: URL"),
    ],
)
def test_a_bad_setting_is_a_clear_error_not_a_traceback(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], says: str
) -> None:
    serve = Serve(tmp_path / "data", *args, **env)
    try:
        assert serve.proc.wait(START_S) != 0
    finally:
        serve.stop()
    err = serve.stderr()
    assert says in err
    assert "Traceback" not in err
