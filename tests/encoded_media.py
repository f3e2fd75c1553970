"""Encoded test media made with PyAV's encoders, test-side only (the server never encodes)."""

from __future__ import annotations

import fractions
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

VIDEO_RATE = 90_000
AUDIO_RATE = 48_000


def vp8_frames(
    count: int,
    fps: int = 30,
    size: tuple[int, int] = (320, 240),
    keyframe_every: int = 60,
) -> Iterator[tuple[bytes, int]]:
    """(VP8 frame, 90 kHz timestamp) pairs; frame i is a flat grey of level (i*5) % 256."""
    width, height = size
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = fractions.Fraction(1, VIDEO_RATE)
    encoder.bit_rate = 300_000
    encoder.gop_size = keyframe_every
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    step = VIDEO_RATE // fps
    for i in range(count):
        pixels = np.full((height, width, 3), (i * 5) % 256, np.uint8)
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
        frame.pts, frame.time_base = i * step, encoder.time_base
        for packet in encoder.encode(frame):
            assert packet.pts is not None
            yield bytes(packet), int(packet.pts)


def opus_frames(count: int, tone_hz: float = 440.0) -> Iterator[tuple[bytes, int]]:
    """(Opus frame, 48 kHz timestamp) pairs of 20 ms of a sine tone."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = AUDIO_RATE, "stereo", "s16"
    encoder.time_base = fractions.Fraction(1, AUDIO_RATE)
    samples = 960
    for i in range(count):
        t = (np.arange(samples) + i * samples) / AUDIO_RATE
        wave = (0.3 * 32767 * np.sin(2 * np.pi * tone_hz * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(wave, 2).reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, i * samples, encoder.time_base
        for packet in encoder.encode(frame):
            assert packet.pts is not None
            yield bytes(packet), int(packet.pts) % (1 << 32)


def decoded_frames(path: str | Path, kind: str) -> list[int]:
    """Presentation times (ms) of every frame a decoder gets out of the file's `kind` track."""
    with av.open(path) as container:
        stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
        return [
            int(frame.pts * frame.time_base * 1000)
            for frame in container.decode(stream)
            if isinstance(frame, av.VideoFrame | av.AudioFrame)
            and frame.pts is not None
            and frame.time_base is not None
        ]
