"""An offer as an aiortc client of another process reads it: without ``audio/red``.

The SFU registers RED in aiortc's codec table (``media.aiortc_internals``), which
is process-wide, so an aiortc peer connection made by a test in the server's
process would accept RED too, and send plain Opus under RED's payload type (it
sends with its first common codec and has no RED packetiser). Stock aiortc knows
no RED: it answers with Opus alone. Test clients that play such a client answer
``without_red(offer)``; the RED-aware ones (tests/media/media_harness.py with
``red=True``) answer the offer as it is.
"""

from __future__ import annotations

import re

_RED = re.compile(r"^a=rtpmap:(\d+) red/", re.IGNORECASE)


def without_red(sdp: str) -> str:
    red_types = {m.group(1) for line in sdp.splitlines() if (m := _RED.match(line))}
    if not red_types:
        return sdp
    out = []
    for line in sdp.splitlines():
        if line.startswith("m=audio "):
            words = line.split(" ")
            line = " ".join(words[:3] + [w for w in words[3:] if w not in red_types])
        elif any(
            line.startswith(f"a={a}:{pt} ")
            for a in ("rtpmap", "fmtp", "rtcp-fb")
            for pt in red_types
        ):
            continue
        out.append(line)
    return "\r\n".join(out) + "\r\n"
