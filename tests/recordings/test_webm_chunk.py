"""A browser-copy chunk holds media only if it is WebM with a Cluster holding a block."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from recordings.webm_chunk import has_media
from tests.webm import EMPTY_WEBM, tiny_webm

#: a live stream's layout, as Chromium's MediaRecorder writes it: the Segment and the
#: Cluster of unknown size (all value bits set), a Timecode, then a SimpleBlock
LIVE = (
    bytes.fromhex("1a45dfa3 87 4282 84 7765626d")  # EBML header: DocType "webm"
    + bytes.fromhex("18538067 01ffffffffffffff")
    + bytes.fromhex("1f43b675 01ffffffffffffff")
    + bytes.fromhex("e7 81 00")
    + bytes.fromhex("a3 85 8100000080")
)


def test_a_real_file_and_a_live_streams_layout_hold_media() -> None:
    assert has_media(tiny_webm())
    assert has_media(LIVE)
    assert has_media(tiny_webm() + b"trailing")


def test_a_recorder_stopped_before_its_first_frame_holds_none() -> None:
    assert not has_media(EMPTY_WEBM)


def test_a_segment_without_a_block_holds_none() -> None:
    without_block = LIVE[: LIVE.index(bytes.fromhex("a385"))]
    assert not has_media(without_block)
    assert not has_media(b"")
    assert not has_media(b"\x00" * 64)


def test_every_cut_of_a_file_is_answered_without_raising() -> None:
    data = tiny_webm()
    for n in range(len(data)):
        has_media(data[:n])
    for n in range(len(LIVE)):
        assert has_media(LIVE[:n]) is (n == len(LIVE))


@given(st.binary(max_size=300))
def test_any_bytes_are_answered_without_raising(data: bytes) -> None:
    assert has_media(data) in (True, False)
    assert has_media(EMPTY_WEBM[:36] + data) in (True, False)
