"""The line grammar of an SDP answer from a browser, checked before aiortc parses it.

aiortc's parser takes each line on trust (`assert`, `int()`, `split()`), keeps
the last of repeated attributes and ignores what it does not know.  Here every
line must be one an answer from Chromium, Firefox or Safari can carry, in the
order RFC 8866 §5 gives, each attribute with a value of its own shape, the
single-valued ones once per section, and payload types only those of the
section's m= line.  A failure raises SdpRejected with the line's number.
"""

from __future__ import annotations

import re

MAX_SDP_LINES = 1000
MAX_LINE_CHARS = 2048


class SdpRejected(ValueError):
    """The client's description or candidate cannot be applied; the message says why."""


def require(condition: bool, reason: str) -> None:
    if not condition:
        raise SdpRejected(reason)


DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_LINE = re.compile(r"^[a-z]=[\x20-\x7e\t]*$")
_M_LINE = re.compile(r"^m=[a-z]+ [0-9]{1,5} [A-Z/]+((?: [0-9A-Za-z-]{1,32}){1,64})$")
_PT = r"(?P<pt>[0-9]{1,3})"
#: session-level lines in their RFC 8866 order (rank), each with its shape
SESSION_LINES = {
    "o": (1, re.compile(r"^o=\S{1,64} [0-9]{1,20} [0-9]{1,20} IN IP[46] \S{1,64}$")),
    "s": (2, re.compile(r"^s=.{0,256}$")),
    "c": (3, re.compile(r"^c=IN IP[46] [0-9A-Fa-f.:]{1,45}$")),
    "b": (4, re.compile(r"^b=[A-Za-z-]{1,16}:[0-9]{1,10}$")),
    "t": (5, re.compile(r"^t=[0-9]{1,20} [0-9]{1,20}$")),
    "a": (6, re.compile(r"^a=[A-Za-z0-9-]{1,32}(:.*)?$")),
}
MEDIA_LINES = {kind: SESSION_LINES[kind] for kind in ("c", "b", "a")}
#: attribute -> the shape of its value (None: a flag, no value)
_SHARED: dict[str, re.Pattern[str] | None] = {
    "ice-ufrag": re.compile(r"^\S{1,256}$"),
    "ice-pwd": re.compile(r"^\S{1,256}$"),
    "ice-options": re.compile(r"^[A-Za-z0-9-]{1,32}( [A-Za-z0-9-]{1,32}){0,8}$"),
    "fingerprint": re.compile(r"^[A-Za-z0-9-]{1,16} [0-9A-Fa-f:]{2,200}$"),
    "setup": re.compile(r"^(active|passive|actpass|holdconn)$"),
    "extmap-allow-mixed": None,
}
SESSION_ATTRIBUTES: dict[str, re.Pattern[str] | None] = {
    **_SHARED,
    "group": re.compile(r"^[A-Z]{1,16}( [A-Za-z0-9_-]{1,32}){0,64}$"),
    "msid-semantic": re.compile(r"^ ?WMS( \S{1,64}){0,16}$"),
    "ice-lite": None,
    # a direction for every section (RFC 8866 §6.7); Firefox writes a=sendrecv here
    **{direction: None for direction in DIRECTIONS},
}
MEDIA_ATTRIBUTES: dict[str, re.Pattern[str] | None] = {
    **_SHARED,
    "mid": re.compile(r"^[A-Za-z0-9_-]{1,32}$"),
    "msid": re.compile(r"^\S{1,64}( \S{1,64})?$"),
    "rtcp": re.compile(r"^[0-9]{1,5}( IN IP[46] [0-9A-Fa-f.:]{1,45})?$"),
    "rtcp-mux": None,
    "rtcp-rsize": None,
    "ssrc": re.compile(r"^[0-9]{1,10} (cname|msid|mslabel|label)(:\S.{0,255})?$"),
    "ssrc-group": re.compile(r"^(FID|FEC|FEC-FR|SIM)( [0-9]{1,10}){1,8}$"),
    "rtpmap": re.compile(_PT + r" [A-Za-z0-9-]{1,32}/[0-9]{1,6}(/[0-9]{1,2})?$"),
    "fmtp": re.compile(_PT + r" [\x21-\x7e][\x20-\x7e]{0,500}$"),
    "rtcp-fb": re.compile(r"^(?P<pt>\*|[0-9]{1,3}) [a-z-]{1,32}( [a-z0-9-]{1,32})?$"),
    "extmap": re.compile(
        r"^(?P<id>[0-9]{1,3})(/(sendrecv|sendonly|recvonly|inactive))? \S{1,256}( \S.{0,255})?$"
    ),
    # simulcast (RFC 8851, RFC 8853): checked against the offer in media/simulcast_sdp.py
    "rid": re.compile(r"^[A-Za-z0-9_-]{1,16} (send|recv)( \S{1,255})?$"),
    "simulcast": re.compile(r"^(send|recv) [A-Za-z0-9_;,~-]{1,128}$"),
    "candidate": re.compile(r"^\S.{0,511}$"),
    "end-of-candidates": None,
    **{direction: None for direction in DIRECTIONS},
}
#: what may appear at most once in a section ("direction" stands for all four)
SINGLE = {
    "o", "s", "c", "b", "t", "mid", "msid", "rtcp", "rtcp-mux", "rtcp-rsize", "setup",
    "ice-ufrag", "ice-pwd", "ice-options", "ice-lite", "extmap-allow-mixed",
    "end-of-candidates", "direction", "msid-semantic", "group", "simulcast",
}  # fmt: skip


def check_lines(sdp: str) -> None:
    require("\r" not in sdp.replace("\r\n", ""), "lines end with CRLF or LF")
    lines = sdp.splitlines()
    require(0 < len(lines) <= MAX_SDP_LINES, f"an SDP has 1 to {MAX_SDP_LINES} lines")
    require(lines[0] == "v=0", "an SDP starts with v=0")
    seen: set[str] = set()
    payload_types: set[str] | None = None  # None: still in the session section
    rank = 0
    for number, line in enumerate(lines[1:], 2):
        where = f"line {number}"
        require(len(line) <= MAX_LINE_CHARS, f"{where} is too long")
        require(bool(_LINE.match(line)), f"{where} is not an SDP line")
        kind = line[0]
        if kind == "m":
            m_line = _M_LINE.match(line)
            require(m_line is not None, f"{where} is not a valid m= line")
            assert m_line is not None
            payload_types, seen, rank = set(m_line.group(1).split()), set(), 0
            continue
        lines_here = SESSION_LINES if payload_types is None else MEDIA_LINES
        require(kind in lines_here, f"{where}: no {kind}= line belongs here")
        line_rank, shape = lines_here[kind]
        require(line_rank >= rank, f"{where}: {kind}= is out of order")
        rank = line_rank
        require(bool(shape.match(line)), f"{where} is malformed")
        key = kind
        if kind == "a":
            key = _check_attribute(where, line, payload_types, seen)
        require(key not in SINGLE or key not in seen, f"{where} repeats {key!r}")
        seen.add(key)
    for kind in "ost":
        require(sum(line.startswith(kind + "=") for line in lines) == 1, f"one {kind}= line")


def _check_attribute(where: str, line: str, payload_types: set[str] | None, seen: set[str]) -> str:
    name, colon, value = line[2:].partition(":")
    attributes = SESSION_ATTRIBUTES if payload_types is None else MEDIA_ATTRIBUTES
    require(name in attributes, f"{where}: unexpected attribute {name[:32]!r}")
    shape = attributes[name]
    if shape is None:
        require(not colon, f"{where}: a={name} takes no value")
        return "direction" if name in DIRECTIONS else name
    found = shape.match(value)
    require(bool(colon) and found is not None, f"{where}: malformed a={name}")
    assert found is not None
    groups = found.groupdict()
    if payload_types is not None and groups.get("pt") not in (None, "*"):
        require(groups["pt"] in payload_types, f"{where}: payload type not on the m= line")
        if name == "rtpmap":  # one rtpmap per payload type
            require(f"rtpmap {groups['pt']}" not in seen, f"{where} repeats an rtpmap")
            seen.add(f"rtpmap {groups['pt']}")
    if groups.get("id") is not None:
        require(f"extmap {groups['id']}" not in seen, f"{where} repeats an extmap id")
        seen.add(f"extmap {groups['id']}")
    return name
