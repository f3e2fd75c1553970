"""One place for the forwarded codecs and the VP8 keyframe test."""

from __future__ import annotations

from media.codecs import FORWARDED, vp8_is_keyframe, vp8_keyframe_size
from sessions.media_kinds import MediaKind
from tests.encoded_media import vp8_frames


def test_each_kind_is_forwarded_in_one_codec() -> None:
    assert {k: (c.name, c.mime_type, c.clock_rate) for k, c in FORWARDED.items()} == {
        MediaKind.AUDIO: ("opus", "audio/opus", 48_000),
        MediaKind.VIDEO: ("vp8", "video/vp8", 90_000),
    }


def test_a_keyframe_says_so_and_gives_its_size_and_an_interframe_gives_neither() -> None:
    frames = [frame for frame, _ in vp8_frames(3, keyframe_every=60)]
    assert vp8_is_keyframe(frames[0]) and vp8_keyframe_size(frames[0]) == (320, 240)
    assert not vp8_is_keyframe(frames[1]) and vp8_keyframe_size(frames[1]) is None


def test_bytes_without_the_start_code_are_no_keyframe_to_size() -> None:
    assert vp8_is_keyframe(b"\x00" * 12)
    assert vp8_keyframe_size(b"\x00" * 12) is None
    assert not vp8_is_keyframe(b"")
