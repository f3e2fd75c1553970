"""Seeded mutations of what a client sends: SDP answers, ICE candidates, frames and bodies.

Every mutation is a pure function of a `random.Random`, so a failing case is
reproduced from its seed and index.  Addresses are only ever replaced by
invalid ones or loopback ones: an accepted mutant must never make the server
send STUN checks (or mDNS queries) anywhere but 127.0.0.0/8.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable

NASTY_NUMBERS = [
    "0",
    "-1",
    "1",
    "65535",
    "65536",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "9" * 120,
    "1e9",
    "0x10",
    "1.5",
    "",
    "NaN",
    "٣",
]
NASTY_TOKENS = [
    "",
    " ",
    "x",
    "a" * 3000,
    "\x00",
    "\x0b",
    "\u2028",
    "\ud7ff",
    "é",
    "\t",
    ":",
    "/",
    "=",
    "actpass",
    "holdconn",
    "sendrecv",
    "sha-1",
    "md5",
    "H264/90000",
    "VP9/90000",
    "PCMU/8000",
    "RTP/AVP",
    "DTLS/SCTP",
    "application",
    "BUNDLE",
    "0",
    "1",
    "2",
    "99",
    "127",
    "128",
]
JUNK_LINES = [
    "a=candidate:junk",
    "a=candidate:1 1 udp 1 127.0.0.1 9 typ host",
    "a=end-of-candidates",
    "m=video 9 UDP/TLS/RTP/SAVPF 97",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    "m=audio 9 RTP/AVP 0",
    "a=rtpmap:96 VP8/90000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:96 opus/x",
    "a=fmtp:101 apt=100",
    "a=fmtp:97 apt=",
    "a=setup:actpass",
    "a=setup:bogus",
    "a=sendrecv",
    "a=inactive",
    "a=mid:7",
    "a=mid:",
    "a=group:BUNDLE",
    "a=group:BUNDLE 1 0",
    "a=group:BUNDLE 0 0",
    "a=fingerprint:sha-1 00:11",
    "a=fingerprint:md5 AA:BB",
    "a=fingerprint:sha-256",
    "a=ice-ufrag:a",
    "a=ice-pwd:short",
    "a=ice-lite",
    "a=rtcp:0 IN IP4 999.0.0.1",
    "a=ssrc:0 cname:x",
    "a=ssrc:99999999999 cname:x",
    "a=ssrc-group:FID 1",
    "a=extmap:300 urn:x",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=extmap:x urn:y",
    "c=IN IP4 300.1.1.1",
    "c=IN IP9 x",
    "a=rtcp-mux",
    "a=max-message-size:x",
    "x=y",
    "a=",
    "=",
    "v=1",
    "s=",
    "",
    "a=" + "z" * 5000,
    "a=msid:- -",
    "a=\x00",
    "a=rtpmap:96",
    "b=AS:-1",
    "t=x",
    "o=-",
]


def _tokens(line: str) -> list[str]:
    return re.split(r"([ :/=])", line)


def _replace_token(lines: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(lines))
    parts = _tokens(lines[i])
    words = [j for j in range(0, len(parts), 2)]
    j = rng.choice(words)
    if _looks_like_address(parts, j):
        parts[j] = rng.choice(BAD_ADDRESSES)
    else:
        parts[j] = rng.choice(NASTY_TOKENS + NASTY_NUMBERS)
    return lines[:i] + ["".join(parts)] + lines[i + 1 :]


def _looks_like_address(parts: list[str], j: int) -> bool:
    return bool(re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:]*|.*\.local", parts[j]))


def _renumber(lines: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(lines))
    line = lines[i]
    numbers = [m for m in re.finditer(r"(?<![0-9.])[0-9]+(?![0-9.])", line)]
    if not numbers:
        return _replace_token(lines, rng)
    m = rng.choice(numbers)
    changed = line[: m.start()] + rng.choice(NASTY_NUMBERS) + line[m.end() :]
    return lines[:i] + [changed] + lines[i + 1 :]


def _drop(lines: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(lines))
    return lines[:i] + lines[i + 1 :]


def _duplicate(lines: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(lines))
    return lines[: i + 1] + lines[i:]


def _swap(lines: list[str], rng: random.Random) -> list[str]:
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    out = list(lines)
    out[i], out[j] = out[j], out[i]
    return out


def _insert_junk(lines: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(lines) + 1)
    return lines[:i] + [rng.choice(JUNK_LINES)] + lines[i:]


def _truncate(lines: list[str], rng: random.Random) -> list[str]:
    text = "\r\n".join(lines)
    return text[: rng.randrange(len(text))].split("\r\n")


def _flip_char(lines: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(lines))
    line = lines[i]
    if not line:
        return _drop(lines, rng)
    k = rng.randrange(len(line))
    char = rng.choice(["\x00", "\x7f", "\x0c", "\x85", "ÿ", "A", " ", "=", ":", "-", "0", "\r"])
    return lines[:i] + [line[:k] + char + line[k + 1 :]] + lines[i + 1 :]


def _retarget_attribute(lines: list[str], rng: random.Random) -> list[str]:
    """Change what matters to a negotiation: directions, setup, mids, codecs, bundle, keys."""
    swaps: list[tuple[str, list[str]]] = [
        (
            r"^a=(sendrecv|sendonly|recvonly|inactive)$",
            ["a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive", "a=sendsend"],
        ),
        (r"^a=setup:.*$", ["a=setup:actpass", "a=setup:holdconn", "a=setup:active", "a=setup:"]),
        (r"^a=mid:.*$", ["a=mid:0", "a=mid:1", "a=mid:9", "a=mid:", "a=mid:audio"]),
        (
            r"^a=rtpmap:(\d+) .*$",
            [
                "a=rtpmap:\\1 H264/90000",
                "a=rtpmap:\\1 opus/48000/2",
                "a=rtpmap:\\1 VP8/90000",
                "a=rtpmap:\\1 rtx/90000",
            ],
        ),
        (r"^a=group:BUNDLE.*$", ["a=group:BUNDLE 1 0", "a=group:BUNDLE 0", "a=group:LS 0 1"]),
        (
            r"^a=fingerprint:(\S+) (.*)$",
            [
                "a=fingerprint:sha-1 \\2",
                "a=fingerprint:SHA-256 \\2",
                "a=fingerprint:sha-256 00:11:22",
                "a=fingerprint:sha-512 \\2",
                "a=fingerprint:x \\2",
            ],
        ),
        (r"^a=ice-ufrag:.*$", ["a=ice-ufrag:ab", "a=ice-ufrag:" + "u" * 300, "a=ice-ufrag:a b"]),
        (r"^a=ice-pwd:.*$", ["a=ice-pwd:short", "a=ice-pwd:" + "p" * 300, "a=ice-pwd:"]),
        (
            r"^m=(\w+) (\d+) (\S+) (.*)$",
            [
                "m=\\1 \\2 RTP/AVP \\4",
                "m=video \\2 \\3 \\4",
                "m=audio \\2 \\3 \\4",
                "m=\\1 0 \\3 \\4",
                "m=\\1 \\2 \\3",
                "m=\\1 \\2 \\3 \\4 0",
                "m=\\1 70000 \\3 \\4",
            ],
        ),
        (r"^a=extmap:(\d+) (.*)$", ["a=extmap:15 \\2", "a=extmap:\\1 urn:not:offered"]),
    ]
    pattern, choices = rng.choice(swaps)
    hits = [i for i, line in enumerate(lines) if re.match(pattern, line)]
    if not hits:
        return _insert_junk(lines, rng)
    i = rng.choice(hits)
    return lines[:i] + [re.sub(pattern, rng.choice(choices), lines[i])] + lines[i + 1 :]


SDP_MUTATIONS: list[Callable[[list[str], random.Random], list[str]]] = [
    _replace_token,
    _renumber,
    _drop,
    _duplicate,
    _swap,
    _insert_junk,
    _truncate,
    _flip_char,
    _retarget_attribute,
    _retarget_attribute,
    _retarget_attribute,
]


def mutate_sdp(sdp: str, rng: random.Random) -> str:
    lines = sdp.rstrip("\r\n").split("\r\n")
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not lines:
            lines = [""]
        lines = rng.choice(SDP_MUTATIONS)(lines, rng) or [""]
    separator = rng.choice(("\r\n",) * 12 + ("\n", "\r"))
    return separator.join(lines) + separator


# -- candidates ------------------------------------------------------------------

BAD_ADDRESSES = [
    "999.0.0.1",
    "127.0.0",
    "127.0.0.1.1",
    "::g",
    "1:2:3",
    "localhost",
    "x" * 70 + ".local",
    "-",
    "127.0.0.1/8",
    "[::1]",
    "0x7f000001",
    "2130706431",
    "",
    "127.0.0.1%eth0",
]
LOOPBACK_ADDRESSES = ["127.0.0.1", "127.0.0.2", "::1"]


def mutate_candidate(line: str, rng: random.Random) -> str:
    bits = line.split(" ")
    for _ in range(rng.choice((1, 1, 2))):
        op = rng.randrange(9)
        if op == 0 and bits:  # a field becomes something else
            k = rng.randrange(len(bits))
            bits[k] = (
                rng.choice(NASTY_TOKENS + NASTY_NUMBERS)
                if k != 4
                else rng.choice(BAD_ADDRESSES + LOOPBACK_ADDRESSES)
            )
        elif op == 1 and bits:
            del bits[rng.randrange(len(bits))]
        elif op == 2 and len(bits) > 5:
            bits[rng.choice((1, 3, 5))] = rng.choice(NASTY_NUMBERS)
        elif op == 3 and len(bits) > 4:
            bits[4] = rng.choice(BAD_ADDRESSES + LOOPBACK_ADDRESSES)
        elif op == 4 and len(bits) > 2:
            bits[2] = rng.choice(["tcp", "TCP", "sctp", "tls", "", "udp6"])
        elif op == 5 and len(bits) > 7:
            bits[6:8] = rng.choice([["typ", "relay"], ["typ", "bogus"], ["type", "host"], ["typ"]])
        elif op == 6:
            bits += rng.choice(
                [
                    ["raddr"],
                    ["raddr", "1.2.3"],
                    ["rport", "99999"],
                    ["tcptype", "weird"],
                    ["generation", "0"],
                    ["x"] * 40,
                ]
            )
        elif op == 7:
            bits = [" ".join(bits)[: rng.randrange(1, 80)]]
        else:
            bits.insert(rng.randrange(len(bits) + 1), rng.choice(NASTY_TOKENS))
    return " ".join(bits)


# -- JSON values and raw frames ----------------------------------------------------


def nested(depth: int, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def nasty_json_text(rng: random.Random) -> str:
    choices: list[Callable[[], str]] = [
        lambda: nested(rng.choice((40, 500, 5000, 30000)), rng),
        lambda: "[" * rng.randrange(1, 3000),
        lambda: '{"a":' + "1" * 200 + "}",
        lambda: '{"a": NaN}',
        lambda: '{"a": Infinity}',
        lambda: "{'a': 1}",
        lambda: "{",
        lambda: '"\\ud800"',
        lambda: '{"a": "\\u0000"}',
        lambda: "[]",
        lambda: "null",
        lambda: "1",
        lambda: '"text"',
        lambda: "true",
        lambda: "{}" * 2,
        lambda: "",
        lambda: json.dumps({"k" * 1000: ["x"] * 1000}),
        lambda: '{"a":1,"a":2}',
        lambda: "\ufeff{}",
        lambda: "[" + "1," * 20000 + "1]",
    ]
    return rng.choice(choices)()
