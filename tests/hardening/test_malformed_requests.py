"""Requests aiohttp or engine.io cannot make sense of: a 4xx and at most a one-line warning."""

from __future__ import annotations

import asyncio

import pytest

from tests.hardening.conftest import LogWatch
from tests.live_server import LiveServer

ADMIN = b"ADMIN"
REQUESTS = [
    b"GARBAGE\r\n\r\n",
    b"GET / HTTP/9.9\r\n\r\n",
    b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/simulations/%ff%fe HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ADMIN\r\n\r\n",
    b"GET /api/recordings/%00 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n\r\n",
    b"GET /api/recordings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xed\xa0\x80.a.b\r\n\r\n",
    b"GET /api/recordings/x/segments/1?exp=%ff&sig=\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /api/recordings/x/segments/1?exp=99999999999999999999999999&sig=a HTTP/1.1\r\n"
    b"Host: x\r\n\r\n",
    b"GET /api/recordings/x/segments/99999999999999999999 HTTP/1.1\r\nHost: x\r\n"
    b"Authorization: Bearer ADMIN\r\n\r\n",
    b"GET /api/trainees/%ff/summary HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ADMIN\r\n\r\n",
    b"POST /api/simulations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ADMIN\r\n"
    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 70_000 + b"\r\n\r\n",
    b"GET /static/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /socket.io/?EIO=9&transport=websocket HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /socket.io/?EIO=4&transport=carrier HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
    b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
    b"GET /socket.io/?EIO=4&transport=polling&sid=%ff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"PUT /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nOrigin: \xff\r\n\r\n",
    b"GET /join/x HTTP/1.1\r\nHost: \xff\xfe<script>\r\n\r\n",
]


@pytest.mark.parametrize("raw", REQUESTS, ids=[r[:40].decode("latin-1") for r in REQUESTS])
async def test_a_malformed_request_gets_a_client_error_and_no_traceback(
    server: LiveServer, log: LogWatch, raw: bytes
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(raw.replace(ADMIN, server.config.admin_token.encode()))
    await writer.drain()
    status_line = (await asyncio.wait_for(reader.readline(), 5)).decode("latin-1")
    writer.close()
    await writer.wait_closed()
    status = int(status_line.split()[1])
    assert status < 500, status_line
    log.assert_clean()
