"""The forwarded copy's send path, as C (``_rtp_send.c``) and as Python (senders.py):
each must put the packet it is given on the wire, count it for the sender reports
and file it where a NACK is answered from.

Two real aiortc peer connections on loopback: the near one sends through an
:class:`RtpWriter` (as the SFU's consumers do) on an audio and a video m-section;
the far one receives, decrypts and parses, and the packets its receivers are
handed are checked field by field against what was written.  Every test runs
both ways (``CAUCUS_RTP_SEND``).
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCRtpTransceiver
from aiortc.rtp import RtpPacket

from media.aiortc_internals import RtpWriter, _rtp_send, native_send
from media.consumer import SilentTrack
from sessions.media_kinds import MediaKind
from tests.impairment import LinkProfile, impair

MODES = ["native", "python"]
CONNECT_S = 10.0
ARRIVE_S = 5.0


class Link:
    """A sending and a receiving peer connection, an RtpWriter per kind."""

    def __init__(self) -> None:
        self.near = RTCPeerConnection()
        self.far = RTCPeerConnection()
        self.transceivers: dict[MediaKind, RTCRtpTransceiver] = {}
        self.writers: dict[MediaKind, RtpWriter] = {}
        self.received: dict[MediaKind, list[tuple[float, RtpPacket]]] = {}
        self._expected = 0
        self._arrived = asyncio.Event()

    async def connect(self, *, delay: float = 0.0) -> None:
        for kind in MediaKind:
            track = SilentTrack(kind, f"seat-{kind.value}")
            transceiver = self.near.addTransceiver(track, direction="sendonly")
            self.transceivers[kind] = transceiver
            self.writers[kind] = RtpWriter(transceiver.sender)
        await self.near.setLocalDescription(await self.near.createOffer())
        if delay:
            impair(self.near, outbound=LinkProfile(delay=delay), inbound=LinkProfile(), seed=3)
        await self.far.setRemoteDescription(self.near.localDescription)
        await self.far.setLocalDescription(await self.far.createAnswer())
        await self.near.setRemoteDescription(self.far.localDescription)
        connected = asyncio.Event()

        @self.near.on("connectionstatechange")
        def _changed() -> None:
            if self.near.connectionState == "connected":
                connected.set()

        if self.near.connectionState != "connected":
            await asyncio.wait_for(connected.wait(), CONNECT_S)
        for transceiver in self.far.getTransceivers():
            self._capture(MediaKind(transceiver.kind), transceiver.receiver)
        assert all(writer.ready for writer in self.writers.values())

    def _capture(self, kind: MediaKind, receiver: Any) -> None:
        received = self.received.setdefault(kind, [])
        handle = receiver._handle_rtp_packet

        async def captured(packet: RtpPacket, arrival_time_ms: int) -> None:
            received.append((time.monotonic(), packet))
            if sum(map(len, self.received.values())) >= self._expected:
                self._arrived.set()
            await handle(packet, arrival_time_ms)

        receiver._handle_rtp_packet = captured

    async def arrive(self, count: int) -> None:
        self._expected = count
        if sum(map(len, self.received.values())) < count:
            await asyncio.wait_for(self._arrived.wait(), ARRIVE_S)

    async def close(self) -> None:
        await self.near.close()
        await self.far.close()


@pytest.fixture(params=MODES)
async def link(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Link]:
    monkeypatch.setenv("CAUCUS_RTP_SEND", request.param)
    made = Link()
    yield made
    await made.close()


def _abs_send_time_now() -> int:
    return int(time.time() * (1 << 18)) & 0xFFFFFF  # 6.18 fixed point, seconds mod 64


def _written(kind: MediaKind, count: int) -> list[tuple[int, int, int, bytes, Any]]:
    """(sequence number, timestamp, marker, payload, audio level): wrapping at 2^16 and 2^32."""
    level = (lambda i: (i % 2 == 0, i % 128)) if kind is MediaKind.AUDIO else (lambda i: None)
    return [
        ((65530 + i) & 0xFFFF, (0xFFFFFF00 + i * 960) & 0xFFFFFFFF, i % 3 == 0,
         bytes([i]) * (20 + i * 37), level(i))
        for i in range(count)
    ]  # fmt: skip


async def test_every_field_written_arrives_as_written(link: Link) -> None:
    await link.connect()
    sent = {kind: _written(kind, 30) for kind in MediaKind}
    before = _abs_send_time_now()
    for kind, packets in sent.items():
        for written in packets:
            link.writers[kind].write(*written)
    await link.arrive(60)
    after = _abs_send_time_now()
    for kind, packets in sent.items():
        writer = link.writers[kind]
        sender: Any = link.transceivers[kind].sender
        received = [packet for _, packet in link.received[kind]]
        assert len(received) == len(packets)
        for (seq, ts, marker, payload, level), packet in zip(packets, received, strict=True):
            assert (packet.sequence_number, packet.timestamp, packet.marker) == (seq, ts, marker)
            assert (packet.payload_type, packet.ssrc) == (writer.payload_type, sender._ssrc)
            assert packet.payload == payload
            assert packet.extensions.mid == link.transceivers[kind].mid
            if kind is MediaKind.AUDIO:
                assert packet.extensions.audio_level == level
            else:
                sent_at = packet.extensions.abs_send_time
                assert sent_at is not None
                assert before <= sent_at <= after or after < before  # (a 64 s wrap between)
        # the sender reports count what was written; a NACK finds it in the history
        assert writer.sent == (sum(len(p[3]) for p in packets), len(packets))
        assert sender._RTCRtpSender__rtp_timestamp == packets[-1][1]
        history = sender._RTCRtpSender__rtp_history
        for seq, ts, _, payload, _ in packets[-5:]:
            kept = history.get(seq % 1024)
            assert (kept.sequence_number, kept.timestamp, kept.payload) == (seq, ts, payload)


async def test_the_native_write_is_the_c_one_unless_python_is_asked_for(link: Link) -> None:
    await link.connect()
    native = native_send.rtp_send() == "native"
    for writer in link.writers.values():
        assert (type(writer.write).__name__ == "builtin_function_or_method") is native


async def test_a_wrapped_datagram_transport_sends_the_packet_itself(link: Link) -> None:
    """An impaired link (a wrapper around the pair's transport) still carries every
    packet: the C sends through the wrapper's sendto, never past it on the socket."""
    delay = 0.3
    await link.connect(delay=delay)
    written_at = time.monotonic()
    for written in _written(MediaKind.VIDEO, 10):
        link.writers[MediaKind.VIDEO].write(*written)
    await link.arrive(10)
    arrivals = [at for at, _ in link.received[MediaKind.VIDEO]]
    assert min(arrivals) - written_at >= delay * 0.9


async def test_bad_arguments_are_refused_and_the_next_packet_goes_out_as_usual(link: Link) -> None:
    await link.connect()
    writer = link.writers[MediaKind.AUDIO]
    refused: list[tuple[Any, ...]] = [
        ("1", 0, 0, b"x", None),  # a sequence number that is not an int
        (1, 0, 0, "payload", None),  # a payload that is not bytes
    ]
    for arguments in refused:
        with pytest.raises((TypeError, struct.error)):  # the C's and the Python's refusal
            writer.write(*arguments)
    writer.write(7, 0, 0, b"fine", None)
    await link.arrive(1)
    assert [p.sequence_number for _, p in link.received[MediaKind.AUDIO]] == [7]


async def test_a_copy_too_long_to_protect_is_dropped_not_raised(link: Link) -> None:
    """A publisher's packet can be longer than its copy may be: the forwarded header
    can be longer than the publisher's, and SRTP's trailer needs room.  That copy is
    dropped (not filed, not counted); the fan-out goes on."""
    await link.connect()
    writer = link.writers[MediaKind.VIDEO]
    writer.write(1, 0, 0, b"x" * (native_send.MAX_PACKET - 12), None)
    writer.write(2, 0, 1, b"fine", None)
    await link.arrive(1)
    assert [p.sequence_number for _, p in link.received[MediaKind.VIDEO]] == [2]
    assert writer.sent == (4, 1)
    history: Any = link.transceivers[MediaKind.VIDEO].sender._RTCRtpSender__rtp_history  # type: ignore[attr-defined]
    assert not history.holds(1) and history.holds(2)


async def test_a_closed_connection_drops_the_packet_quietly(link: Link) -> None:
    await link.connect()
    await link.near.close()
    link.writers[MediaKind.VIDEO].write(1, 0, 0, b"late", None)  # no exception: dropped


def test_the_choice_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    assert native_send.rtp_send({"CAUCUS_RTP_SEND": "python"}) == "python"
    with pytest.raises(ValueError, match="CAUCUS_RTP_SEND must be one of"):
        native_send.rtp_send({"CAUCUS_RTP_SEND": "fast"})
    monkeypatch.setattr(native_send, "_rtp_send", None)
    assert native_send.rtp_send({}) == "python"
    with pytest.raises(ValueError, match="was not built"):
        native_send.rtp_send({"CAUCUS_RTP_SEND": "native"})


async def test_the_c_finds_the_pairs_socket_once_not_per_packet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The socket and sockaddr are kept while the nominated pair and its transport are
    the same objects (aioice builds ``remote_addr`` anew per call, so it cannot be the
    key)."""
    monkeypatch.setenv("CAUCUS_RTP_SEND", "native")
    looked_up: list[Any] = []

    def counted(transport: Any) -> int:
        looked_up.append(transport)
        return native_send._raw_socket(transport)

    native_send._configure()
    _rtp_send.configure(*_configuration(raw_socket=counted))
    link = Link()
    try:
        await link.connect()
        for written in _written(MediaKind.VIDEO, 30):
            link.writers[MediaKind.VIDEO].write(*written)
        await link.arrive(30)
        assert len(looked_up) == 1
    finally:
        _rtp_send.configure(*_configuration(raw_socket=native_send._raw_socket))
        await link.close()


def _configuration(*, raw_socket: Any) -> tuple[Any, ...]:
    from aiortc.rtcdtlstransport import State
    from pylibsrtp._binding import ffi, lib  # type: ignore[import-not-found]

    protect = int(ffi.cast("uintptr_t", ffi.addressof(lib, "srtp_protect")))
    context = native_send.srtp_context
    return (protect, native_send.MAX_PACKET, State.CONNECTED, context, raw_socket)
