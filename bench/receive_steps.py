"""The receive path's steps with a C version, per call, C against Python.

What the SFU does with every packet a publisher sends, before forwarding it:
SRTP unprotect (pylibsrtp's ``Session.unprotect`` or ``_rtp_parse.unprotect``),
the RTP parse (aiortc's ``RtpPacket.parse`` or ``_rtp_parse.parse``), the VP8
depayload (aiortc's ``vp8_depayload`` or ``_rtp_parse.vp8_depayload``) and, per
video packet, the uplink estimate (``remb.UplinkEstimator`` or ``_uplink``).
Each is timed over the same packets of a ~500 kbit/s, 30 fps stream, best of
three; in the server the steps also pay for the memory they touch, so these are
floors, not shares of its CPU (docs/PERFORMANCE.md).

    .venv/bin/python bench/receive_steps.py [--packets 200000]
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiortc.codecs.vpx import vp8_depayload  # noqa: E402
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters  # noqa: E402
from aiortc.rtp import HeaderExtensionsMap, RtpPacket  # noqa: E402
from pylibsrtp import Policy, Session  # noqa: E402

from media.aiortc_internals import _rtp_parse, _uplink, native_parse  # noqa: E402
from media.aiortc_internals.remb import UplinkEstimator  # noqa: E402

Step = Callable[[], None]
PACKET = 1100  # bytes of VP8 payload in a full packet
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
MID = "urn:ietf:params:rtp-hdrext:sdes:mid"


def stream(count: int, kbps: int = 500, fps: int = 30) -> list[tuple[int, int, int]]:
    """(arrival ms, abs-send-time, payload size) of a video stream: frames split into
    1100-byte packets, 20 ms path delay with 0–2 ms of jitter."""
    rng = random.Random(1)
    out: list[tuple[int, int, int]] = []
    frame, origin = 0, 3_900_000_000_000  # aiortc's clock: milliseconds since 1900
    while len(out) < count:
        at = frame / fps
        size = int(kbps * 1000 / 8 / fps * rng.uniform(0.6, 1.4))
        burst = []
        for i in range(max(1, -(-size // PACKET))):
            sent = at + i * 0.0002
            arrival = origin + int((sent + 0.02 + rng.uniform(0, 0.002)) * 1000)
            burst.append((arrival, int(sent * (1 << 18)) & 0xFFFFFF, min(PACKET, size)))
        out.extend(sorted(burst))
        frame += 1
    return out[:count]


def best_ns(step: Step, count: int) -> float:
    """Nanoseconds per item of the fastest of three runs of ``step`` over ``count``."""
    fastest = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        step()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest / count * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=200_000)
    count = parser.parse_args().packets
    arrivals = stream(count)
    extensions = HeaderExtensionsMap()
    extensions.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=1, uri=MID),
                RTCRtpHeaderExtensionParameters(id=3, uri=ABS_SEND_TIME),
            ]
        )
    )
    native_parse.install({"CAUCUS_RTP_PARSE": "native"})  # configures the C
    plain = []
    for n, (_, abs_send_time, size) in enumerate(arrivals):
        packet = RtpPacket(payload_type=96, sequence_number=n & 0xFFFF, timestamp=n * 3000)
        packet.ssrc, packet.marker = 0x1234, n % 3 == 0
        packet.extensions.mid, packet.extensions.abs_send_time = "1", abs_send_time
        packet.payload = b"\x90\x80" + struct.pack("!H", 0x8000 | n & 0x7FFF) + bytes(size - 4)
        plain.append(packet.serialize(extensions))
    payloads = [RtpPacket.parse(data, extensions).payload for data in plain]
    key = bytes(range(28))
    gcm = Policy.SRTP_PROFILE_AEAD_AES_128_GCM  # what aiortc and browsers agree on
    sending = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=gcm))
    protected = [sending.protect(data) for data in plain]

    def unprotect(how: Callable[[Session, bytes], bytes]) -> Step:
        def run() -> None:  # a fresh session per run: each packet once (replay window)
            inbound = Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=gcm)
            session = Session(inbound)
            for data in protected:
                how(session, data)

        return run

    def each(function: Callable[..., object], items: list[bytes], *more: object) -> Step:
        def run() -> None:
            for item in items:
                function(item, *more)

        return run

    def estimate(make: Callable[[], object]) -> Step:
        def run() -> None:
            add = make().add  # type: ignore[attr-defined]
            for arrival, abs_send_time, size in arrivals:
                add(arrival, abs_send_time, size, 0x1234)

        return run

    c_parse, c_depayload = _rtp_parse.parse, _rtp_parse.vp8_depayload
    python_unprotect = native_parse.python_unprotect
    steps = [
        ("SRTP unprotect", unprotect(python_unprotect), unprotect(_rtp_parse.unprotect)),
        ("RTP parse", each(RtpPacket.parse, plain, extensions), each(c_parse, plain, extensions)),
        ("VP8 depayload", each(vp8_depayload, payloads), each(c_depayload, payloads)),
        ("uplink estimate", estimate(UplinkEstimator), estimate(_uplink.UplinkEstimator)),
    ]
    print(f"{count} packets of a 500 kbit/s VP8 stream; ns per packet, best of 3")
    print("| step | Python | C | Python / C |")
    print("|---|---:|---:|---:|")
    total_python = total_c = 0.0
    for name, python, native in steps:
        python_ns, native_ns = best_ns(python, count), best_ns(native, count)
        total_python, total_c = total_python + python_ns, total_c + native_ns
        print(f"| {name} | {python_ns:.0f} | {native_ns:.0f} | {python_ns / native_ns:.1f}× |")
    print(f"| all four | {total_python:.0f} | {total_c:.0f} | {total_python / total_c:.1f}× |")


if __name__ == "__main__":
    main()
