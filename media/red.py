"""RTP payload for redundant audio data (RED, RFC 2198): reading and writing it.

A RED payload carries, after a list of block headers, zero or more *redundant*
blocks (copies of earlier packets' payloads, oldest first) and one *primary*
block (this packet's own payload)::

    redundant header, 4 bytes: F=1 | block PT (7) | timestamp offset (14) | length (10)
    primary header,   1 byte:  F=0 | block PT (7)

then the blocks' data in the same order.  A redundant block's RTP timestamp is
the packet's minus its offset; its sequence number is not carried (Chromium
sends one block per earlier packet, so the nearest is the previous number).

Pure bytes, no aiortc: a packet that arrives from the network is untrusted, so
:func:`parse` refuses anything malformed with ``None`` (never an exception), and
:func:`build` refuses a block that cannot be described (``ValueError``, a
programming error of the caller).  The forwarding path that uses this lives in
:mod:`media.audio_redundancy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_OFFSET = (1 << 14) - 1  # 14-bit timestamp offset
MAX_LENGTH = (1 << 10) - 1  # 10-bit block length
MAX_BLOCKS = 8  # what a sane sender repeats; a longer header list is refused


@dataclass(frozen=True, slots=True)
class RedBlock:
    payload_type: int
    timestamp_offset: int
    """How far before the packet's RTP timestamp this block's is (0 for the primary)."""
    data: bytes


@dataclass(frozen=True, slots=True)
class RedPayload:
    redundant: tuple[RedBlock, ...]
    """Copies of earlier payloads, oldest first."""
    primary: RedBlock


def parse(payload: bytes) -> RedPayload | None:
    """Read a RED payload; None if it is malformed (no primary header, truncated,
    lengths that do not add up, more than MAX_BLOCKS redundant blocks)."""
    headers: list[tuple[int, int, int]] = []  # (payload type, offset, length)
    pos = 0
    size = len(payload)
    while True:
        if pos >= size:
            return None
        first = payload[pos]
        if not first & 0x80:  # the primary header ends the list
            primary_type = first & 0x7F
            pos += 1
            break
        if pos + 4 > size or len(headers) == MAX_BLOCKS:
            return None
        word = int.from_bytes(payload[pos + 1 : pos + 4], "big")
        offset, length = word >> 10, word & 0x3FF
        headers.append((first & 0x7F, offset, length))
        pos += 4
    redundant: list[RedBlock] = []
    for payload_type, offset, length in headers:
        if pos + length > size:
            return None
        redundant.append(RedBlock(payload_type, offset, payload[pos : pos + length]))
        pos += length
    return RedPayload(tuple(redundant), RedBlock(primary_type, 0, payload[pos:]))


def primary(payload: bytes) -> tuple[int, bytes] | None:
    """(payload type, data) of the primary block; None if the payload is malformed."""
    parsed = parse(payload)
    return None if parsed is None else (parsed.primary.payload_type, parsed.primary.data)


def build(primary_type: int, primary_data: bytes, redundant: Sequence[RedBlock] = ()) -> bytes:
    """A RED payload: ``redundant`` blocks (oldest first), then the primary."""
    if len(redundant) > MAX_BLOCKS:
        raise ValueError(f"at most {MAX_BLOCKS} redundant blocks")
    _check_type(primary_type)
    head = bytearray()
    for block in redundant:
        _check_type(block.payload_type)
        if not 0 < block.timestamp_offset <= MAX_OFFSET:
            raise ValueError(f"timestamp offset {block.timestamp_offset} not in 1..{MAX_OFFSET}")
        if len(block.data) > MAX_LENGTH:
            raise ValueError(f"a redundant block holds at most {MAX_LENGTH} bytes")
        word = (block.timestamp_offset << 10) | len(block.data)
        head.append(0x80 | block.payload_type)
        head += word.to_bytes(3, "big")
    head.append(primary_type)
    return bytes(head) + b"".join(b.data for b in redundant) + primary_data


def fits(offset: int, data: bytes) -> bool:
    """Whether an earlier payload ``offset`` timestamp units back can ride as a block."""
    return 0 < offset <= MAX_OFFSET and len(data) <= MAX_LENGTH


def _check_type(payload_type: int) -> None:
    if not 0 <= payload_type <= 0x7F:
        raise ValueError(f"payload type {payload_type} is not 7 bits")
