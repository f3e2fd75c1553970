"""How the synthetic clients pack the frames they encoded into RTP payloads
(tests/forward_sender.py sends them): as is, or as RED as a browser does."""

from __future__ import annotations

from typing import Any

import av

from media import aiortc_internals, red
from media.packetizer import Packer


def pack_encoded(packer: Packer, packet: av.Packet[Any]) -> tuple[list[bytes], int, int | None]:
    """A frame encoded elsewhere as RTP payloads, its timestamp, no audio level."""
    return packer.pack(bytes(packet)), int(packet.pts or 0), None


class RedPack:
    """Packs Opus as a browser that negotiated RED does (Chromium's default: one
    redundant block, the previous payload)."""

    def __init__(self) -> None:
        self._opus = aiortc_internals.opus_payload_type()
        self._previous: tuple[int, bytes] | None = None

    def __call__(self, packet: av.Packet[Any]) -> tuple[list[bytes], int, int | None]:
        data, timestamp = bytes(packet), int(packet.pts or 0)
        blocks = []
        if self._previous is not None:
            offset = (timestamp - self._previous[0]) & 0xFFFFFFFF
            if red.fits(offset, self._previous[1]):
                blocks.append(red.RedBlock(self._opus, offset, self._previous[1]))
        self._previous = (timestamp, data)
        return [red.build(self._opus, data, blocks)], timestamp, None
