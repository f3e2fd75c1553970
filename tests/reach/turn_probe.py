"""Ask a TURN server for an allocation and for permissions, as a browser's TURN client would.

Used in-process against coturn on loopback, and as ``python -m tests.reach.turn_probe``
inside a firewalled namespace, where it prints one JSON object::

    {"allocate": 0, "relay": ["10.71.1.1", 50123], "permissions": {"127.0.0.1": 403}}

0 means success; any other number is the STUN error code (401 Unauthorized,
403 Forbidden), or -1 when the server never answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
from dataclasses import dataclass, field
from typing import Any

from aioice import stun
from aioice.turn import TurnClientMixin, TurnClientTcpProtocol, TurnClientUdpProtocol

LIFETIME_S, REFRESH_S = 600, 300
TIMEOUT_S = 10.0


@dataclass
class ProbeResult:
    allocate: int
    relay: tuple[str, int] | None = None
    permissions: dict[str, int] = field(default_factory=dict)


def _code(exc: BaseException) -> int:
    if isinstance(exc, stun.TransactionFailed):
        return int(exc.response.attributes["ERROR-CODE"][0])
    return -1


async def _client(
    server: tuple[str, int], username: str, password: str, transport: str
) -> tuple[asyncio.BaseTransport, TurnClientMixin]:
    loop = asyncio.get_running_loop()
    if transport == "udp":
        udp, protocol = await loop.create_datagram_endpoint(
            lambda: TurnClientUdpProtocol(server, username, password, LIFETIME_S, REFRESH_S),
            remote_addr=server,
        )
        return udp, protocol
    context: ssl.SSLContext | None = None
    if transport == "tls":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # a test certificate; the credential is the point
    tcp, stream = await loop.create_connection(
        lambda: TurnClientTcpProtocol(server, username, password, LIFETIME_S, REFRESH_S),
        host=server[0],
        port=server[1],
        ssl=context,
    )
    return tcp, stream


async def probe(
    server: tuple[str, int], username: str, password: str, transport: str, peers: list[str]
) -> ProbeResult:
    """Allocate a relay, then ask for a permission toward each peer (port 9)."""
    connection, client = await asyncio.wait_for(
        _client(server, username, password, transport), TIMEOUT_S
    )
    try:
        try:
            relay = await asyncio.wait_for(client.connect(), TIMEOUT_S)
        except (stun.TransactionError, TimeoutError) as exc:
            return ProbeResult(_code(exc))
        result = ProbeResult(0, relay)
        for peer in peers:
            request = stun.Message(
                message_method=stun.Method.CREATE_PERMISSION, message_class=stun.Class.REQUEST
            )
            request.attributes["XOR-PEER-ADDRESS"] = (peer, 9)
            try:
                await asyncio.wait_for(client.request_with_retry(request), TIMEOUT_S)
                result.permissions[peer] = 0
            except (stun.TransactionError, TimeoutError) as exc:
                result.permissions[peer] = _code(exc)
        if client.refresh_task is not None:
            client.refresh_task.cancel()
        return result
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("username")
    parser.add_argument("password")
    parser.add_argument("--transport", choices=["udp", "tcp", "tls"], default="udp")
    parser.add_argument("--peer", action="append", default=[])
    args = parser.parse_args()
    result = asyncio.run(
        probe((args.host, args.port), args.username, args.password, args.transport, args.peer)
    )
    out: dict[str, Any] = {
        "allocate": result.allocate,
        "relay": result.relay,
        "permissions": result.permissions,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
