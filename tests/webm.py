"""A tiny real WebM file (two VP8 frames), for tests that upload browser-copy chunks."""

from __future__ import annotations

import functools
import io

import av
import numpy as np


@functools.cache
def tiny_webm() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as out:
        stream = out.add_stream("libvpx", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(2):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 40 * i, np.uint8), "rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buffer.getvalue()


#: what Chromium's MediaRecorder uploads when stopped before its first frame
EMPTY_WEBM = (
    b"\x1aE\xdf\xa3\x9fB\x86\x81\x01B\xf7\x81\x01B\xf2\x81\x04B\xf3\x81\x08B\x82\x84webmB\x87"
    b"\x81\x04B\x85\x81\x02" + bytes(74)
)
