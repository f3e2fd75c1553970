"""Fails loudly when the aiortc/aioice internals that media/aiortc_internals/ uses change.

If one of these fails after an upgrade, re-read the named aiortc source, adapt
media/aiortc_internals/, then update the pin and the fingerprints here.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import aioice
import aioice.ice
import aioice.stun
import aioice.turn
import aiortc
import av
import pytest
from aiortc import (
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    rtcpeerconnection,
    rtcrtpreceiver,
    rtcrtpsender,
)
from aiortc.codecs import CODECS, get_capabilities
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rate import InterArrival, OveruseEstimator, RemoteBitrateEstimator
from aiortc.rtcdtlstransport import RTCDtlsTransport, RtpRouter
from aiortc.rtcicetransport import RTCIceGatherer
from aiortc.rtcrtpsender import RTCEncodedFrame
from aiortc.rtp import HeaderExtensionsMap, RtpPacket, unpack_header_extensions

from media import aiortc_internals
from media.aiortc_internals import consent, ice, receivers, senders
from media.nack import NackScheduler
from tests.media.fingerprints import fingerprint, params

# sha256[:16] of inspect.getsource() of everything whose *behaviour* we rely on
FINGERPRINTS: dict[str, tuple[Callable[..., Any], str]] = {
    # decoder thread entry point; we dispatch around it (signature changed in 1.16)
    "rtcrtpreceiver.decoder_worker": (
        receivers._original_decoder_worker,
        "d500d4e567d6846c",
    ),
    # creates __decoder_queue, __nack_generator, __jitter_buffer, __timestamp_mapper
    "RTCRtpReceiver.__init__": (RTCRtpReceiver.__init__, "3e3b7b5cefbaac6f"),
    # starts the decoder thread on self.__decoder_queue
    "RTCRtpReceiver.receive": (RTCRtpReceiver.receive, "d6d8d8d7a0bf4e95"),
    # nack_generator.add -> .missing; jitter_buffer.add -> (pli, frame);
    # timestamp_mapper.map; decoder_queue.put((codec, frame)); _send_rtcp for REMB.
    # receivers.ForwardingReceive replaces it on forwarding receivers, step for
    # step: re-read it (and StreamStatistics.add, unwrap_rtx) when this changes
    "RTCRtpReceiver._handle_rtp_packet": (RTCRtpReceiver._handle_rtp_packet, "4e54983d021a6336"),
    # remb.UplinkEstimator stands in for it (same add() and result) and keeps its
    # grouping and rate window semantics; it reuses the filter, calling
    # update_min_frame_period, which it overrides
    "rate.RemoteBitrateEstimator.add": (RemoteBitrateEstimator.add, "f315f6c6d1995c1f"),
    "rate.InterArrival.compute_deltas": (InterArrival.compute_deltas, "efb6ffad6cc54bef"),
    "rate.InterArrival.belongs_to_burst": (InterArrival.belongs_to_burst, "80160f340668d418"),
    "rate.OveruseEstimator.update": (OveruseEstimator.update, "ff43cc70710f9024"),
    "RTCRtpReceiver._send_rtcp_pli": (RTCRtpReceiver._send_rtcp_pli, "ae74c43d50f6eb7b"),
    "RTCRtpReceiver._send_rtcp": (RTCRtpReceiver._send_rtcp, "9f0bc9f6a8ddb289"),
    # replaced per consumer sender (it would call get_encoder)
    "RTCRtpSender._next_encoded_frame": (RTCRtpSender._next_encoded_frame, "89dd9fa4fb33741c"),
    # calls self._next_encoded_frame(codec), fills __rtp_history[seq % RTP_HISTORY_SIZE]
    "RTCRtpSender._run_rtp": (RTCRtpSender._run_rtp, "ff597a1d554cb373"),
    # PLI/FIR -> self._send_keyframe(); NACK -> self._retransmit; REMB -> encoder only
    "RTCRtpSender._handle_rtcp_packet": (RTCRtpSender._handle_rtcp_packet, "a4ee4c7355f8de7a"),
    "RTCRtpSender._retransmit": (RTCRtpSender._retransmit, "ae0b2491944b52dc"),
    # registers only the media SSRC; RTX then routes by payload type alone
    "RTCDtlsTransport._register_rtp_receiver": (
        RTCDtlsTransport._register_rtp_receiver,
        "d35a385b0afb20bf",
    ),
    "RtpRouter.route_rtp": (RtpRouter.route_rtp, "e4bcc08d181438b7"),
    # creates the consent task when the check list completes, even after close();
    # close() cancels only a task that already exists; query_consent never ends
    # once close() emptied the nominated pairs
    "aioice.Connection.connect": (ice._original_ice_connect, "da51be46190141ee"),
    "aioice.Connection.close": (aioice.ice.Connection.close, "25dcfac536f5f37c"),
    # consent.query_consent replaces it: same timing, expiry and request (build_request,
    # protocol.request with the remote password); re-read it when this changes
    "aioice.Connection.query_consent": (consent._original_query_consent, "fe49173a650a378a"),
    # looks up the module-level get_host_addresses at call time
    "aioice.Connection.gather_candidates": (
        aioice.ice.Connection.gather_candidates,
        "d33db28d4d1e49ff",
    ),
    "aioice.get_host_addresses": (
        ice._original_get_host_addresses,
        "d4a54f9a68c39ff1",
    ),
    # replaced by ice._gather_component: its host gathering (StunProtocol(self),
    # local_candidate, self._protocols) is mirrored with ports in a range; STUN
    # only for host protocols, TURN independent of them
    "aioice.Connection.get_component_candidates": (
        ice._original_get_component_candidates,
        "118597a9fcb703f9",
    ),
    # Opus FEC: capabilities copy CODECS' parameters, preferences must match them
    "aiortc.codecs.get_capabilities": (get_capabilities, "32c40e75324c6be9"),
    "rtcpeerconnection.filter_preferred_codecs": (
        rtcpeerconnection.filter_preferred_codecs,
        "599df15a0c5451d5",
    ),
    # senders.send_rtp does what these do for an RTP packet: protect, count, send
    # on the nominated pair's datagram transport
    "RTCDtlsTransport._send_rtp": (RTCDtlsTransport._send_rtp, "763b02bceb0b0ab9"),
    "aioice.Connection.sendto": (aioice.ice.Connection.sendto, "bf162ec03bdce2cc"),
    # aiortc gathers inside setLocalDescription (tasks inherit the gather policy)
    "RTCIceGatherer.gather": (RTCIceGatherer.gather, "147d15cd640f570e"),
    # arrivals: calls self._handle_rtcp_data / self._handle_rtp_data only after
    # SRTP unprotect succeeded (instance attributes, so per-object wrappers apply).
    # direct._receive does what its SRTP/SRTCP branch does (counters, arrival
    # time, unprotect, the two handlers): re-read both when this changes
    "RTCDtlsTransport._recv_next": (RTCDtlsTransport._recv_next, "998076720c05aa13"),
    # native_parse: _handle_rtp_data calls its module's RtpPacket.parse(data, map), and
    # _rtp_parse.c is aiortc's parse and HeaderExtensionsMap.get in C: re-read all four
    "RTCDtlsTransport._handle_rtp_data": (RTCDtlsTransport._handle_rtp_data, "5def9061cc3da1f6"),
    "RtpPacket.parse": (vars(RtpPacket)["parse"].__func__, "22109861dfce7bab"),
    "HeaderExtensionsMap.get": (HeaderExtensionsMap.get, "7abeb1022f1d6bc1"),
    "rtp.unpack_header_extensions": (unpack_header_extensions, "d78a8585d2b6ebc5"),
    # arrivals: calls self.check_incoming only for an authenticated check
    "aioice.Connection.request_received": (
        aioice.ice.Connection.request_received,
        "dcdc9a3862c1a0b4",
    ),
}


def test_aiortc_is_the_pinned_version() -> None:
    assert aiortc.__version__ == aiortc_internals.PINNED_AIORTC_VERSION
    aiortc_internals.check_version()
    assert aioice.__version__ == "0.13.0"


@pytest.mark.parametrize("name", sorted(FINGERPRINTS))
def test_the_patched_aiortc_code_is_unchanged(name: str) -> None:
    function, expected = FINGERPRINTS[name]
    assert fingerprint(function) == expected, (
        f"{name} changed in aiortc/aioice: re-check aiortc_internals"
    )


def test_the_signatures_we_call_or_replace_are_unchanged() -> None:
    assert params(receivers._original_decoder_worker) == [
        "loop",
        "input_q",
        "output_q",
        "decode_error",
    ]
    assert params(receivers._dispatching_decoder_worker) == params(
        receivers._original_decoder_worker
    )
    assert params(RTCRtpSender._next_encoded_frame) == ["self", "codec"]
    assert params(RTCRtpSender._send_keyframe) == ["self"]
    assert params(RTCRtpSender._handle_rtcp_packet) == ["self", "packet"]
    assert params(RTCRtpReceiver._send_rtcp_pli) == ["self", "media_ssrc"]
    assert params(RTCRtpReceiver._send_rtcp) == ["self", "packet"]
    assert params(RTCEncodedFrame.__init__) == ["self", "payloads", "timestamp", "audio_level"]
    assert params(ice._original_get_host_addresses) == ["use_ipv4", "use_ipv6"]
    assert params(ice._host_addresses) == params(ice._original_get_host_addresses)
    assert params(ice._original_get_component_candidates) == [
        "self",
        "component",
        "addresses",
        "timeout",
    ]
    assert params(ice._gather_component) == params(ice._original_get_component_candidates)
    assert params(aioice.ice.StunProtocol.__init__) == ["self", "receiver"]


async def test_the_private_attributes_we_touch_exist() -> None:
    pc = RTCPeerConnection()
    try:
        transceiver = pc.addTransceiver("video", direction="recvonly")
        receiver, sender = transceiver.receiver, transceiver.sender
        for name in (
            "decoder_queue",
            "decoder_thread",
            "nack_generator",
            "jitter_buffer",
            "timestamp_mapper",
            "rtcp_ssrc",
        ):
            assert hasattr(receiver, f"_RTCRtpReceiver__{name}"), name
        assert receiver._RTCRtpReceiver__decoder_thread is None  # type: ignore[attr-defined]
        assert isinstance(receiver.transport._rtp_router.ssrc_table, dict)
        for name in ("_stream_id", "_ssrc", "_enabled"):
            assert hasattr(sender, name), name
        connection = transceiver.receiver.transport.transport._connection
        assert isinstance(connection._protocols, list)
        assert hasattr(aioice.ice.StunProtocol, "datagram_received")
        assert "transport" in aioice.ice.StunProtocol.__annotations__
        assert isinstance(aioice.ice.CONSENT_INTERVAL, int | float)
        assert isinstance(aioice.ice.CONSENT_FAILURES, int)
        assert isinstance(connection._nominated, dict)
        assert isinstance(aioice.turn.UDP_SOCKET_BUFFER_SIZE, int)
        assert isinstance(aioice.ice.CandidatePair.local_candidate, property)
        remote = aioice.Candidate("f", 1, "udp", 1, "192.0.2.1", 9, "host")
        pair = aioice.ice.CandidatePair(aioice.ice.StunProtocol(connection), remote)
        assert pair.remote_candidate is remote
        assert pair.remote_addr == ("192.0.2.1", 9)  # senders.send_rtp
        dtls = sender.transport
        for name in ("_state", "_tx_srtp", "_RTCDtlsTransport__tx_bytes"):
            assert hasattr(dtls, name), name
        assert hasattr(dtls, "_RTCDtlsTransport__tx_packets")
        extensions_map = sender._RTCRtpSender__rtp_header_extensions_map
        assert hasattr(extensions_map, "_HeaderExtensionsMap__ids")
    finally:
        await pc.close()


def test_install_patches_history_codecs_and_the_decoder_worker() -> None:
    aiortc_internals.install()
    assert rtcrtpreceiver.decoder_worker is receivers._dispatching_decoder_worker
    assert aioice.ice.Connection.connect is ice._connect_then_respect_close
    assert aioice.ice.Connection.get_component_candidates is ice._gather_component
    assert vars(rtcrtpsender)["RTP_HISTORY_SIZE"] == senders.history_size() >= 1024
    assert "% RTP_HISTORY_SIZE" in inspect.getsource(RTCRtpSender._retransmit)
    audio = {c.mimeType.lower(): c for c in CODECS["audio"]}
    # Chromium refuses an audio m-section with two SSRCs: NACK without audio/rtx.
    assert "audio/rtx" not in audio
    assert any(f.type == "nack" for f in audio["audio/opus"].rtcpFeedback)


def _packet(seq: int) -> RtpPacket:
    return RtpPacket(sequence_number=seq, timestamp=seq * 3000)


def test_aiortc_never_nacks_a_lost_retransmission_again_so_we_replace_it() -> None:
    """Characterises the aiortc behaviour NackScheduler exists for."""
    stock = rtcrtpreceiver.NackGenerator()
    now = [0.0]
    ours = NackScheduler(lambda: now[0], initial_rtt=0.1, redundancy=1)
    stock_nacks: list[int] = []
    our_nacks: list[int] = []
    for seq in [1, 2, 4, 5, 6, 7, 8, 9, 10]:  # 3 lost, and its retransmission too
        now[0] += 0.05
        if stock.add(_packet(seq)):
            stock_nacks += sorted(stock.missing)
        if ours.add(_packet(seq)):
            our_nacks += ours.missing
    assert stock_nacks == [3]
    assert our_nacks.count(3) >= 2


def test_the_receiver_still_stores_each_depayloaded_payload_where_we_read_it() -> None:
    assert "packet._data = depayload(" in inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    packet = RtpPacket()
    packet._data = b"vp8"  # type: ignore[attr-defined]
    assert aiortc_internals.depayloaded(packet) == b"vp8"


def test_a_track_id_is_still_the_private_attribute_we_rename() -> None:
    class Track(MediaStreamTrack):
        async def recv(self) -> av.Packet[Any]:
            raise NotImplementedError

    track = Track()
    aiortc_internals.set_track_id(track, "party_a-video")
    assert track.id == "party_a-video"


async def test_arrivals_count_what_the_peer_sends_and_nothing_before() -> None:
    """count_arrivals wraps instance methods that aiortc/aioice look up at call time."""
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("audio", direction="recvonly")
        arrivals = aiortc_internals.count_arrivals(pc)
        dtls = pc.getTransceivers()[0].receiver.transport
        assert params(dtls._handle_rtp_data) == ["data", "arrival_time_ms"]
        assert params(dtls._handle_rtcp_data) == ["data"]
        connection = dtls.transport._connection
        assert params(connection.check_incoming) == ["message", "addr", "protocol"]
        assert arrivals.total == 0
        await dtls._handle_rtcp_data(b"")  # unparsable: counted as arrived, then dropped
        assert (arrivals.rtp, arrivals.rtcp, arrivals.checks) == (0, 1, 0)
    finally:
        await pc.close()


def _opus_fmtp(sdp: str) -> str:
    payload_type = next(
        line.split()[0].split(":")[1] for line in sdp.splitlines() if "opus/48000" in line
    )
    return next(line for line in sdp.splitlines() if line.startswith(f"a=fmtp:{payload_type} "))


async def test_the_sfus_opus_offer_asks_for_in_band_fec_and_an_answer_keeps_it() -> None:
    aiortc_internals.install()
    offerer, answerer = RTCPeerConnection(), RTCPeerConnection()
    try:
        transceiver = offerer.addTransceiver("audio", direction="recvonly")
        # the SFU's own preferences (media.offered_codecs.codec_preferences)
        transceiver.setCodecPreferences(
            [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.mimeType == "audio/opus"]
        )
        await offerer.setLocalDescription(await offerer.createOffer())
        assert "useinbandfec=1" in _opus_fmtp(offerer.localDescription.sdp)
        await answerer.setRemoteDescription(offerer.localDescription)
        await answerer.setLocalDescription(await answerer.createAnswer())
        assert "useinbandfec=1" in _opus_fmtp(answerer.localDescription.sdp)
        await offerer.setRemoteDescription(answerer.localDescription)
        assert transceiver.receiver is not None
    finally:
        await offerer.close()
        await answerer.close()


def test_nothing_is_patched_on_import_and_an_sfu_refuses_stock_aiortc() -> None:
    """The composition root installs the patches once; an Sfu built before that refuses."""
    script = (
        "import asyncio\n"
        "import caucus.app\n"
        "from media import aiortc_internals\n"
        "from media.sfu import Sfu\n"
        "assert not aiortc_internals.installed(), 'patched on import'\n"
        "async def noop(*args):\n"
        "    pass\n"
        "try:\n"
        "    Sfu(noop)\n"
        "except RuntimeError as exc:\n"
        "    print('refused:', exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert "refused: media.aiortc_internals.install() was not called" in done.stdout
