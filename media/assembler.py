"""Turns RTP packets into encoded frames, as soon as each frame is complete.

Replaces aiortc's ``JitterBuffer`` inside an ``RTCRtpReceiver`` (same
``add(packet) -> (pli_flag, frame)`` shape).  aiortc's buffer declares a frame
complete only when a packet of the *next* frame arrives (one frame interval of
added delay on every hop), hands out at most one frame per packet (frames
released by a retransmission trickle out one per later packet), and waits for a
lost packet until 512 packets later (~10 s of video).

Two modes:

* ``ordered=False`` (audio): every packet is one frame and is released on
  arrival, duplicates dropped.  No head-of-line blocking: a retransmitted audio
  frame is released late instead of holding back the frames after it.
* ``ordered=True`` (video): a frame is released once all its packets are
  present and its last packet carries the RTP marker bit (or the next frame has
  begun), strictly in order because VP8 frames reference earlier ones.  A hole
  the NACK scheduler has given up on is skipped: the assembler resynchronises on
  the next frame start, drops frames until a keyframe (a decoder cannot use
  frames that reference the lost one), and raises the PLI flag – repeated every
  ``pli_interval`` until the keyframe arrives.

Frames beyond the first released by one ``add`` are kept for ``drain()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket

from media.aiortc_internals import depayloaded
from media.codecs import vp8_is_keyframe
from media.latency import ForwardingStats
from media.nack import NackScheduler
from media.packetizer import vp8_starts_frame
from media.sequence import RecentNumbers, SequenceExtender

MAX_PACKETS = 2048
# Waiting for a hole that no NACK scheduler tracks (safety net only).
UNTRACKED_HOLE_WAIT = 0.3
# Never wait longer than this for one hole, whatever the NACK scheduler says.
MAX_HOLE_WAIT = 1.5
# a retransmission races its original by up to ~1 s: 2048 packets is ~2 s of 8 Mbit/s video
DEDUP_WINDOW = 2048


class AssembledFrame(JitterFrame):
    """An encoded frame plus what the forwarding path wants to know about it."""

    def __init__(
        self,
        data: bytes,
        timestamp: int,
        arrival: float,
        *,
        keyframe: bool = False,
        audio_level: int | None = None,
        discontinuity: bool = False,
    ) -> None:
        super().__init__(data=data, timestamp=timestamp)
        self.arrival = arrival
        self.keyframe = keyframe
        self.audio_level = audio_level
        self.discontinuity = discontinuity


class FrameAssembler:
    def __init__(
        self,
        *,
        ordered: bool,
        clock: Callable[[], float] = time.monotonic,
        is_pending: Callable[[int], bool] | None = None,
        is_frame_start: Callable[[RtpPacket], bool] | None = None,
        is_keyframe: Callable[[bytes], bool] | None = None,
        pli_interval: Callable[[], float] = lambda: 0.5,
        stats: ForwardingStats | None = None,
    ) -> None:
        self._ordered = ordered
        self._stats = stats if stats is not None else ForwardingStats()  # PLIs (/metrics)
        self._clock = clock
        self._is_pending = is_pending
        self._is_frame_start = is_frame_start
        self._is_keyframe = is_keyframe
        self._pli_interval = pli_interval

        self._numbers = SequenceExtender()
        self._head: int | None = None
        self._packets: dict[int, tuple[RtpPacket, float]] = {}
        self._synced = False
        self._hole: tuple[int, float] | None = None
        self._awaiting_keyframe = is_keyframe is not None
        self._last_pli = clock()
        self._pli_now = False
        self._ready: list[AssembledFrame] = []
        self._recent = RecentNumbers(DEDUP_WINDOW)
        # sees each packet once (duplicates dropped) before assembly, with its extended number
        self.on_packet: Callable[[RtpPacket, int, float], None] | None = None

    def drain(self) -> list[AssembledFrame]:
        """Frames completed by the last ``add`` beyond the one it returned."""
        ready, self._ready = self._ready, []
        return ready

    def add(self, packet: RtpPacket) -> tuple[bool, AssembledFrame | None]:
        now = self._clock()
        ext = self._numbers.extend(packet.sequence_number)
        if not self._recent.first_time(ext):  # the one duplicate filter on the receive path
            return (self._take_pli(now) if self._ordered else False), None
        if self.on_packet is not None:
            self.on_packet(packet, ext, now)
        if not self._ordered:
            return False, self._add_unordered(packet, now)

        if self._head is None:
            self._head = ext
        if ext < self._head or ext in self._packets:
            return self._take_pli(now), None
        self._packets[ext] = (packet, now)
        frames = self._release(now)
        pli = self._take_pli(now)
        if not frames:
            return pli, None
        self._ready.extend(frames[1:])
        return pli, frames[0]

    # -- internals ---------------------------------------------------------

    def _add_unordered(self, packet: RtpPacket, now: float) -> AssembledFrame | None:
        level = packet.extensions.audio_level
        return AssembledFrame(
            data=depayloaded(packet),
            timestamp=packet.timestamp,
            arrival=now,
            audio_level=level[1] if level is not None else None,
        )

    def _take_pli(self, now: float) -> bool:
        if self._pli_now:
            self._pli_now = False
            self._last_pli = now
            self._stats.keyframe_requests_repair += 1
            return True
        if self._awaiting_keyframe and now - self._last_pli >= self._pli_interval():
            self._last_pli = now
            self._stats.keyframe_requests_repair += 1
            return True
        return False

    def _release(self, now: float) -> list[AssembledFrame]:
        out: list[AssembledFrame] = []
        while self._packets:
            if not self._synced and not self._resync():
                if len(self._packets) > MAX_PACKETS:
                    self._packets.clear()
                break
            frame = self._complete_frame_at_head()
            if frame is None:
                if self._skip_hole(now):
                    continue
                break
            self._hole = None
            if self._awaiting_keyframe:
                if not frame.keyframe:
                    continue
                self._awaiting_keyframe = False
                frame.discontinuity = True
            out.append(frame)
        return out

    def _resync(self) -> bool:
        """Move the head to the first stored frame start; False if none yet."""
        assert self._head is not None
        starts = [
            ext
            for ext, (packet, _) in self._packets.items()
            if ext >= self._head and self._starts_frame(packet, ext)
        ]
        if not starts:
            return False
        start = min(starts)
        for ext in [e for e in self._packets if e < start]:
            del self._packets[ext]
        self._head = start
        self._synced = True
        return True

    def _starts_frame(self, packet: RtpPacket, ext: int) -> bool:
        if self._is_frame_start is not None:
            return self._is_frame_start(packet)
        previous = self._packets.get(ext - 1)
        return previous is not None and (
            previous[0].marker == 1 or previous[0].timestamp != packet.timestamp
        )

    def _complete_frame_at_head(self) -> AssembledFrame | None:
        assert self._head is not None
        first = self._packets.get(self._head)
        if first is None:
            return None
        timestamp = first[0].timestamp
        end = self._head
        while True:
            entry = self._packets.get(end)
            if entry is None:
                return None
            if entry[0].timestamp != timestamp:
                end -= 1  # the next frame began: the previous one had no marker
                break
            if entry[0].marker:
                break
            end += 1
        chunks: list[bytes] = []
        arrival = 0.0
        for ext in range(self._head, end + 1):
            packet, arrived = self._packets.pop(ext)
            chunks.append(depayloaded(packet))
            arrival = max(arrival, arrived)
        self._head = end + 1
        data = b"".join(chunks)
        keyframe = self._is_keyframe(data) if self._is_keyframe is not None else False
        return AssembledFrame(data=data, timestamp=timestamp, arrival=arrival, keyframe=keyframe)

    def _skip_hole(self, now: float) -> bool:
        """Give up on the first hole if recovery is hopeless; True if skipped."""
        assert self._head is not None
        hole = self._head
        while hole in self._packets:
            hole += 1
        if not any(ext > hole for ext in self._packets):
            return False  # the frame is just not finished yet
        if self._hole is None or self._hole[0] != hole:
            self._hole = (hole, now)
        waited = now - self._hole[1]
        if self._is_pending is not None:
            hopeless = not self._is_pending(hole & 0xFFFF) or waited > MAX_HOLE_WAIT
        else:
            hopeless = waited > UNTRACKED_HOLE_WAIT
        if not hopeless and len(self._packets) < MAX_PACKETS:
            return False
        for ext in [e for e in self._packets if e <= hole]:
            del self._packets[ext]
        self._head = hole + 1
        self._synced = False
        self._hole = None
        if self._is_keyframe is not None:
            self._awaiting_keyframe = True
        self._pli_now = True
        return True


def vp8_assembler(
    nack: NackScheduler,
    clock: Callable[[], float] = time.monotonic,
    stats: ForwardingStats | None = None,
) -> FrameAssembler:
    """Video as every receiver here assembles it: VP8 frame boundaries and
    keyframes; a hole is waited for while ``nack`` still expects its repair; PLI
    repeated about every 1.5 round trips until a keyframe comes."""
    return FrameAssembler(
        ordered=True,
        clock=clock,
        is_pending=nack.is_pending,
        is_frame_start=vp8_starts_frame,
        is_keyframe=vp8_is_keyframe,
        pli_interval=lambda: max(0.2, min(1.0, 1.5 * nack.srtt)),
        stats=stats,
    )
