"""The composite render: a whole recorded session as one video file to watch or hand over.

Offline, after the session: each seat's segments are decoded (the only place
Caucus decodes media), placed on the session clock by their start time plus
each frame's timestamp, scaled into a grid cell and stamped with who sits
there; a band on top names the phase. Audio from every seat is mixed into one
track. MP4 (H.264 + AAC) or WebM (VP8 + Opus), chosen by the file's suffix.
"""

from __future__ import annotations

import fractions
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
import av.container
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from recordings.render_audio import SAMPLE_RATE, AudioMixer, audio_frame
from recordings.render_compose import Compositor, NothingToRender, Plan, plan_render

__all__ = [
    "ENCODINGS",
    "NothingToRender",
    "Plan",
    "RenderResult",
    "output_format",
    "plan_render",
    "render_session",
]

logger = logging.getLogger(__name__)

Format = Literal["mp4", "webm"]
Progress = Callable[[float], None]


@dataclass(frozen=True)
class Encoding:
    video_codec: str
    video_options: dict[str, str]
    #: encoder threads; 0 lets the codec choose
    video_threads: int
    #: bit/s, for a codec that needs a target (x264 runs on crf)
    video_bitrate: int | None
    audio_codec: str


#: per container; speed first: this runs on 2 cores beside the live server
ENCODINGS: dict[str, Encoding] = {
    "mp4": Encoding("libx264", {"preset": "ultrafast", "crf": "23"}, 0, None, "aac"),
    "webm": Encoding(
        "libvpx",
        # A negative cpu-used is a fixed speed; a positive one lets libvpx slow down to
        # fill a share of each frame's real-time budget, which offline only costs time.
        # static-thresh: a macroblock that changed by under ~2 levels a pixel is kept as
        # it was (bars, band, sensor noise): a third faster, same PSNR on the bench session.
        {"deadline": "realtime", "cpu-used": "-16", "lag-in-frames": "0", "static-thresh": "500"},
        # One thread: VP8's encoder threads busy-wait on each other, and beside the
        # compositing thread (2 cores) two of them took 60% more CPU and twice as long.
        1,
        2_500_000,
        "libopus",
    ),
}


@dataclass(frozen=True)
class RenderResult:
    path: Path
    duration_ms: int
    frames: int
    seconds_taken: float
    #: the session time (ms since t0) of the render's first frame
    start_ms: int = 0


def output_format(path: Path) -> Format:
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "mp4":
        return "mp4"
    if suffix == "webm":
        return "webm"
    raise ValueError(f"render to .mp4 or .webm, not {path.name!r}")


_Item = tuple[av.VideoFrame, npt.NDArray[np.float32]] | BaseException | None


def _produce(
    plan: Plan,
    compositor: Compositor,
    mixer: AudioMixer,
    fps: int,
    out: queue.Queue[_Item],
    stop: threading.Event,
) -> None:
    """Pictures and audio blocks, in order, for the encoding thread; runs in its own
    thread so decoding and scaling overlap with encoding on the other core."""

    def put(item: _Item) -> None:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    try:
        samples_done = 0
        for index in range(plan.frames):
            if stop.is_set():
                return
            picture = compositor.picture(plan.start_ms + index * 1000 / fps)
            samples_end = (index + 1) * SAMPLE_RATE // fps
            put((picture, mixer.mix(samples_done, samples_end - samples_done)))
            samples_done = samples_end
        put(None)
    except BaseException as exc:  # handed to the encoding thread, which raises it
        put(exc)


def _add_streams(
    container: av.container.OutputContainer, fmt: Format, width: int, height: int, fps: int
) -> tuple[VideoStream, AudioStream]:
    encoding = ENCODINGS[fmt]
    video = container.add_stream(encoding.video_codec, rate=fps, options=encoding.video_options)
    audio = container.add_stream(encoding.audio_codec, rate=SAMPLE_RATE, layout="stereo")
    assert isinstance(video, VideoStream) and isinstance(audio, AudioStream)
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    video.codec_context.thread_count = encoding.video_threads
    if encoding.video_bitrate is not None:
        video.bit_rate = encoding.video_bitrate
    audio.bit_rate = 128_000
    return video, audio


def _close(container: av.container.OutputContainer) -> None:
    try:
        container.close()
    except av.error.FFmpegError as exc:  # the render already failed; that error wins
        logger.debug("closing a failed render: %s", exc)


def render_session(
    plan: Plan,
    output: Path,
    *,
    fmt: Format | None = None,
    width: int = 1280,
    height: int = 720,
    progress: Progress | None = None,
) -> RenderResult:
    """Render a session's plan (`await plan_render(...)`: every seat, every visibility,
    an admin's view) to `output`. Synchronous and CPU-bound: no database here.

    `progress` is called with the fraction done, from 0.0 to 1.0, about a hundred times.
    Raises ValueError for an output that is neither .mp4 nor .webm (unless `fmt` says
    which); `plan_render` raises NothingToRender if the session has no recorded media.
    """
    began = time.perf_counter()
    fps = plan.fps
    fmt = fmt or output_format(output)
    if fmt not in ENCODINGS:
        raise ValueError(f"render to mp4 or webm, not {fmt!r}")
    compositor = Compositor(plan, width, height)
    mixer = AudioMixer([s for s in plan.segments if s.kind == "audio"], plan.start_ms)
    output.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the output and renamed at the end: a failed or interrupted render
    # never leaves a file that looks finished.
    partial = output.with_name(f".{output.name}.part")
    container = av.open(
        str(partial), "w", format=fmt, options={"movflags": "+faststart"} if fmt == "mp4" else {}
    )
    items: queue.Queue[_Item] = queue.Queue(maxsize=4)
    stop = threading.Event()
    producer = threading.Thread(
        target=_produce, args=(plan, compositor, mixer, fps, items, stop), name="render-compose"
    )
    try:
        video, audio = _add_streams(container, fmt, width, height, fps)
        time_base = fractions.Fraction(1, fps)
        step = max(1, plan.frames // 100)
        if progress is not None:
            progress(0.0)
        producer.start()
        for index in range(plan.frames + 1):
            item = items.get()
            if isinstance(item, BaseException):
                raise item
            if item is None:
                break
            picture, samples = item
            picture.pts, picture.time_base = index, time_base
            container.mux(video.encode(picture))
            container.mux(audio.encode(audio_frame(samples, index * SAMPLE_RATE // fps)))
            if progress is not None and index % step == 0:
                progress(index / plan.frames)
        container.mux(video.encode(None))
        container.mux(audio.encode(None))
    except BaseException:
        stop.set()
        _close(container)
        partial.unlink(missing_ok=True)
        raise
    finally:
        stop.set()
        if producer.is_alive():
            producer.join()
        mixer.close()
        compositor.close()
    container.close()
    os.replace(partial, output)
    if progress is not None:
        progress(1.0)
    return RenderResult(
        output,
        round(plan.frames * 1000 / fps),
        plan.frames,
        time.perf_counter() - began,
        plan.start_ms,
    )
