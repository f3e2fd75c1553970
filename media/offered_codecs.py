"""Which codecs each m-section of a seat's connection offers.

At first every m-section offers its kind's forwarded codec (Opus, VP8) with RTX,
audio with RED before it (:mod:`media.codecs`); once answered, each m-section
offers only the codecs its answer kept.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiortc import RTCRtpSender, RTCRtpTransceiver
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from aiortc.sdp import SessionDescription

from media.codecs import FORWARDED, WRAPPERS
from sessions.media_kinds import MediaKind


def codec_preferences(kind: MediaKind) -> list[RTCRtpCodecCapability]:
    """Opus / VP8 (+ RTX) only: forwarding without transcoding needs one codec per kind.

    Audio offers RED first where it is registered (a browser sends RED only if
    it comes before Opus): a payload wrapper, not a second codec.
    """
    wanted = [c.mime_type for c in WRAPPERS[kind]]
    wanted += [FORWARDED[kind].mime_type, f"{kind.value}/rtx"]
    offered = [
        c for c in RTCRtpSender.getCapabilities(kind.value).codecs if c.mimeType.lower() in wanted
    ]
    return sorted(offered, key=lambda c: wanted.index(c.mimeType.lower()))


def keep_answered_codecs(transceivers: Iterable[RTCRtpTransceiver], answer: str) -> None:
    """Offer each m-section only the codecs its answer kept, from now on.

    aiortc rebuilds every transceiver's codec list from the preferences at each
    ``createOffer`` and restarts its senders with that list when the offer is
    set, so between a re-offer and its answer a sender would send with the
    offer's first codec (RED, to a subscriber that declined it).
    """
    answered = {m.rtp.muxId: m for m in SessionDescription.parse(answer).media}
    for transceiver in transceivers:
        media = answered.get(transceiver.mid or "")
        if media is None or media.kind not in ("audio", "video"):
            continue
        kept = {c.mimeType.lower() for c in media.rtp.codecs}
        preferences = codec_preferences(MediaKind(media.kind))
        narrowed = [c for c in preferences if c.mimeType.lower() in kept]
        if narrowed and len(narrowed) < len(preferences):
            transceiver.setCodecPreferences(narrowed)
