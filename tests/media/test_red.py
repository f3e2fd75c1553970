"""RED payloads (RFC 2198): written and read back, and hostile bytes refused quietly."""

from __future__ import annotations

import random

import pytest

from media import red
from media.red import RedBlock

OPUS = 111


def test_a_payload_reads_back_as_it_was_written() -> None:
    blocks = [RedBlock(OPUS, 1920, b"older"), RedBlock(OPUS, 960, b"\x00" * 1023)]
    payload = red.build(OPUS, b"primary", blocks)
    parsed = red.parse(payload)
    assert parsed is not None
    assert parsed.redundant == tuple(blocks)
    assert parsed.primary == RedBlock(OPUS, 0, b"primary")
    assert red.primary(payload) == (OPUS, b"primary")


def test_the_bytes_are_rfc_2198s() -> None:
    # F=1, PT 111 | offset 960 (14 bits) | length 3 (10 bits); F=0, PT 111; blocks
    payload = red.build(OPUS, b"PP", [RedBlock(OPUS, 960, b"RRR")])
    assert (
        payload
        == bytes([0x80 | OPUS]) + ((960 << 10) | 3).to_bytes(3, "big") + bytes([OPUS]) + b"RRRPP"
    )


def test_a_primary_alone_is_one_header_byte() -> None:
    assert red.build(OPUS, b"x") == bytes([OPUS]) + b"x"
    assert red.parse(bytes([OPUS])) == red.RedPayload((), RedBlock(OPUS, 0, b""))


@pytest.mark.parametrize(
    "payload",
    [
        b"",  # nothing at all
        b"\x80",  # a redundant header cut short
        b"\xef\x00\x3c",  # still short of its 4 bytes
        bytes([0x80 | OPUS]) + ((960 << 10) | 5).to_bytes(3, "big"),  # no primary header
        bytes([0x80 | OPUS]) + ((960 << 10) | 5).to_bytes(3, "big") + bytes([OPUS]) + b"abc",
        (bytes([0x80 | OPUS]) + ((960 << 10) | 0).to_bytes(3, "big")) * 9 + bytes([OPUS]),
    ],
    ids=["empty", "short-1", "short-3", "no-primary", "block-past-end", "too-many-blocks"],
)
def test_malformed_payloads_are_refused_with_none(payload: bytes) -> None:
    assert red.parse(payload) is None
    assert red.primary(payload) is None


def test_random_bytes_never_raise() -> None:
    rng = random.Random(2198)
    parsed = 0
    for _ in range(20_000):
        payload = rng.randbytes(rng.randrange(0, 64))
        result = red.parse(payload)
        if result is not None:
            parsed += 1
            # whatever was accepted adds up to the payload exactly
            header = 4 * len(result.redundant) + 1
            blocks = sum(len(b.data) for b in result.redundant) + len(result.primary.data)
            assert header + blocks == len(payload)
    assert parsed > 0  # some random payloads are well formed, and were read


@pytest.mark.parametrize(
    ("block", "why"),
    [
        (RedBlock(OPUS, 0, b"x"), "offset"),
        (RedBlock(OPUS, red.MAX_OFFSET + 1, b"x"), "offset"),
        (RedBlock(OPUS, 960, b"x" * (red.MAX_LENGTH + 1)), "1023 bytes"),
        (RedBlock(128, 960, b"x"), "7 bits"),
    ],
)
def test_a_block_that_cannot_be_described_is_refused(block: RedBlock, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        red.build(OPUS, b"p", [block])
    assert not red.fits(block.timestamp_offset, block.data) or block.payload_type > 127
