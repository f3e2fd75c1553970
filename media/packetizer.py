"""Codec-specific knowledge the forwarding path needs, and nothing more.

The server never decodes: it only has to split an encoded frame into RTP
payloads (VP8 payload descriptor, RFC 7741), recognise a VP8 keyframe (frame
tag bit 0 is 0, RFC 6386 section 9.1) and a packet that starts a VP8 frame
(S bit set, partition index 0).  Opus frames travel one per packet.
"""

from __future__ import annotations

import random
from typing import Protocol

from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.rtp import RtpPacket

# Same payload budget as aiortc's own VP8 packetiser, so the MTU story is unchanged.
PACKET_MAX = 1300


class Packer(Protocol):
    def pack(self, data: bytes) -> list[bytes]: ...


class Vp8Packer:
    """VP8 payloads with a 15-bit picture id of our own, one per frame."""

    def __init__(self) -> None:
        self.picture_id = random.randint(0, (1 << 15) - 1)

    def pack(self, data: bytes) -> list[bytes]:
        descriptor = VpxPayloadDescriptor(
            partition_start=1, partition_id=0, picture_id=self.picture_id
        )
        self.picture_id = (self.picture_id + 1) % (1 << 15)
        payloads: list[bytes] = []
        pos = 0
        while pos < len(data):
            head = bytes(descriptor)
            size = min(len(data) - pos, PACKET_MAX - len(head))
            payloads.append(head + data[pos : pos + size])
            descriptor.partition_start = 0
            pos += size
        return payloads


class WholeFramePacker:
    """One frame per packet (Opus)."""

    def pack(self, data: bytes) -> list[bytes]:
        return [data] if data else []


def packer_for(mime_type: str) -> Packer:
    if mime_type.lower() == "video/vp8":
        return Vp8Packer()
    if mime_type.lower() == "audio/opus":
        return WholeFramePacker()
    raise ValueError(f"cannot forward {mime_type}: only VP8 and Opus are forwarded")


def vp8_starts_frame(packet: RtpPacket) -> bool:
    payload = packet.payload
    return len(payload) > 0 and payload[0] & 0x10 != 0 and payload[0] & 0x07 == 0
