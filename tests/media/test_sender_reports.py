"""Sender reports sent together (``sender_reports.py``): one compound RTCP packet per
connection carries every sender's SR and SDES, each as aiortc's own task built it;
the far end's receiver reports still give each sender its round trip; a stopped
sender says BYE and leaves, and a closed connection leaves nothing behind.

Two real aiortc peer connections on loopback (:class:`Link`): the near one sends
through an :class:`RtpWriter` per kind, as the SFU's consumers do; the far one is
stock aiortc and sees the decrypted RTCP as its transport hands it on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiortc.rtp import RtcpByePacket, RtcpPacket, RtcpSdesPacket, RtcpSrPacket

from media.aiortc_internals import relay_feedback, sender_reports
from sessions.media_kinds import MediaKind
from tests.media.test_rtp_send import Link, _written

WAIT_S = 5.0


class Heard:
    """The compound RTCP packets the far end decrypted, parsed, in arrival order."""

    def __init__(self, link: Link) -> None:
        self.packets: list[list[Any]] = []
        self._changed = asyncio.Event()
        dtls = link.far.getTransceivers()[0].receiver.transport
        handle = dtls._handle_rtcp_data

        async def heard(data: bytes) -> None:
            self.packets.append(RtcpPacket.parse(data))
            self._changed.set()
            await handle(data)

        dtls._handle_rtcp_data = heard  # type: ignore[method-assign]

    async def until(self, found: Any, *, after: int = 0) -> Any:
        """The first packet heard (after the first ``after``) that ``found`` answers
        truthfully, waiting for it."""
        async with asyncio.timeout(WAIT_S):
            while True:
                for packet in self.packets[after:]:
                    if found(packet):
                        return packet
                self._changed.clear()
                await self._changed.wait()


def _reports(packet: list[Any]) -> list[RtcpSrPacket]:
    return [part for part in packet if isinstance(part, RtcpSrPacket)]


@pytest.fixture
async def link() -> AsyncIterator[Link]:
    made = Link()
    yield made
    await made.close()


async def test_one_packet_carries_every_senders_report_as_aiortc_builds_it(link: Link) -> None:
    await link.connect()
    heard = Heard(link)
    for kind in MediaKind:
        for written in _written(kind, 5):
            link.writers[kind].write(*written)
    senders = {kind: link.transceivers[kind].sender for kind in MediaKind}
    ssrcs = {sender._ssrc for sender in senders.values()}
    packet = await heard.until(lambda packet: {sr.ssrc for sr in _reports(packet)} == ssrcs)
    # each sender's SR, then its SDES with the connection's CNAME
    assert [type(part) for part in packet] == [RtcpSrPacket, RtcpSdesPacket] * 2
    cname = link.near._RTCPeerConnection__cname.encode()  # type: ignore[attr-defined]
    for report, sdes in zip(packet[::2], packet[1::2], strict=True):
        sender: Any = next(s for s in senders.values() if s._ssrc == report.ssrc)
        assert (report.sender_info.packet_count, report.sender_info.octet_count) == (
            sender._RTCRtpSender__packet_count,
            sender._RTCRtpSender__octet_count,
        )
        assert report.sender_info.ntp_timestamp == sender._RTCRtpSender__ntp_timestamp
        assert report.sender_info.rtp_timestamp == sender._RTCRtpSender__rtp_timestamp
        assert report.reports == []
        assert [(chunk.ssrc, chunk.items) for chunk in sdes.chunks] == [(report.ssrc, [(1, cname)])]
        # what the round-trip estimate compares a receiver report with
        assert sender._RTCRtpSender__lsr == (report.sender_info.ntp_timestamp >> 16) & 0xFFFFFFFF
    # never a report on its own: every packet with an SR carries both
    assert all({sr.ssrc for sr in _reports(p)} == ssrcs for p in heard.packets if _reports(p))
    reporter = sender_reports._reporters[senders[MediaKind.AUDIO].transport]
    assert reporter.senders == [senders[MediaKind.AUDIO], senders[MediaKind.VIDEO]]


async def test_each_sender_still_learns_its_round_trip(link: Link) -> None:
    await link.connect()
    measured: dict[MediaKind, asyncio.Future[float]] = {}
    loop = asyncio.get_running_loop()
    for kind in MediaKind:
        found = measured[kind] = loop.create_future()
        relay_feedback(
            link.transceivers[kind].sender,
            on_keyframe_request=lambda: None,
            on_remb=lambda bitrate: None,
            on_rtt=lambda rtt, found=found: found.done() or found.set_result(rtt),  # type: ignore[misc]
        )
        for written in _written(kind, 5):
            link.writers[kind].write(*written)
    # the far end's receiver reports answer our SRs (LSR, DLSR): a loopback round trip
    for rtt in await asyncio.wait_for(asyncio.gather(*measured.values()), 3 * WAIT_S):
        assert 0 <= rtt < 0.5


async def test_a_stopped_sender_says_bye_and_a_closed_connection_leaves_nothing(
    link: Link,
) -> None:
    await link.connect()
    heard = Heard(link)
    audio, video = (link.transceivers[kind].sender for kind in MediaKind)
    dtls = audio.transport
    await audio.stop()
    await heard.until(
        lambda packet: any(
            isinstance(part, RtcpByePacket) and part.sources == [audio._ssrc] for part in packet
        )
    )
    assert sender_reports._reporters[dtls].senders == [video]
    # from now on the connection's reports are the video sender's alone
    packet = await heard.until(_reports, after=len(heard.packets))
    assert [sr.ssrc for sr in _reports(packet)] == [video._ssrc]
    await link.near.close()
    assert dtls not in sender_reports._reporters
