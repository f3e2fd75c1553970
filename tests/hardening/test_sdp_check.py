"""media.sdp_check on a real aiortc offer and answer: what is refused, and why."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from media.sdp_check import SdpRejected, check_answer, check_candidate
from media.seat_connection import codec_preferences
from sessions.media_kinds import MediaKind

Pair = tuple[str, str]


@pytest.fixture
async def offer_and_answer() -> AsyncIterator[Pair]:
    """The server's first offer (audio and video to publish on) and a client's answer."""
    config = RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    server, client = RTCPeerConnection(config), RTCPeerConnection(config)
    for kind in (MediaKind.AUDIO, MediaKind.VIDEO):
        transceiver = server.addTransceiver(kind.value, direction="recvonly")
        transceiver.setCodecPreferences(codec_preferences(kind))
    # both ends gather on loopback only: tests/conftest.py's gather policy
    await server.setLocalDescription(await server.createOffer())
    await client.setRemoteDescription(RTCSessionDescription(server.localDescription.sdp, "offer"))
    answer = await client.createAnswer()
    yield server.localDescription.sdp, answer.sdp
    await server.close()
    await client.close()


def edit(sdp: str, pattern: str, replacement: str) -> str:
    """Every match of `pattern` (lines end with \\n here) replaced; CRLF put back."""
    lines = sdp.replace("\r\n", "\n")
    changed = re.sub(pattern, replacement, lines, flags=re.MULTILINE)
    assert changed != lines, pattern
    return changed.replace("\n", "\r\n")


REFUSED = {
    "not SDP": (r"\A.*", "hello", "starts with v=0"),
    "bare CR": (r"\n", "\r", "CRLF or LF"),
    "an m-section dropped": (r"^m=video[\s\S]*\Z", "", "m-sections"),
    "mids swapped": (r"^a=mid:0$", "a=mid:7", "mid 0"),
    "a codec never offered": (r"^a=rtpmap:(\d+) opus/48000/2", r"a=rtpmap:\1 PCMU/8000", "codec"),
    "a payload type never offered": (r"^(m=audio \S+ \S+) (\d+)", r"\1 \2 111", "not offered"),
    "sendrecv to a recvonly offer": (r"^a=(sendonly|inactive)$", "a=sendrecv", "may not be"),
    "no direction": (r"^a=(sendonly|inactive)\n", "", "without a direction"),
    "no fingerprint": (r"^a=fingerprint:.*\n", "", "fingerprint"),
    "a sha-1 fingerprint": (r"^a=fingerprint:sha-256", "a=fingerprint:sha-1", "sha-256"),
    "a short fingerprint": (r"^(a=fingerprint:sha-256 \S{5})\S*", r"\1", "fingerprint"),
    "a short ice-ufrag": (r"^a=ice-ufrag:.*", "a=ice-ufrag:ab", "ice-ufrag"),
    "a short ice-pwd": (r"^a=ice-pwd:.*", "a=ice-pwd:short", "ice-pwd"),
    "no BUNDLE": (r"^a=group:BUNDLE.*\n", "", "BUNDLE"),
    "BUNDLE reordered": (r"^a=group:BUNDLE 0 1", "a=group:BUNDLE 1 0", "bundle"),
    "a rejected m-section": (r"^m=audio \d+", "m=audio 0", "port"),
    "actpass in an answer": (r"^a=setup:\w+", "a=setup:actpass", "active or passive"),
    "no rtcp-mux": (r"^a=rtcp-mux\n", "", "rtcp-mux"),
    "a repeated mid": (r"^(a=mid:0)$", r"\1\n\1", "repeats"),
    "an unknown attribute": (r"^(a=mid:0)$", r"\1\na=x-google-flag:conference", "unexpected"),
    "a header extension never offered": (r"^(a=mid:0)$", r"\1\na=extmap:14 urn:x", "extension"),
    "a control character": (r"^s=-", "s=-\x00", "not an SDP line"),
    "ice-lite": (r"^(t=0 0)$", r"\1\na=ice-lite", "ice-lite"),
}


async def test_the_genuine_answer_passes(offer_and_answer: Pair) -> None:
    check_answer(*offer_and_answer)


async def test_a_session_level_direction_passes_as_firefox_writes_it(
    offer_and_answer: Pair,
) -> None:
    offer, answer = offer_and_answer
    check_answer(offer, edit(answer, r"^(t=0 0)$", r"\1\na=sendrecv"))


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_a_broken_answer_is_refused_with_its_reason(
    offer_and_answer: Pair, case: str
) -> None:
    offer, answer = offer_and_answer
    pattern, replacement, reason = REFUSED[case]
    with pytest.raises(SdpRejected) as refused:
        check_answer(offer, edit(answer, pattern, replacement))
    assert reason.lower() in str(refused.value).lower(), str(refused.value)


GOOD_CANDIDATE = "candidate:842163049 1 udp 1677729535 127.0.0.1 55643 typ srflx raddr 127.0.0.1 rport 55643 generation 0 ufrag 7aXE network-cost 999"  # noqa: E501


@pytest.mark.parametrize(
    "line",
    [
        GOOD_CANDIDATE,
        "1 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active",
        "candidate:1 1 UDP 2122260223 ::1 50000 typ host",
        "candidate:1 1 udp 2122260223 0d5e2f3a-9b1c-4c5e-8f00-6a7b8c9d0e1f.local 50000 typ host",
    ],
)
def test_a_browser_candidate_passes(line: str) -> None:
    check_candidate(line)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "candidate:",
        "candidate:1 1 udp 1 127.0.0.1 9 typ",
        "candidate:1 2 udp 2122260223 127.0.0.1 50000 typ host",
        "candidate:1 1 sctp 2122260223 127.0.0.1 50000 typ host",
        "candidate:1 1 udp 0 127.0.0.1 50000 typ host",
        "candidate:1 1 udp 99999999999 127.0.0.1 50000 typ host",
        "candidate:1 1 udp 1 999.0.0.1 50000 typ host",
        "candidate:1 1 udp 1 localhost 50000 typ host",
        "candidate:1 1 udp 1 127.0.0.1 0 typ host",
        "candidate:1 1 udp 1 127.0.0.1 65536 typ host",
        "candidate:1 1 udp 1 127.0.0.1 9 type host",
        "candidate:1 1 udp 1 127.0.0.1 9 typ relayed",
        "candidate:1 1 udp 1 127.0.0.1 9 typ srflx raddr x rport 1",
        "candidate:1 1 udp 1 127.0.0.1 9 typ host rport 99999999",
        "candidate:1 1 tcp 1 127.0.0.1 9 typ host tcptype sideways",
        "candidate:1 1 udp 1 127.0.0.1 9 typ host generation",
        "candidate:1 1 udp 1 127.0.0.1 9 typ host " + "x y " * 200,
        "candidate:1 1 udp 1 127.0.0.1 9\ttyp host",
    ],
)
def test_a_broken_candidate_is_refused(line: str) -> None:
    with pytest.raises(SdpRejected):
        check_candidate(line)
