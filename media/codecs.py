"""The codecs media is forwarded and recorded in, and what a VP8 frame says of itself.

One codec per kind in a room (forwarding without transcoding needs it): Opus for
audio, VP8 for video. Pure data and byte tests, no aiortc: the SFU, the media
bridge and the recorder all read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sessions.media_kinds import MediaKind


@dataclass(frozen=True)
class Codec:
    name: str  # as PyAV and WebM name it
    mime_type: str  # as SDP and WebRTC name it
    clock_rate: int  # RTP timestamp units per second


FORWARDED: dict[MediaKind, Codec] = {
    MediaKind.AUDIO: Codec("opus", "audio/opus", 48_000),
    MediaKind.VIDEO: Codec("vp8", "video/vp8", 90_000),
}


#: Wrappers offered *before* a kind's codec (a sender uses them only then), forwarded
#: untouched to subscribers that accept them and unwrapped for the others
#: (media.audio_redundancy): RED carries Opus payloads twice (RFC 2198).
WRAPPERS: dict[MediaKind, tuple[Codec, ...]] = {
    MediaKind.AUDIO: (Codec("red", "audio/red", 48_000),),
    MediaKind.VIDEO: (),
}


def vp8_is_keyframe(frame: bytes) -> bool:
    """Whether an encoded VP8 frame (or its first partition) is a keyframe (RFC 6386 §9.1:
    the P bit of the frame tag is 0)."""
    return len(frame) > 0 and frame[0] & 0x01 == 0


def vp8_keyframe_size(frame: bytes) -> tuple[int, int] | None:
    """(width, height) if ``frame`` is a whole VP8 keyframe (with its start code), else None."""
    if len(frame) < 10 or not vp8_is_keyframe(frame) or frame[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(frame[6:8], "little") & 0x3FFF
    height = int.from_bytes(frame[8:10], "little") & 0x3FFF
    return width, height
