"""The simulcast lines of the offer and the checks on the answer (media/simulcast_sdp.py)."""

from __future__ import annotations

import pytest

from media.sdp_grammar import SdpRejected, check_lines
from media.simulcast_sdp import RIDS, answered_rids, offer_simulcast

OFFER = "\r\n".join(
    [
        "v=0",
        "o=- 1 1 IN IP4 0.0.0.0",
        "s=-",
        "t=0 0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 96",
        "a=mid:0",
        "a=recvonly",
        "m=video 9 UDP/TLS/RTP/SAVPF 97",
        "a=mid:1",
        "a=recvonly",
        "a=candidate:1 1 udp 1 127.0.0.1 5000 typ host",
        "m=video 9 UDP/TLS/RTP/SAVPF 97",
        "a=mid:2",
        "a=sendonly",
        "",
    ]
)


def answer(video: list[str]) -> str:
    return "\r\n".join(
        ["v=0", "o=- 2 2 IN IP4 0.0.0.0", "s=-", "t=0 0"]
        + ["m=audio 9 UDP/TLS/RTP/SAVPF 96", "a=mid:0", "a=sendonly"]
        + ["m=video 9 UDP/TLS/RTP/SAVPF 97", "a=mid:1", "a=sendonly", *video]
        + ["m=video 9 UDP/TLS/RTP/SAVPF 97", "a=mid:2", "a=recvonly", ""]
    )


def test_the_publish_video_section_offers_the_rids_lowest_first_before_its_candidates() -> None:
    sdp = offer_simulcast(OFFER, "1")
    lines = sdp.split("\r\n")
    section = lines[lines.index("a=mid:1") : lines.index("a=mid:2")]
    assert section[2:6] == [f"a=rid:{rid} recv" for rid in RIDS] + ["a=simulcast:recv l;m;h"]
    assert section[6].startswith("a=candidate:")
    assert sdp.count("a=rid:") == len(RIDS)  # only there
    check_lines(sdp)


def test_an_unknown_mid_is_refused() -> None:
    with pytest.raises(ValueError):
        offer_simulcast(OFFER, "0")  # audio


def test_a_browser_answer_with_the_offered_rids_is_taken() -> None:
    offer = offer_simulcast(OFFER, "1")
    sent = ["a=rid:l send", "a=rid:m send", "a=rid:h send", "a=simulcast:send l;m;~h"]
    assert answered_rids(offer, answer(sent)) == [[], ["l", "m", "h"], []]
    assert answered_rids(offer, answer([])) == [[], [], []]  # no simulcast: one stream
    check_lines(answer(sent))


@pytest.mark.parametrize(
    "lines",
    [
        ["a=rid:x send"],  # never offered
        ["a=rid:l recv"],  # the wrong way
        ["a=rid:l send", "a=rid:l send"],  # twice
        ["a=rid:l send", "a=simulcast:send l;q"],  # lists an unknown rid
        ["a=rid:l send", "a=simulcast:recv l"],
    ],
)
def test_an_answer_with_rids_not_offered_is_refused(lines: list[str]) -> None:
    with pytest.raises(SdpRejected):
        answered_rids(offer_simulcast(OFFER, "1"), answer(lines))
