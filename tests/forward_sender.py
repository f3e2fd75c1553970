"""Senders that pack frames encoded elsewhere (test clients, the benchmark): test-side only.

Stock aiortc calls ``get_encoder`` even for a track that yields encoded
packets, and ``OpusEncoder()`` opens libopus; the server never sends like
this (it forwards packets through :class:`media.aiortc_internals.RtpWriter`).
The private names used here are pinned by tests/media/test_aiortc_internals.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiortc import RTCRtpSender
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpsender import RTCEncodedFrame

from media.aiortc_internals import relay_feedback

Pack = Callable[[Any], tuple[list[bytes], int, "int | None"]]


def forward_sender(
    sender: RTCRtpSender,
    *,
    pack: Pack,
    on_keyframe_request: Callable[[], None],
    on_remb: Callable[[int], None],
) -> None:
    """Make ``sender`` pack the encoded frames its track yields, without an encoder.

    ``pack(item) -> (payloads, rtp_timestamp, audio_level)``.  Used by the
    synthetic clients and the benchmark, which publish frames they encoded.
    """

    async def next_encoded_frame(codec: RTCRtpCodecParameters) -> RTCEncodedFrame | None:
        item = await sender.track.recv()
        if not sender._enabled:
            return None
        payloads, timestamp, audio_level = pack(item)
        if not payloads:
            return None
        return RTCEncodedFrame(payloads, timestamp, audio_level)  # type: ignore[arg-type]

    sender._next_encoded_frame = next_encoded_frame  # type: ignore[method-assign]
    relay_feedback(sender, on_keyframe_request=on_keyframe_request, on_remb=on_remb)
