"""Is a client's SDP answer or ICE candidate one the server should apply?  Pure checks.

aiortc parses what it is given with `assert`s and `int()`s (an AssertionError,
KeyError or StopIteration for a malformed line) and applies an answer m-section
by m-section, so an answer that fails half-way (no common codec in the third
m-section) leaves the peer connection half-changed; a wrong fingerprint or a
codec never offered is accepted and fails later, inside DTLS or the receiver.
Everything here runs *before* aiortc sees the text: a refused answer or
candidate raises :class:`SdpRejected` (a ValueError, which signalling answers
with `bad_request`) with a short reason, and the peer connection is untouched.

The answer must match the outstanding offer (JSEP, RFC 8829 §5.3; RFC 3264 §6):
the same m-sections in the same order (kind and mid), codecs and header
extensions only from those offered with the offered payload types and ids, a
direction compatible with the offered one, rtcp-mux, one BUNDLE group holding
every offered mid with the offer's first mid first (the server bundles
everything on the first transport), ICE credentials of sane length and a DTLS
fingerprint with an algorithm aiortc verifies.
"""

from __future__ import annotations

import ipaddress
import re

from aiortc import RTCIceCandidate
from aiortc.sdp import MediaDescription, SessionDescription, candidate_from_sdp

from media.sdp_grammar import SdpRejected, check_lines, require
from media.simulcast_sdp import answered_rids

__all__ = ["SdpRejected", "check_answer", "check_candidate"]

MAX_CANDIDATE_CHARS = 512
MAX_CANDIDATES_PER_MEDIA = 32
#: what aiortc's DTLS transport can check a certificate with (rtcdtlstransport.py)
FINGERPRINT_BYTES = {"sha-256": 32, "sha-384": 48, "sha-512": 64}
#: the directions an answer may take for each offered one (RFC 3264 §6.1)
ANSWER_DIRECTIONS = {
    "sendrecv": {"sendrecv", "sendonly", "recvonly", "inactive"},
    "sendonly": {"recvonly", "inactive"},
    "recvonly": {"sendonly", "inactive"},
    "inactive": {"inactive"},
}
CANDIDATE_TYPES = {"host", "srflx", "prflx", "relay"}
TCP_TYPES = {"active", "passive", "so"}

_ICE_CHARS = re.compile(r"^[A-Za-z0-9+/]+$")
_FINGERPRINT = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2})*$")
_TOKEN = re.compile(r"^[\x21-\x7e]{1,64}$")
_MDNS_NAME = re.compile(r"^[A-Za-z0-9-]{1,63}\.local$")


def _parse(sdp: str) -> SessionDescription:
    check_lines(sdp)
    try:
        return SessionDescription.parse(sdp)
    except Exception as exc:  # aiortc's parser asserts and indexes: any failure is bad input
        raise SdpRejected(f"the SDP does not parse ({type(exc).__name__})") from None


def check_answer(offer_sdp: str, answer_sdp: str) -> None:
    """Raise SdpRejected unless `answer_sdp` is a well-formed answer to `offer_sdp`."""
    offer = SessionDescription.parse(offer_sdp)  # ours: aiortc wrote it
    answer = _parse(answer_sdp)
    require(
        len(answer.media) == len(offer.media),
        f"the answer has {len(answer.media)} m-sections, the offer {len(offer.media)}",
    )
    for index, (offered, answered) in enumerate(zip(offer.media, answer.media, strict=True)):
        where = f"m-section {index}"
        require(answered.kind == offered.kind, f"{where} must be {offered.kind}")
        mid = offered.rtp.muxId
        require(answered.rtp.muxId == mid, f"{where} must have mid {mid}")
        require(answered.profile == offered.profile, f"{where} must use {offered.profile}")
        # Port 0 rejects an m-section (RFC 3264 §6); every one offered here is needed.
        require(0 < answered.port <= 65535, f"{where} has a bad port (rejected?)")
        _check_codecs(where, offered, answered)
        _check_transport(where, answered)
        require(
            answered.direction in ANSWER_DIRECTIONS[offered.direction or "sendrecv"],
            f"{where} may not be {answered.direction or 'without a direction'} "
            f"when offered {offered.direction}",
        )
    _check_bundle(offer, answer)
    answered_rids(offer_sdp, answer_sdp)


def _check_codecs(where: str, offered: MediaDescription, answered: MediaDescription) -> None:
    by_type = {c.payloadType: c for c in offered.rtp.codecs}
    require(len(answered.fmt) == len(set(answered.fmt)), f"{where} repeats a payload type")
    for payload_type in answered.fmt:
        require(payload_type in by_type, f"{where}: payload type {payload_type} was not offered")
    mapped = set()
    for codec in answered.rtp.codecs:
        ours = by_type.get(codec.payloadType)
        require(ours is not None and codec.payloadType in answered.fmt, f"{where}: stray rtpmap")
        assert ours is not None
        require(
            (codec.mimeType.lower(), codec.clockRate, codec.channels)
            == (ours.mimeType.lower(), ours.clockRate, ours.channels),
            f"{where} changes codec {codec.payloadType}",
        )
        mapped.add(codec.payloadType)
        apt = codec.parameters.get("apt")
        if codec.mimeType.lower().endswith("/rtx"):
            require(apt in answered.fmt, f"{where}: RTX without its media codec")
    require(set(answered.fmt) <= mapped, f"{where} has a payload type without rtpmap")
    media = [c for c in answered.rtp.codecs if not c.mimeType.lower().endswith("/rtx")]
    require(bool(media), f"{where} accepts none of the offered codecs")
    offered_extensions = {e.uri: e.id for e in offered.rtp.headerExtensions}
    for extension in answered.rtp.headerExtensions:
        require(
            offered_extensions.get(extension.uri) == extension.id,
            f"{where} answers header extension {extension.id}, not offered",
        )
    for ssrc in answered.ssrc:
        require(0 < ssrc.ssrc < 2**32, f"{where} has a bad SSRC")
    for group in answered.ssrc_group:
        require(all(0 < int(i) < 2**32 for i in group.items), f"{where} has a bad SSRC group")


def _check_transport(where: str, answered: MediaDescription) -> None:
    require(answered.rtcp_mux, f"{where} must use rtcp-mux")
    if answered.rtcp_port is not None:
        require(0 <= answered.rtcp_port <= 65535, f"{where} has a bad rtcp port")
    for host in (answered.host, answered.rtcp_host):
        if host is not None:
            require(_is_address(host), f"{where} has a bad connection address")
    ice = answered.ice
    require(ice is not None, f"{where} has no ICE parameters")
    assert ice is not None
    ufrag, pwd = ice.usernameFragment or "", ice.password or ""
    require(4 <= len(ufrag) <= 256 and bool(_ICE_CHARS.match(ufrag)), f"{where}: bad ice-ufrag")
    require(22 <= len(pwd) <= 256 and bool(_ICE_CHARS.match(pwd)), f"{where}: bad ice-pwd")
    require(not ice.iceLite, f"{where}: an ice-lite client cannot answer this server")
    dtls = answered.dtls  # None without a=setup
    require(
        dtls is not None and dtls.role in ("client", "server"),
        f"{where}: a=setup must be active or passive",
    )
    assert dtls is not None
    require(bool(dtls.fingerprints), f"{where} needs a DTLS fingerprint")
    algorithms = [f.algorithm for f in dtls.fingerprints]
    require(len(algorithms) == len(set(algorithms)), f"{where}: one fingerprint per algorithm")
    for fingerprint in dtls.fingerprints:
        size = FINGERPRINT_BYTES.get(fingerprint.algorithm)
        require(size is not None, f"{where}: fingerprint algorithm must be sha-256/384/512")
        assert size is not None
        require(
            bool(_FINGERPRINT.match(fingerprint.value)) and len(fingerprint.value) == 3 * size - 1,
            f"{where}: malformed {fingerprint.algorithm} fingerprint",
        )
    require(
        len(answered.ice_candidates) <= MAX_CANDIDATES_PER_MEDIA, f"{where}: too many candidates"
    )
    for candidate in answered.ice_candidates:
        _check_candidate_fields(candidate)


def _check_bundle(offer: SessionDescription, answer: SessionDescription) -> None:
    offered = next((g.items for g in offer.group if g.semantic == "BUNDLE"), None)
    bundles = [g.items for g in answer.group if g.semantic == "BUNDLE"]
    if offered is None:
        require(not bundles, "the answer bundles what the offer did not")
        return
    require(len(bundles) == 1, "the answer must have one BUNDLE group")
    items = [str(i) for i in bundles[0]]
    require(
        sorted(items) == sorted(map(str, offered)) and items[0] == str(offered[0]),
        "the answer must bundle every m-section, the first one first",
    )


# -- candidates ----------------------------------------------------------------


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_MDNS_NAME.match(host))
    return True


def _check_candidate_fields(candidate: RTCIceCandidate) -> None:
    require(1 <= len(candidate.foundation) <= 32, "bad candidate foundation")
    require(bool(_ICE_CHARS.match(candidate.foundation)), "bad candidate foundation")
    require(candidate.component == 1, "only component 1 (rtcp-mux)")
    require(candidate.protocol.lower() in ("udp", "tcp"), "candidate protocol must be udp or tcp")
    require(0 < candidate.priority < 2**32, "candidate priority out of range")
    require(_is_address(candidate.ip), "candidate address is not an IP or mDNS name")
    require(1 <= candidate.port <= 65535, "candidate port out of range")
    require(candidate.type in CANDIDATE_TYPES, "unknown candidate type")
    if candidate.relatedAddress is not None:
        require(_is_address(candidate.relatedAddress), "bad candidate raddr")
    if candidate.relatedPort is not None:
        require(0 <= candidate.relatedPort <= 65535, "bad candidate rport")
    if candidate.tcpType is not None:
        require(candidate.tcpType in TCP_TYPES, "bad candidate tcptype")


def check_candidate(line: str) -> RTCIceCandidate:
    """A trickled candidate line ("candidate:..." or without the prefix), parsed and checked."""
    require(len(line) <= MAX_CANDIDATE_CHARS, "the candidate is too long")
    if line.startswith("candidate:"):
        line = line[len("candidate:") :]
    bits = line.split(" ")
    require(8 <= len(bits) <= 40 and all(map(_TOKEN.match, bits)), "malformed candidate")
    require(bits[6] == "typ", "malformed candidate: no 'typ'")
    require(
        all(bits[i].isdigit() for i in (1, 3, 5)), "candidate component, priority, port: digits"
    )
    require(len(bits) % 2 == 0, "malformed candidate: an attribute without a value")
    for key, value in zip(bits[8::2], bits[9::2], strict=True):
        if key == "rport":
            require(value.isdigit() and len(value) <= 5, "bad candidate rport")
    try:
        candidate = candidate_from_sdp(line)
    except Exception as exc:  # aiortc asserts and int()s: any failure is bad input
        raise SdpRejected(f"malformed candidate ({type(exc).__name__})") from None
    _check_candidate_fields(candidate)
    return candidate
