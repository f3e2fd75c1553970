"""Everything that reaches into aiortc's (and aioice's) private parts, in one place.

Pinned to aiortc 1.16.0 (aioice 0.13): ``tests/media/test_aiortc_internals.py``
fails loudly if a signature, attribute or source body used here changes.
Nothing is patched at import time: the composition root (``caucus.app``) calls
:func:`install` once (process-wide, idempotent), an ``Sfu`` refuses to start
without it, and the SFU calls the per-object functions below.

Process-wide (:func:`install`):

* ``rtcrtpreceiver.decoder_worker`` becomes a dispatcher: receivers whose
  decoder queue is a :class:`PassThroughQueue` get no decoding at all (the
  thread returns at once; frames are handed over on the event loop by the
  queue's ``put``, which saves two thread hops per frame); every other receiver
  keeps aiortc's decoder.
* ``rtcrtpsender.RTP_HISTORY_SIZE`` (128 packets, ~0.6 s of 2 Mbit/s video) is
  raised to 1024 so a NACK can be answered for at least one second.
* Opus is offered with ``nack`` feedback but without an audio/rtx payload type
  (Chromium refuses an audio m-section with an ``ssrc-group:FID``): lost audio
  is retransmitted on its original SSRC (docs/ARCHITECTURE.md §5: audio protected
  first).
* Opus is offered with ``useinbandfec=1`` (:func:`_enable_opus_fec`): a browser
  publisher then sends in-band FEC, so one lost audio packet is concealed from
  the next one without waiting a round trip for the NACK.
* RED (``audio/red``, RFC 2198) is registered, payload type
  :data:`RED_PAYLOAD_TYPE`, with ``a=fmtp:63 <opus>/<opus>`` (:func:`_enable_audio_red`):
  offered before Opus, it makes a Chromium publisher send each Opus payload again
  in the next packet; subscribers that accept it get RED (media.audio_redundancy).
* Video is offered with the RID header extensions (``rtp-stream-id`` and
  ``repaired-rtp-stream-id``, :mod:`.simulcast`), so a browser can publish
  simulcast on the m-section the SFU offers with ``a=rid``/``a=simulcast``.
* aioice's ``Connection.connect`` no longer leaves a consent-check task running
  forever when the connection was closed while ICE completed.
* aioice's consent freshness checks accept a late answer (:mod:`.consent`):
  a peer whose answers take over 0.5 s (a long link, or a loop running behind
  on either side) is no longer dropped after 30 s.
* aioice's ``get_host_addresses`` and ``Connection.get_component_candidates``
  follow the :class:`~media.aiortc_internals.ice.GatherPolicy` of the context
  they run in (an SFU's, entered per connection: host candidates only on
  ``CAUCUS_ICE_ADDRESSES``, their sockets bound inside ``CAUCUS_UDP_PORTS``, the
  announced address offered beside them; a test client's: ``LOOPBACK``);
  without one they are aioice's own. Constructing an ``Sfu`` changes nothing
  process-wide.
* Media ports accept only what belongs (:mod:`.port_guard`): non-STUN datagrams
  only from the selected ICE pair, STUN requests only with valid credentials,
  a bounded queue; every drop counted.

Per object:

* :func:`pass_through_receiver` – a receiver that hands over each RTP packet on
  arrival and each encoded frame once complete (no decoder), with the caller's
  NACK scheduler and frame assembler replacing aiortc's NACK generator and
  jitter buffer (:mod:`media.receiving` builds them); RTX is routed by SSRC.
  :func:`depayloaded` reads the codec payload aiortc stored on each packet.
  With :class:`Layers` a simulcast publisher's layers are told apart by RID
  and each gets its own NACK scheduler and assembler (:mod:`.simulcast`).
* :class:`RtpWriter` – sends RTP packets the SFU rewrote through a sender, which
  keeps answering NACKs from its history and sending reports (one compound
  packet per connection for all its senders: :mod:`.sender_reports`).
* :func:`relay_feedback` – a sender's PLI/FIR and REMB go to the SFU, not to an
  encoder it does not have.
* :func:`count_arrivals` – counts decrypted RTP/RTCP and authenticated ICE
  checks from the peer (the SFU's silence watchdog).
* :func:`deliver_directly` – SRTP/SRTCP from the peer is handled in the
  datagram callback instead of through aioice's queue and the DTLS
  transport's receive task (:mod:`.direct`).

Where it lives: :mod:`.receivers` (decoder dispatch, NACK/recovery, RTX
routing; the receive step itself in :mod:`.forwarding_receive`), :mod:`.senders`
(feedback relay, packet writing, stream id),
:mod:`.ice` (the gather policy: host addresses, port range and announced
address; consent timing, UDP endpoints, the selected pair, the connect fix),
:mod:`.port_guard` (what a media port accepts), :mod:`.consent` (ICE consent
freshness) and :mod:`.arrivals` (what
reached a peer connection from its peer).
This module holds the pin and :func:`install`, and re-exports the public names.
"""

from __future__ import annotations

import aioice.ice
import aiortc
from aiortc import rtcrtpreceiver, rtcrtpsender
from aiortc.codecs import CODECS
from aiortc.rtcrtpparameters import RTCRtcpFeedback, RTCRtpCodecParameters

from media.aiortc_internals import (
    arrivals,
    consent,
    direct,
    ice,
    native_parse,
    port_guard,
    receivers,
    senders,
    simulcast,
)
from media.aiortc_internals.arrivals import Arrivals, count_arrivals
from media.aiortc_internals.direct import deliver_directly
from media.aiortc_internals.forwarding_receive import PacketHook
from media.aiortc_internals.ice import (
    LOOPBACK,
    GatherPolicy,
    UdpPortsExhausted,
    gather_policy,
    ice_datagram_protocols,
    selected_pair,
    set_consent_timing,
)
from media.aiortc_internals.receivers import (
    Layer,
    Layers,
    PassThroughQueue,
    ReceiverControl,
    depayloaded,
    pass_through_receiver,
)
from media.aiortc_internals.senders import (
    RtpWriter,
    relay_feedback,
    set_stream_id,
    set_track_id,
)

__all__ = [
    "PINNED_AIORTC_VERSION",
    "RED_PAYLOAD_TYPE",
    "RTP_HISTORY_SIZE",
    "AiortcVersionError",
    "Arrivals",
    "GatherPolicy",
    "LOOPBACK",
    "Layer",
    "Layers",
    "PacketHook",
    "PassThroughQueue",
    "ReceiverControl",
    "RtpWriter",
    "arrivals",
    "check_version",
    "consent",
    "count_arrivals",
    "deliver_directly",
    "direct",
    "depayloaded",
    "gather_policy",
    "ice",
    "ice_datagram_protocols",
    "install",
    "installed",
    "opus_payload_type",
    "pass_through_receiver",
    "port_guard",
    "receivers",
    "relay_feedback",
    "require_installed",
    "selected_pair",
    "senders",
    "set_consent_timing",
    "set_stream_id",
    "set_track_id",
    "simulcast",
    "UdpPortsExhausted",
]

PINNED_AIORTC_VERSION = "1.16.0"
RTP_HISTORY_SIZE = 1024


class AiortcVersionError(RuntimeError):
    pass


def check_version() -> None:
    if aiortc.__version__ != PINNED_AIORTC_VERSION:
        raise AiortcVersionError(
            f"media/aiortc_internals/ is written against aiortc {PINNED_AIORTC_VERSION}"
            f" but aiortc {aiortc.__version__} is installed: re-check every patch"
            " (tests/media/test_aiortc_internals.py) before changing the pin"
        )


def install(
    *,
    rtp_history_size: int = RTP_HISTORY_SIZE,
    audio_nack: bool = True,
    opus_fec: bool = True,
    audio_red: bool = True,
    rid_extensions: bool = True,
) -> None:
    """Apply the process-wide patches (idempotent)."""
    check_version()
    if rtp_history_size & (rtp_history_size - 1) or not 128 <= rtp_history_size <= 32768:
        raise ValueError("rtp_history_size must be a power of two in [128, 32768]")
    rtcrtpreceiver.decoder_worker = receivers._dispatching_decoder_worker
    # only ever grown: a sender files packets under seq % size, so shrinking
    # while senders run would lose history
    vars(rtcrtpsender)["RTP_HISTORY_SIZE"] = max(senders.history_size(), rtp_history_size)
    if audio_nack:
        _enable_audio_nack()
    if opus_fec:
        _enable_opus_fec()
    if audio_red:
        _enable_audio_red()
    if rid_extensions:
        simulcast.enable_rid_extensions()
    aioice.ice.Connection.connect = ice._connect_then_respect_close  # type: ignore[method-assign]
    aioice.ice.Connection.get_component_candidates = ice._gather_component  # type: ignore[method-assign]
    aioice.ice.get_host_addresses = ice._host_addresses
    consent.install()
    port_guard.install()
    native_parse.install()


def installed() -> bool:
    """Whether :func:`install` has run in this process."""
    return rtcrtpreceiver.decoder_worker is receivers._dispatching_decoder_worker


def require_installed() -> None:
    """Refuse to run the SFU on stock aiortc (it would decode, drop NACKs, trust any packet)."""
    if not installed():
        raise RuntimeError(
            "media.aiortc_internals.install() was not called: the composition root"
            " (caucus.app.create_app) applies aiortc's patches once, before any SFU"
        )


def _enable_audio_nack() -> None:
    """Opus with NACK, retransmitted on the original stream (no audio/rtx).

    An audio m-section with RTX carries two SSRCs (an ``ssrc-group:FID``), and
    Chromium's audio receiver accepts only one: it refuses the whole offer
    ("Failed to add remote stream ssrc"). Without RTX, a NACKed Opus packet is
    resent as it was, on the same SSRC, which every browser accepts.
    """
    audio = CODECS["audio"]
    opus = next(c for c in audio if c.mimeType.lower() == "audio/opus")
    if RTCRtcpFeedback(type="nack") not in opus.rtcpFeedback:
        opus.rtcpFeedback.append(RTCRtcpFeedback(type="nack"))


OPUS_FEC = {"useinbandfec": 1}


def _enable_opus_fec() -> None:
    """Offer Opus with ``a=fmtp:<pt> useinbandfec=1`` (RFC 7587).

    aiortc's Opus entry has no parameters, so its offers carry no fmtp line and
    Chromium encodes without in-band FEC. The offer is what the browser reads as
    the receiver's wish, so this one parameter turns FEC on for every publisher;
    the server forwards the FEC-carrying packets untouched. The capability list
    (``RTCRtpSender.getCapabilities``) is built from the same entry, so codec
    preferences still match it (``filter_preferred_codecs`` compares parameters).
    """
    opus = next(c for c in CODECS["audio"] if c.mimeType.lower() == "audio/opus")
    opus.parameters.update(OPUS_FEC)


RED_PAYLOAD_TYPE = 63  # Chromium's own number for audio/red; an answer keeps the offer's


def opus_payload_type() -> int:
    """The payload type every offer gives Opus (aiortc's static table)."""
    opus = next(c for c in CODECS["audio"] if c.mimeType.lower() == "audio/opus")
    assert opus.payloadType is not None  # the table's entries all carry one
    return opus.payloadType


def _enable_audio_red() -> None:
    """Register ``audio/red`` (RFC 2198) with Opus as every block's codec.

    aiortc knows no RED: without an entry here no offer can name it, and an
    answer that names it finds no common codec.  The fmtp ``96/96`` (Opus's
    payload type twice: a primary and one redundant block) is what Chromium
    checks before it sends RED; Chromium sends RED only if it is listed before
    Opus, which the SFU's codec preferences do (media.offered_codecs).  The
    payload is never decoded: the entry only carries the name, rate and fmtp.
    """
    audio = CODECS["audio"]
    if any(c.mimeType.lower() == "audio/red" for c in audio):
        return
    opus = opus_payload_type()
    audio.append(
        RTCRtpCodecParameters(
            mimeType="audio/red",
            clockRate=48000,
            channels=2,
            payloadType=RED_PAYLOAD_TYPE,
            parameters={f"{opus}/{opus}": None},
        )
    )
