"""Media ports accept only what belongs (issue 11, item 1; media/aiortc_internals/port_guard.py).

Real aioice connections and real aiortc peer connections on loopback; the
stranger is a UDP socket on 127.0.0.2 (all of 127/8 is loopback), which is
what another process on the server's machine, or anybody who can reach its
ports, can do.  Run with ``-s`` for the DTLS race figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
import struct
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterable
from typing import Any, cast

import pytest
from aioice import stun
from aioice.ice import Connection

from media.aiortc_internals import port_guard
from media.sfu import Sfu, SfuConfig
from sessions.ids import RoomId, SeatId
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import SentLog

STRANGER_HOST = "127.0.0.2"


# -- helpers ----------------------------------------------------------------------------


def candidate_ports(sdp: str) -> list[int]:
    """The UDP ports of the host candidates in an offer (``a=candidate:`` lines)."""
    ports = []
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            fields = line.split()
            if fields[2].lower() == "udp":
                ports.append(int(fields[5]))
    return sorted(set(ports))


def null_cipher_client_hello() -> bytes:
    """A DTLS 1.2 ClientHello offering only TLS_RSA_WITH_NULL_SHA: a handshake the
    server can only refuse, which is all a stranger needs if it is read first."""
    body = (
        b"\xfe\xfd"  # client_version DTLS 1.2
        + os.urandom(32)
        + b"\x00"  # session id
        + b"\x00"  # cookie
        + b"\x00\x02\x00\x02"  # cipher suites: TLS_RSA_WITH_NULL_SHA
        + b"\x01\x00"  # compression: null
    )
    handshake = b"\x01" + len(body).to_bytes(3, "big") + b"\x00\x00" + b"\x00\x00\x00"
    handshake += len(body).to_bytes(3, "big") + body
    record = b"\x16\xfe\xff" + b"\x00\x00" + b"\x00" * 6 + struct.pack("!H", len(handshake))
    return record + handshake


class Stranger(asyncio.DatagramProtocol):
    """A UDP socket on another loopback address that keeps what it is sent."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.put_nowait((data, addr))

    def send(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, addr)

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return host, port


@contextlib.asynccontextmanager
async def stranger() -> AsyncIterator[Stranger]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        Stranger, local_addr=(STRANGER_HOST, 0)
    )
    try:
        yield protocol
    finally:
        transport.close()


@contextlib.asynccontextmanager
async def ice_pair() -> AsyncIterator[tuple[Connection, Connection]]:
    """Two aioice connections on 127.0.0.1 with ICE completed (a controlling, b controlled)."""
    a = Connection(ice_controlling=True, use_ipv6=False)
    b = Connection(ice_controlling=False, use_ipv6=False)
    try:
        await asyncio.gather(a.gather_candidates(), b.gather_candidates())
        for one, other in ((a, b), (b, a)):
            one.remote_username = other.local_username
            one.remote_password = other.local_password
            for candidate in other.local_candidates:
                await one.add_remote_candidate(candidate)
            await one.add_remote_candidate(None)
        await asyncio.wait_for(asyncio.gather(a.connect(), b.connect()), 10)
        yield a, b
    finally:
        await a.close()
        await b.close()


def address_of(connection: Connection) -> tuple[str, int]:
    candidate = connection.local_candidates[0]
    return candidate.host, candidate.port


def binding_request(connection: Connection, key: bytes | None) -> stun.Message:
    """A connectivity check to ``connection`` as its peer would send it, signed with ``key``."""
    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    request.attributes["USERNAME"] = f"{connection.local_username}:{connection.remote_username}"
    request.attributes["PRIORITY"] = 1853817087
    request.attributes["ICE-CONTROLLED"] = 1
    if key is not None:
        request.add_message_integrity(key)
    request.add_fingerprint()
    return request


async def wait_for_count(connection: Connection, reason: str, at_least: int) -> None:
    # No event tells that the kernel delivered a burst: poll the counter, bounded.
    async with asyncio.timeout(5):
        while getattr(port_guard.connection_counts(connection), reason) < at_least:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


# -- unit: what a port accepts ------------------------------------------------------------


async def test_a_datagram_from_an_address_not_selected_is_dropped_and_counted() -> None:
    before = port_guard.process_counts().not_selected
    async with ice_pair() as (server, client), stranger() as spy:
        spy.send(null_cipher_client_hello(), address_of(server))
        spy.send(b"\x80\x60" + b"\x00" * 100, address_of(server))  # RTP-like junk
        await client.send(b"\x80 from the selected pair")
        # the stranger's datagrams were sent first, on the same loopback: had they
        # been queued, recv() would return them first
        assert await asyncio.wait_for(server.recv(), 5) == b"\x80 from the selected pair"
        counts = port_guard.connection_counts(server)
        assert counts.not_selected == 2
        assert port_guard.queued_datagrams(server) == 0
    assert port_guard.process_counts().not_selected >= before + 2


async def test_stun_with_bad_integrity_gets_no_answer_and_a_good_peer_reflexive_check_does() -> (
    None
):
    async with ice_pair() as (server, _client), stranger() as spy:
        unsigned = binding_request(server, key=None)
        forged = binding_request(server, key=b"not the password at all!")
        genuine = binding_request(server, key=server.local_password.encode())
        for request in (unsigned, forged, genuine):
            spy.send(bytes(request), address_of(server))
        # answers leave in order, so the first answer the stranger gets is the
        # one to the first request answered: only the genuine one may be
        data, _ = await asyncio.wait_for(spy.received.get(), 5)
        answer = stun.parse_message(data)
        assert answer.transaction_id == genuine.transaction_id
        assert answer.message_class == stun.Class.RESPONSE
        assert answer.attributes["XOR-MAPPED-ADDRESS"] == spy.address
        assert answer.check_message_integrity(server.local_password.encode())
        assert port_guard.connection_counts(server).stun_unauthenticated == 2
        # the stranger, having the credentials, is a peer-reflexive candidate now
        learned = [(c.host, c.port) for c in server.remote_candidates if c.type == "prflx"]
        assert learned == [spy.address]


async def test_another_address_of_the_peer_is_accepted_once_it_passed_a_check() -> None:
    """A controlled browser may send media on another nominated pair than the one aioice
    selected (Chromium with a LAN and a VPN address did, in tests/e2e): an address that
    proved it knows the password is the peer's."""
    async with ice_pair() as (server, _client), stranger() as other_address:
        other_address.send(b"\x80 before any check", address_of(server))
        genuine = binding_request(server, key=server.local_password.encode())
        other_address.send(bytes(genuine), address_of(server))
        data, _ = await asyncio.wait_for(other_address.received.get(), 5)
        assert stun.parse_message(data).transaction_id == genuine.transaction_id
        other_address.send(b"\x80 after a check", address_of(server))
        assert await asyncio.wait_for(server.recv(), 5) == b"\x80 after a check"
        assert port_guard.connection_counts(server).not_selected == 1


async def test_the_queue_before_aiortc_is_bounded() -> None:
    cap = port_guard.MAX_QUEUED_DATAGRAMS
    async with ice_pair() as (server, client):
        # nobody reads server's queue: the peer outruns its reader
        for i in range(cap + 100):
            await client.send(b"\x80" + i.to_bytes(4, "big"))
            await asyncio.sleep(0)  # pacing only: lets the loop read each datagram
        await wait_for_count(server, "queue_full", 100)
        assert port_guard.queued_datagrams(server) == cap
        assert port_guard.connection_counts(server).queue_full == 100
        assert await server.recv() == b"\x80" + (0).to_bytes(4, "big")  # the oldest kept


# -- a pending connection under junk closes at its timeout and is freed ---------------------


async def _no_signal(room: RoomId, seat: SeatId, event: str, payload: dict[str, Any]) -> None:
    pass


async def test_a_pending_connection_under_junk_closes_at_its_timeout_and_is_freed() -> None:
    timeout_s = 1.5
    lost: asyncio.Queue[str] = asyncio.Queue()

    async def on_lost(room: RoomId, seat: SeatId, reason: str) -> None:
        lost.put_nowait(reason)

    config = SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=timeout_s)
    sfu = Sfu(_no_signal, config=config, on_lost=on_lost)
    try:
        started = time.monotonic()
        offer = await sfu.join(RoomId("pending"), SeatId("party_a"))  # never answered
        (port,) = candidate_ports(offer["sdp"])
        (connection,) = port_guard.ice_connections(
            sfu.participant(RoomId("pending"), SeatId("party_a")).pc
        )
        freed = weakref.ref(connection)
        most_queued = 0
        sent = 0
        async with stranger() as spy:

            async def flood() -> None:
                nonlocal most_queued, sent
                # RTP-shaped (first two bits 10): never read as STUN, so it must be
                # dropped as "not from the selected pair" (random bytes start like STUN 1 in 4)
                junk = b"\x80" + os.urandom(1199)
                while True:
                    for _ in range(50):
                        spy.send(junk, ("127.0.0.1", port))
                    sent += 50
                    alive = freed()
                    if alive is not None:
                        most_queued = max(most_queued, port_guard.queued_datagrams(alive))
                        del alive
                    await asyncio.sleep(0.002)  # the flood's pace

            flooding = asyncio.ensure_future(flood())
            try:
                reason = await asyncio.wait_for(lost.get(), timeout_s + 5)
            finally:
                flooding.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await flooding
        closed_after = time.monotonic() - started
        dropped = port_guard.connection_counts(connection)
        del connection
        print(
            f"\npending: closed after {closed_after:.2f} s ({reason}); {sent} junk sent,"
            f" {dropped.not_selected} dropped, at most {most_queued} queued"
        )
        assert reason == "not connected in time"
        assert timeout_s <= closed_after < timeout_s + 1.0
        assert most_queued == 0
        assert dropped.not_selected > 0
        gc.collect()
        assert freed() is None, "the closed connection (and its queue) is still referenced"
        # and the port is closed: the kernel refuses datagrams to it
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.setblocking(False)
            probe.connect(("127.0.0.1", port))
            probe.send(b"\x80 anybody there?")
            with pytest.raises(ConnectionRefusedError):
                await asyncio.wait_for(asyncio.get_running_loop().sock_recv(probe, 100), 2)
    finally:
        await sfu.close()


# -- must show: the DTLS race -----------------------------------------------------------------

RACE_PARTICIPANTS = 100
RACE_BATCH = 10
RACE_BATCH_DEADLINE_S = 15.0
SPRAY_INTERVAL_S = 0.002


class Sprayer(threading.Thread):
    """Sprays spoofed NULL-cipher ClientHellos at the ports it is given, from 127.0.0.2,
    every SPRAY_INTERVAL_S, in a thread of its own (as another process would)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((STRANGER_HOST, 0))
        self.targets: tuple[int, ...] = ()
        self.sent = 0
        self.stopping = threading.Event()

    def aim(self, ports: Iterable[int]) -> None:
        """Spray at ``ports`` from now on; the first hello leaves before this returns."""
        self.targets = tuple(ports)
        for port in self.targets:
            self._hello(port)

    def _hello(self, port: int) -> None:
        with contextlib.suppress(OSError):  # a port closed meanwhile
            self.sock.sendto(null_cipher_client_hello(), ("127.0.0.1", port))
            self.sent += 1

    def run(self) -> None:
        while not self.stopping.wait(SPRAY_INTERVAL_S):
            for port in self.targets:
                self._hello(port)

    def stop(self) -> None:
        self.stopping.set()
        self.join(5)
        self.sock.close()


async def _race_batch(
    sfu: Sfu, room: RoomId, lost: dict[SeatId, asyncio.Event], sprayer: Sprayer
) -> int:
    """Set up RACE_BATCH participants under spray; how many connected (both ends)."""
    sent = SentLog()
    seats = [SeatId(f"trainee_{i}") for i in range(RACE_BATCH)]
    offers = {seat: await sfu.join(room, seat) for seat in seats}
    sprayer.aim(p for offer in offers.values() for p in candidate_ports(offer["sdp"]))
    clients = [
        ClientParticipant(seat, sfu, sent, room=room, publish=False, decode=False) for seat in seats
    ]
    for seat in seats:
        lost[seat] = asyncio.Event()
    try:
        await asyncio.gather(*(c.on_offer(offers[c.seat]) for c in clients))

        async def settled(client: ClientParticipant) -> bool:
            ends = [
                asyncio.ensure_future(client.connected.wait()),
                asyncio.ensure_future(lost[client.seat].wait()),
            ]
            await asyncio.wait(
                ends, timeout=RACE_BATCH_DEADLINE_S, return_when=asyncio.FIRST_COMPLETED
            )
            for end in ends:
                end.cancel()
            return client.connected.is_set() and not lost[client.seat].is_set()

        results = await asyncio.gather(*(settled(c) for c in clients))
        connected = sum(
            1
            for client, ok in zip(clients, results, strict=True)
            if ok and sfu.participant(room, client.seat).connected
        )
    finally:
        sprayer.aim(())
        for client in clients:
            await client.close()
        await sfu.close_room(room)
    return connected


async def test_dtls_race_spoofed_client_hellos_during_set_up_stop_nobody() -> None:
    lost: dict[SeatId, asyncio.Event] = {}

    async def on_lost(room: RoomId, seat: SeatId, reason: str) -> None:
        lost[seat].set()

    config = SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=RACE_BATCH_DEADLINE_S)
    sfu = Sfu(_no_signal, config=config, on_lost=on_lost)
    dropped_before = port_guard.process_counts().not_selected
    sprayer = Sprayer()
    sprayer.start()
    started = time.monotonic()
    connected = 0
    try:
        for batch in range(RACE_PARTICIPANTS // RACE_BATCH):
            connected += await _race_batch(sfu, RoomId(f"race-{batch}"), lost, sprayer)
    finally:
        sprayer.stop()
        await sfu.close()
    dropped = port_guard.process_counts().not_selected - dropped_before
    print(
        f"\nDTLS race: {connected} of {RACE_PARTICIPANTS} participants connected in"
        f" {time.monotonic() - started:.1f} s while {sprayer.sent} spoofed ClientHellos"
        f" were sprayed at their ports ({dropped} dropped by the guard)"
    )
    assert sprayer.sent >= RACE_PARTICIPANTS  # the attack did happen, at every port
    assert connected >= 99
