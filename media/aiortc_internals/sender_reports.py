"""Sender reports: one RTCP datagram per connection for all its senders.

aiortc gives every ``RTCRtpSender`` its own RTCP task: every 0.5–1.5 s it wakes,
builds a sender report (SR) and an SDES packet with the connection's CNAME out of
four objects, SRTCP-protects them and sends them through three coroutines and
aioice's send path.  A subscriber's connection carries a sender per seat it sees
and kind (six in a room of four), so the SFU woke some 170 times a second for
this at R = 7 rooms, ~6 % of its CPU.

:func:`report_together` takes a sender's task's place: the sender joins its
connection's :class:`Reporter`, which wakes on aiortc's schedule (0.5–1.5 s,
at random) and sends one compound packet: each sender's SR followed by its
SDES, byte for byte what each sender's own task would have sent (RFC 3550 6.1:
a compound packet may carry several reports; a receiver takes each by its SSRC;
RFC 8108 5.3 recommends it for several SSRCs).  What the sender's round-trip
estimate needs (the last SR's middle 32 bits and when it went) is set on the
sender as aiortc's task sets it, and on stop the sender sends its BYE as before.
"""

from __future__ import annotations

import asyncio
import logging
import random
import struct
import time
from collections.abc import Callable

import pylibsrtp
from aiortc import RTCDtlsTransport, RTCRtpSender
from aiortc.rtp import RTCP_SR, RtcpByePacket, RtcpSdesPacket, RtcpSourceInfo

#: sends a compound RTCP packet on a DTLS transport (protects it, finds the pair)
SendRtcp = Callable[[RTCDtlsTransport, bytes], None]

logger = logging.getLogger(__name__)

#: an SR without report blocks: header, SSRC, NTP time, RTP time, packet and octet counts
_SR = struct.Struct("!BBHLQLLL")
_SR_HEADER = (2 << 6, RTCP_SR, _SR.size // 4 - 1)  # version 2, no report blocks
#: a compound packet carries this many senders' reports at most (~1 kB: one datagram)
MAX_SENDERS_PER_PACKET = 16

_reporters: dict[RTCDtlsTransport, Reporter] = {}  # while any sender of the transport runs


def report_together(sender: RTCRtpSender, send: SendRtcp) -> None:
    """Let ``sender``'s connection send its reports with its other senders', through
    ``send`` (call before ``sender.send``: that starts the RTCP task)."""

    async def run_rtcp() -> None:
        # RTCRtpSender._run_rtcp, the reports left to the connection's Reporter
        sender._RTCRtpSender__rtcp_started.set()  # type: ignore[attr-defined]
        dtls = sender.transport
        reporter = _reporters.get(dtls)
        if reporter is None:
            reporter = _reporters[dtls] = Reporter(dtls, send)
        reporter.join(sender)
        try:
            await asyncio.get_running_loop().create_future()  # until stop() cancels
        except asyncio.CancelledError:
            pass
        finally:
            if not reporter.leave(sender):
                del _reporters[dtls]
        await sender._send_rtcp([RtcpByePacket(sources=[sender._ssrc])])
        sender._RTCRtpSender__rtcp_exited.set()  # type: ignore[attr-defined]

    sender._run_rtcp = run_rtcp  # type: ignore[method-assign]


class Reporter:
    """The senders of one DTLS transport (one connection, with max-bundle) and the
    task that sends their reports."""

    def __init__(self, dtls: RTCDtlsTransport, send: SendRtcp) -> None:
        self._dtls = dtls
        self._send = send
        self._sdes: dict[RTCRtpSender, bytes] = {}  # the senders, in the order they joined
        self._task: asyncio.Task[None] | None = None

    @property
    def senders(self) -> list[RTCRtpSender]:
        return list(self._sdes)

    def join(self, sender: RTCRtpSender) -> None:
        cname: str | None = sender._RTCRtpSender__cname  # type: ignore[attr-defined]
        self._sdes[sender] = (
            b""
            if cname is None
            else bytes(
                RtcpSdesPacket(
                    chunks=[RtcpSourceInfo(ssrc=sender._ssrc, items=[(1, cname.encode("utf8"))])]
                )
            )
        )
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    def leave(self, sender: RTCRtpSender) -> bool:
        """Stop reporting for ``sender``; False once no sender is left (and no task)."""
        self._sdes.pop(sender, None)
        if not self._sdes and self._task is not None:
            self._task.cancel()
            self._task = None
        return bool(self._sdes)

    async def _run(self) -> None:
        while True:
            # RFC 3550's interval, varied over [0.5, 1.5] times it, as aiortc's task
            await asyncio.sleep(0.5 + random.random())
            try:
                self.send()
            except pylibsrtp.Error as exc:  # what aiortc's send would have raised
                logger.debug("sender reports not sent: %s", exc)

    def send(self) -> None:
        """Send every sender's SR and SDES now (one datagram per 16 senders)."""
        senders = list(self._sdes)
        for first in range(0, len(senders), MAX_SENDERS_PER_PACKET):
            data = b"".join(
                self._report(sender) for sender in senders[first : first + MAX_SENDERS_PER_PACKET]
            )
            self._send(self._dtls, data)

    def _report(self, sender: RTCRtpSender) -> bytes:
        ntp: int = sender._RTCRtpSender__ntp_timestamp  # type: ignore[attr-defined]
        report = _SR.pack(
            *_SR_HEADER,
            sender._ssrc,
            ntp,
            sender._RTCRtpSender__rtp_timestamp,  # type: ignore[attr-defined]
            sender._RTCRtpSender__packet_count & 0xFFFFFFFF,  # type: ignore[attr-defined]
            sender._RTCRtpSender__octet_count & 0xFFFFFFFF,  # type: ignore[attr-defined]
        )
        # what the sender's round-trip estimate compares a receiver report with
        sender._RTCRtpSender__lsr = (ntp >> 16) & 0xFFFFFFFF  # type: ignore[attr-defined]
        sender._RTCRtpSender__lsr_time = time.time()  # type: ignore[attr-defined]
        return report + self._sdes[sender]
