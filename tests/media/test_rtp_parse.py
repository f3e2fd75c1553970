"""The RTP parse in C (``_rtp_parse.c``) against aiortc's ``RtpPacket.parse``, packet for
packet, and its VP8 depayload against aiortc's ``vp8_depayload``, payload for payload:
the same fields and header extensions from the same bytes, and a refusal
(ValueError) wherever aiortc refuses.  Where aiortc lets a ``struct.error`` escape (an
extension element of the wrong length) the C refuses with a ValueError: the caller
drops the packet either way.

The bytes are generated as a hostile sender would shape them: well-formed packets with
any flags, CSRCs, one- and two-byte extension elements, padding; then truncated or with
bytes overwritten; and plain noise.  The extension map is generated too (any id for
any extension, ids shared or missing).  ``CAUCUS_FUZZ_SCALE`` multiplies the cases.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import pylibsrtp
import pytest
from aiortc.codecs.vpx import vp8_depayload
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pylibsrtp import Policy, Session

from media.aiortc_internals import _rtp_parse, native_parse

URIS = [
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "urn:ietf:params:rtp-hdrext:toffset",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
]
SCALE = int(os.environ.get("CAUCUS_FUZZ_SCALE", "1"))
FIELDS = ("version", "marker", "payload_type", "sequence_number", "timestamp", "ssrc")


@pytest.fixture(autouse=True, scope="module")
def _configured() -> None:
    native_parse.configure_native()  # whatever CAUCUS_RTP_PARSE says: the C is tested here


def extensions_map(ids: list[int | None]) -> HeaderExtensionsMap:
    configured = HeaderExtensionsMap()
    configured.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=i, uri=uri)
                for i, uri in zip(ids, URIS, strict=True)
                if i is not None
            ]
        )
    )
    return configured


def outcome(parse: Any, data: bytes, configured: HeaderExtensionsMap) -> Any:
    """What a parse made of ``data``: the packet's fields, or that it refused."""
    try:
        packet = parse(data, configured)
    except (ValueError, struct.error):
        return "refused"
    return (
        tuple(getattr(packet, name) for name in FIELDS),
        packet.csrc,
        packet.extensions,
        packet.payload,
        packet.padding_size,
    )


SIZES = [None, None, None, 3, 3, 1, 2]  # each extension's value size (None: text)
BROWSER_IDS: list[int | None] = [1, 2, 3, 4, 5, 6, 7]


@st.composite
def elements(draw: st.DrawFn, ids: list[int | None], two_byte: bool) -> bytes:
    """Extension elements, mostly of configured extensions at their right size."""
    out = b""
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 5)) == 0:
            out += b"\x00"  # padding between elements
            continue
        kind = draw(st.integers(0, 6))
        x_id = ids[kind] if ids[kind] is not None and draw(st.integers(0, 4)) else None
        if x_id is None:
            x_id = draw(st.integers(1, 20 if two_byte else 15))
        size = SIZES[kind] if draw(st.integers(0, 3)) else None
        if size is None:
            value = draw(
                st.text(max_size=8).map(lambda t: t.encode()) | st.binary(min_size=1, max_size=16)
            )
        else:
            value = draw(st.binary(min_size=size, max_size=size))
        if two_byte:
            out += bytes([x_id, len(value)]) + value
        elif 1 <= len(value) <= 16:  # one-byte ids are 1-15: a larger one wraps
            out += bytes([(x_id & 0x0F) << 4 | (len(value) - 1)]) + value
    return out


@st.composite
def packets(draw: st.DrawFn, ids: list[int | None]) -> bytes:
    cc = draw(st.sampled_from([0, 0, 0, 1, 2, 15]))
    padding = draw(st.booleans())
    profile = draw(st.sampled_from([0xBEDE, 0xBEDE, 0x1000, 0x1234]))
    extension = draw(st.booleans())
    first = draw(st.sampled_from([2, 2, 2, 2, 1, 3])) << 6 | padding << 5 | extension << 4 | cc
    data = struct.pack(
        "!BBHLL",
        first,
        draw(st.integers(0, 255)),
        draw(st.integers(0, 0xFFFF)),
        draw(st.integers(0, 0xFFFFFFFF)),
        draw(st.integers(0, 0xFFFFFFFF)),
    )
    data += b"".join(struct.pack("!L", draw(st.integers(0, 0xFFFFFFFF))) for _ in range(cc))
    if extension:
        value = draw(elements(ids, profile == 0x1000))
        value += b"\x00" * (-len(value) % 4)
        data += struct.pack("!HH", profile, len(value) // 4) + value
    payload = draw(st.binary(max_size=40))
    data += payload
    if padding:  # around the boundary of what the packet holds after its header
        size = draw(st.sampled_from([0, 1, 2, 255]) | st.integers(len(payload), len(payload) + 2))
        data += b"\x00" * draw(st.integers(0, 3)) + bytes([size & 0xFF])
    if draw(st.integers(0, 4)) == 0:  # now and then truncated, or a byte overwritten
        data = data[: draw(st.integers(0, len(data)))]
    if data and draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data


IDS = st.just(BROWSER_IDS) | st.lists(
    st.one_of(st.none(), st.integers(1, 20)), min_size=7, max_size=7
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[bytes, list[int | None]]:
    ids = draw(IDS)
    return draw(packets(ids) | st.binary(max_size=80)), ids


@settings(max_examples=3000 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_the_c_parse_makes_what_aiortcs_makes_of_any_bytes(
    case: tuple[bytes, list[int | None]],
) -> None:
    data, ids = case
    configured = extensions_map(ids)
    assert outcome(_rtp_parse.parse, data, configured) == outcome(RtpPacket.parse, data, configured)


def test_a_packet_as_browsers_send_it() -> None:
    configured = extensions_map([1, 10, 9, 3, None, 2, None])
    sent = RtpPacket(payload_type=96, marker=1, sequence_number=65535, timestamp=2**32 - 1, ssrc=7)
    sent.csrc = [1, 2]
    sent.extensions.mid = "0"
    sent.extensions.rtp_stream_id = "h"
    sent.extensions.abs_send_time = 0xABCDEF
    sent.extensions.audio_level = (True, 127)
    sent.payload = b"\x90\x80" + bytes(range(200))
    sent.padding_size = 4
    data = sent.serialize(configured)
    parsed = _rtp_parse.parse(data, configured)
    assert type(parsed) is RtpPacket
    assert outcome(_rtp_parse.parse, data, configured) == outcome(RtpPacket.parse, data, configured)
    assert parsed.extensions == sent.extensions and parsed.payload == sent.payload


def test_refusals_name_what_is_wrong() -> None:
    configured = extensions_map([1, None, None, 3, None, None, None])
    with pytest.raises(ValueError, match="less than 12 bytes"):
        _rtp_parse.parse(b"\x80" * 11, configured)
    with pytest.raises(ValueError, match="invalid version"):
        _rtp_parse.parse(b"\x40" + b"\x00" * 11, configured)
    # abs-send-time of two bytes: aiortc raises struct.error, the C a ValueError
    wrong = struct.pack("!BBHLL", 0x90, 96, 1, 1, 1) + struct.pack("!HH", 0xBEDE, 1)
    wrong += bytes([3 << 4 | 1, 1, 2, 0])
    with pytest.raises(struct.error):
        RtpPacket.parse(wrong, configured)
    with pytest.raises(ValueError, match="abs_send_time has the wrong length"):
        _rtp_parse.parse(wrong, configured)
    with pytest.raises(TypeError):
        _rtp_parse.parse("not bytes", configured)  # type: ignore[arg-type]


def depayloaded(depayload: Any, payload: bytes) -> Any:
    """What a VP8 depayload made of ``payload``: the VP8 data, or why it refused."""
    try:
        return depayload(payload)
    except ValueError as refusal:
        return f"refused: {refusal}"


@st.composite
def vp8_payloads(draw: st.DrawFn) -> bytes:
    """A VP8 payload descriptor (RFC 7741 4.2) with any of its optional fields, then
    data; now and then cut short anywhere."""
    first = draw(st.integers(0, 255))
    data = bytes([first])
    if first & 0x80:  # X: the extended control bits
        control = draw(st.integers(0, 255))
        data += bytes([control])
        if control & 0x80:  # I: a 7- or 15-bit picture id
            long_id = draw(st.booleans())
            data += bytes([long_id << 7 | draw(st.integers(0, 127))])
            data += bytes([draw(st.integers(0, 255))]) if long_id else b""
        if control & 0x40:  # L: TL0PICIDX
            data += bytes([draw(st.integers(0, 255))])
        if control & 0x30:  # T or K: one byte for both
            data += bytes([draw(st.integers(0, 255))])
    data += draw(st.binary(max_size=24) | st.binary(min_size=200, max_size=1300))
    if draw(st.integers(0, 2)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


@settings(max_examples=2000 * SCALE, deadline=None)
@given(payload=vp8_payloads() | st.binary(max_size=8))
def test_the_c_vp8_depayload_takes_off_what_aiortcs_takes_off(payload: bytes) -> None:
    assert depayloaded(_rtp_parse.vp8_depayload, payload) == depayloaded(vp8_depayload, payload)


def test_vp8_depayload_refusals() -> None:
    assert _rtp_parse.vp8_depayload(b"\x10\x9d") == b"\x9d"  # S=1, no extension
    # X, I (long picture id), L, T/K: five descriptor bytes
    assert _rtp_parse.vp8_depayload(b"\x90\xf0\x81\x02\x03\x04data") == b"data"
    with pytest.raises(ValueError, match="too short"):
        _rtp_parse.vp8_depayload(b"")
    with pytest.raises(ValueError, match="truncated long PictureID"):
        _rtp_parse.vp8_depayload(b"\x90\x80\x81")
    with pytest.raises(TypeError, match="must be bytes"):
        _rtp_parse.vp8_depayload(bytearray(b"\x10\x00"))  # type: ignore[arg-type]


#: (profile, key and salt length) of each SRTP profile aiortc negotiates
PROFILES = [(Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 30), (Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 28)]


def srtp_sessions(profile: int, key_length: int) -> tuple[Session, Session, Session]:
    """A sending session and two receiving ones (each keeps its own replay window)."""
    key = bytes(range(key_length))
    inbound = [
        Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile))
        for _ in range(2)
    ]
    sending = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
    return sending, inbound[0], inbound[1]


def unprotected(unprotect: Any, session: Session, packet: bytes) -> Any:
    try:
        return unprotect(session, packet)
    except pylibsrtp.Error as refusal:
        return f"refused: {refusal}"


@st.composite
def srtp_traffic(draw: st.DrawFn) -> list[tuple[str, int, int, int]]:
    """What a path does to a sender's packets: (what, sequence step, payload size, at)."""
    return draw(
        st.lists(
            st.tuples(
                st.sampled_from(["send", "send", "send", "replay", "flip", "cut", "late"]),
                st.integers(1, 3),
                st.integers(0, 1300),  # what pylibsrtp protects: 1,500 bytes less its trailer
                st.integers(0, 10_000),
            ),
            min_size=1,
            max_size=30,
        )
    )


@settings(max_examples=300 * SCALE, deadline=None)
@given(traffic=srtp_traffic(), which=st.sampled_from(PROFILES), ssrc=st.integers(0, 2**32 - 1))
def test_the_c_unprotect_accepts_and_refuses_what_pylibsrtps_does(
    traffic: list[tuple[str, int, int, int]], which: tuple[int, int], ssrc: int
) -> None:
    sending, for_c, for_python = srtp_sessions(*which)
    sequence, sent, held = 0, list[bytes](), list[bytes]()
    for what, step, size, at in traffic:
        sequence = (sequence + step) & 0xFFFF
        plain = struct.pack("!BBHLL", 0x80, 96, sequence, sequence * 3000, ssrc)
        packet = sending.protect(plain + bytes([size & 0xFF]) * size)
        if what == "replay" and sent:
            packet = sent[at % len(sent)]
        elif what == "flip":
            packet = (
                packet[: at % len(packet)]
                + bytes([packet[at % len(packet)] ^ 0x20])
                + (packet[at % len(packet) + 1 :])
            )
        elif what == "cut":
            packet = packet[: at % len(packet)]
        elif what == "late":  # held back, delivered after the next one
            held.append(packet)
            continue
        for arriving in [packet, *held]:
            sent.append(arriving)
            c = unprotected(_rtp_parse.unprotect, for_c, arriving)
            assert c == unprotected(native_parse.python_unprotect, for_python, arriving)
        held = []


def test_unprotect_refusals() -> None:
    sending, receiving, _ = srtp_sessions(*PROFILES[0])
    packet = sending.protect(struct.pack("!BBHLL", 0x80, 96, 1, 1, 7) + b"payload")
    assert _rtp_parse.unprotect(receiving, packet).endswith(b"payload")
    with pytest.raises(pylibsrtp.Error, match="replay"):
        _rtp_parse.unprotect(receiving, packet)
    with pytest.raises(TypeError, match="packet must be bytes"):
        _rtp_parse.unprotect(receiving, bytearray(packet))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="2 arguments"):
        _rtp_parse.unprotect(receiving)  # type: ignore[call-arg]
    with pytest.raises(AttributeError):
        _rtp_parse.unprotect(object(), packet)  # not a session: no srtp_t to find


def test_install_puts_the_c_parse_where_aiortc_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiortc import rtcdtlstransport

    try:
        native_parse.install({"CAUCUS_RTP_PARSE": "python"})
        assert vars(rtcdtlstransport)["RtpPacket"] is RtpPacket
        assert native_parse.installed() == "python"
        assert native_parse.DEPAYLOAD["VP8"] is vp8_depayload
        assert native_parse.unprotect is native_parse.python_unprotect
        native_parse.install({"CAUCUS_RTP_PARSE": "native"})
        assert native_parse.installed() == "native"
        assert vars(rtcdtlstransport)["RtpPacket"].parse is _rtp_parse.parse
        assert native_parse.DEPAYLOAD["VP8"] is _rtp_parse.vp8_depayload
        assert native_parse.unprotect is _rtp_parse.unprotect
        with pytest.raises(ValueError, match="CAUCUS_RTP_PARSE must be one of"):
            native_parse.install({"CAUCUS_RTP_PARSE": "fast"})
    finally:
        native_parse.install()
