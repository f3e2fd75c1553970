"""Where a (re)starting video forward begins: at a keyframe, even one repaired late.

A consumer whose forwarding (re)starts – gate opened, producer attached – must
begin at the first packet of a keyframe: the subscriber cannot decode anything
before it.  When that first packet was lost on the publisher's link, the SFU's
own NACK brings it back about one round trip later, after the rest of the
keyframe (and perhaps a few frames more) already arrived.  Starting there and
dropping those later packets would leave the subscriber a gap the SFU never
sent and cannot retransmit, so its picture would stay frozen until it gave up
and asked for yet another keyframe (~1.2 s + a round trip later).

:class:`KeyframeWait` therefore holds the packets that arrive while waiting and,
once a keyframe's first packet arrives (in order or late), releases it followed
by every held packet after it, in order.  Only packets numbered above the
*floor* – the newest packet the SFU had seen when the wait began – count, so
nothing sent before a gate opened (a caucus) is ever forwarded, not even a
late repair of it; and a keyframe whose later packets had to be dropped (the
hold is bounded) is passed over rather than forwarded with a hole.
"""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from media.packet_info import PacketInfo

# ~5 s of 1 Mbit/s video: far longer than any repair worth waiting for
HELD_LIMIT = 512

Arrival = tuple[RtpPacket, PacketInfo]


class KeyframeWait:
    def __init__(self, limit: int = HELD_LIMIT) -> None:
        self._limit = limit
        self._held: list[Arrival] = []
        self._floor: int | None = None

    @property
    def held(self) -> int:
        return len(self._held)

    def reset(self, floor: int | None) -> None:
        """Start waiting afresh: forget what is held, and ignore every packet
        numbered ``floor`` or below (those arrived before the wait began)."""
        self._held.clear()
        self._floor = floor

    def offer(self, packet: RtpPacket, info: PacketInfo) -> list[Arrival] | None:
        """None while still waiting; else the packets to forward, starting at the
        keyframe's first packet, in sequence order (and the wait is over)."""
        if self._floor is not None and info.ext <= self._floor:
            return None
        if not (info.frame_start and info.keyframe):
            self._held.append((packet, info))
            if len(self._held) > self._limit:
                _, dropped = self._held.pop(0)
                # a keyframe at or before a dropped packet could only go out with a hole
                self._floor = dropped.ext if self._floor is None else max(self._floor, dropped.ext)
            return None
        later = sorted((p for p in self._held if p[1].ext > info.ext), key=lambda p: p[1].ext)
        self._held.clear()
        return [(packet, info), *later]
