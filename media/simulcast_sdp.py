"""The simulcast lines of the server's offers and of the answers to them.  Pure text.

aiortc writes no ``a=rid``/``a=simulcast`` (RFC 8851, RFC 8853), so the offer's
publish video m-section gets them here, after aiortc made the offer::

    a=rid:l recv
    a=rid:m recv
    a=rid:h recv
    a=simulcast:recv l;m;h

A browser that publishes simulcast answers ``a=rid:<rid> send`` for the layers
it will send and ``a=simulcast:send …``; one that does not answers neither and
sends one stream, as before.  The RIDs are listed lowest layer first: the page
gives them scale factors 4, 2, 1 in that order (web/static/js/media.js).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from media.sdp_grammar import SdpRejected, require

#: the layers offered, lowest first (160×90, 320×180, 640×360 from a 640×360 camera)
RIDS: tuple[str, ...] = ("l", "m", "h")

_RID = re.compile(r"^a=rid:(?P<rid>[A-Za-z0-9_-]{1,16}) (?P<direction>send|recv)(?: .*)?$")
_SIMULCAST = re.compile(r"^a=simulcast:(?P<direction>send|recv) (?P<list>\S+)$")

__all__ = ["RIDS", "SdpRejected", "answered_rids", "offer_simulcast"]


def offer_simulcast(sdp: str, mid: str, rids: Sequence[str] = RIDS) -> str:
    """``sdp`` with the receiving simulcast lines added to the m-section of ``mid``."""
    lines = sdp.split("\r\n")
    section = _sections(lines)
    target = next(
        (s for s in section if lines[s[0]].startswith("m=video") and _mid(lines, s) == mid), None
    )
    if target is None:
        raise ValueError(f"no video m-section with mid {mid}")
    added = [f"a=rid:{rid} recv" for rid in rids] + [f"a=simulcast:recv {';'.join(rids)}"]
    start, end = target
    # after the section's own attributes, before its candidates
    at = next((i for i in range(start + 1, end) if lines[i].startswith("a=candidate:")), end)
    return "\r\n".join(lines[:at] + added + lines[at:])


def answered_rids(offer_sdp: str, answer_sdp: str) -> list[list[str]]:
    """The RIDs each answered m-section will send; SdpRejected unless they were offered.

    A RID must be offered ``recv`` in the same m-section, answered ``send``,
    once; ``a=simulcast:send`` may list only answered RIDs (``~`` marks a
    paused one, ``,`` alternatives, RFC 8853 §5.1).
    """
    offer_lines, answer_lines = offer_sdp.splitlines(), answer_sdp.splitlines()
    offered = [_rids(offer_lines, s) for s in _sections(offer_lines)]
    result: list[list[str]] = []
    for index, section in enumerate(_sections(answer_lines)):
        where = f"m-section {index}"
        allowed = {rid for rid, _ in offered[index]} if index < len(offered) else set()
        rids: list[str] = []
        for rid, direction in _rids(answer_lines, section):
            require(rid in allowed, f"{where}: rid {rid} was not offered")
            require(direction == "send", f"{where}: rid {rid} must be send")
            require(rid not in rids, f"{where} repeats rid {rid}")
            rids.append(rid)
        for line in answer_lines[section[0] : section[1]]:
            if line.startswith("a=simulcast:"):
                found = _SIMULCAST.match(line)
                require(
                    found is not None and found["direction"] == "send", f"{where}: bad a=simulcast"
                )
                assert found is not None
                listed = re.split(r"[;,]", found["list"])
                require(
                    all(r.lstrip("~") in rids for r in listed),
                    f"{where}: a=simulcast names an unknown rid",
                )
        result.append(rids)
    return result


def _sections(lines: list[str]) -> list[tuple[int, int]]:
    starts = [i for i, line in enumerate(lines) if line.startswith("m=")]
    return list(zip(starts, [*starts[1:], len(lines)], strict=True))


def _mid(lines: list[str], section: tuple[int, int]) -> str | None:
    for line in lines[section[0] : section[1]]:
        if line.startswith("a=mid:"):
            return line[len("a=mid:") :]
    return None


def _rids(lines: list[str], section: tuple[int, int]) -> list[tuple[str, str]]:
    found = []
    for line in lines[section[0] : section[1]]:
        if line.startswith("a=rid:"):
            match = _RID.match(line)
            require(match is not None, f"malformed {line[:40]!r}")
            assert match is not None
            found.append((match["rid"], match["direction"]))
    return found
