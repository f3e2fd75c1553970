"""Recording costs: CPU per recorded track, and composite render speed.

(a) Feeds SessionRecorder.record_frame one track's frames at their real-time
    spacing on the session clock but as fast as the CPU allows, and reports
    the process CPU time spent recording as a share of one core at real-time
    rate (cpu seconds / media seconds × 100): Opus audio, 50 frames/s; VP8
    video, 30 frames/s at ~500 kbit/s, 640×480. Frames are encoded once
    up front and replayed with fresh RTP timestamps, so no encoding is measured.
(b) Records a four-seat 640×480 session of --render-seconds the same way and
    renders it to MP4 and to WebM, reporting the speed as a multiple of real
    time (wall clock; CPU time alongside, since the machine may be shared).

    .venv/bin/python bench/recording.py --seconds 120 --render-seconds 60
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder would come first on sys.path and its name
# could shadow a package; put the project root there instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse
import asyncio
import fractions
import os
import tempfile
import time

import av
import numpy as np

from recordings.catalogue_writes import CatalogueWrites
from recordings.recorder import SessionRecorder
from recordings.render import Plan, plan_render, render_session
from sessions.ids import Identity, ScenarioId, SeatId
from sessions.media_kinds import MediaKind
from sessions.rooms import Room
from sessions.scenarios import builtin_scenarios
from storage.catalogue import Catalogue, Segment, catalogue_at
from storage.database import default_url

SEATS = ("mediator", "party_a", "party_b", "coach")
VIDEO_FPS, VIDEO_RATE = 30, 90_000
AUDIO_MS, AUDIO_RATE = 20, 48_000
CLIP_SECONDS = 4

Frames = list[tuple[bytes, bool]]


def video_clip(seconds: int = CLIP_SECONDS, size: tuple[int, int] = (640, 480)) -> Frames:
    """VP8 frames at ~500 kbit/s of a webcam-like picture: a still, textured room, a
    "head" that moves about, sensor noise. A keyframe every 2 s, so a new segment
    (which waits for one) starts promptly without keyframe requests."""
    width, height = size
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    room = np.stack(
        [80 + 60 * np.sin(xx / 90), 90 + 50 * np.cos(yy / 70), 120 + 40 * np.sin((xx + yy) / 120)],
        axis=-1,
    )
    room += rng.integers(0, 60, (height // 8, width // 8, 1)).repeat(8, 0).repeat(8, 1)
    hy, hx = np.mgrid[-120:120, -90:90].astype(np.float32)
    head_mask = (hx / 90) ** 2 + (hy / 120) ** 2 < 1
    head = np.clip(np.array([200, 160, 130]) + 25 * np.sin(hx / 5)[..., None], 0, 255)
    background = np.clip(room, 0, 255).astype(np.uint8)
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = fractions.Fraction(1, VIDEO_RATE)
    encoder.bit_rate = 500_000
    encoder.gop_size = 2 * VIDEO_FPS
    encoder.thread_count = 1  # libvpx's threads busy-wait; one is faster on a busy machine
    encoder.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    frames: Frames = []
    for i in range(seconds * VIDEO_FPS):
        pixels = background.copy()
        x = int(width / 2 - 90 + 80 * np.sin(i / 15))
        y = int(height / 2 - 120 + 30 * np.sin(i / 9))
        pixels[y : y + 240, x : x + 180][head_mask] = head[head_mask]
        pixels += rng.integers(0, 4, pixels.shape, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
        frame.pts, frame.time_base = i * VIDEO_RATE // VIDEO_FPS, encoder.time_base
        for packet in encoder.encode(frame):
            frames.append((bytes(packet), packet.is_keyframe))
    return frames


def audio_clip(tone_hz: float, seconds: int = CLIP_SECONDS) -> Frames:
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = AUDIO_RATE, "stereo", "s16"
    encoder.time_base = fractions.Fraction(1, AUDIO_RATE)
    encoder.bit_rate = 32_000
    samples = AUDIO_RATE * AUDIO_MS // 1000
    frames: Frames = []
    for i in range(seconds * 1000 // AUDIO_MS):
        t = (np.arange(samples) + i * samples) / AUDIO_RATE
        wave = (0.2 * 32767 * np.sin(2 * np.pi * tone_hz * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(wave, 2).reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate, frame.pts = AUDIO_RATE, i * samples
        frame.time_base = encoder.time_base
        frames += [(bytes(p), True) for p in encoder.encode(frame)]
    return frames


async def recording_room(catalogue: Catalogue) -> Room:
    record = await catalogue.create_simulation(ScenarioId("boundary-fence"), 0)
    room = Room.create(record.id, builtin_scenarios()[record.scenario_id], 0)
    for seat in SEATS:
        room, _, _ = room.join(Identity(f"id-{seat}"), seat, SeatId(seat), 0)
        if seat != "coach":
            room, _ = room.answer_consent(SeatId(seat), True, 0)
    room, event = room.change_phase(SeatId("coach"), "joint", 0)
    await catalogue.append_event(room.id, event)
    return room


class Track:
    """One seat's pre-encoded frames replayed in a loop with real-time timestamps."""

    def __init__(self, seat: str, kind: MediaKind, frames: Frames) -> None:
        self.seat, self.kind, self.frames = SeatId(seat), kind, frames
        video = kind is MediaKind.VIDEO
        self.codec, self.rate = ("vp8", VIDEO_RATE) if video else ("opus", AUDIO_RATE)
        self.step_ms = 1000 / VIDEO_FPS if video else AUDIO_MS
        self.sent = 0

    def due(self, now_ms: float) -> bool:
        return self.sent * self.step_ms <= now_ms

    def send(self, recorder: SessionRecorder) -> None:
        data, _ = self.frames[self.sent % len(self.frames)]
        now_ms = int(self.sent * self.step_ms)
        timestamp = (12345 + now_ms * self.rate // 1000) % (1 << 32)
        recorder.record_frame(self.seat, self.kind, self.codec, self.rate, data, timestamp, now_ms)
        self.sent += 1


def record(
    folder: Path, tracks: list[Track], seconds: float, phases: dict[int, str] | None = None
) -> tuple[list[Segment], Plan | None, float]:
    """Record `tracks` for `seconds` of media time; return the segments, the render plan
    (None with one track) and the CPU seconds spent in record_frame (catalogue writes are
    queued there, stored afterwards)."""
    return asyncio.run(_record(folder, tracks, seconds, phases))


async def _record(
    folder: Path, tracks: list[Track], seconds: float, phases: dict[int, str] | None
) -> tuple[list[Segment], Plan | None, float]:
    async with catalogue_at(default_url(folder)) as catalogue:
        writes = CatalogueWrites(catalogue)
        room, cpu = await _feed(folder, catalogue, writes, tracks, seconds, phases)
        await writes.close()
        segments = await catalogue.segments(room.id)
        plan = await plan_render(catalogue, builtin_scenarios(), room.id) if phases else None
    return segments, plan, cpu


async def _feed(
    folder: Path,
    catalogue: Catalogue,
    writes: CatalogueWrites,
    tracks: list[Track],
    seconds: float,
    phases: dict[int, str] | None,
) -> tuple[Room, float]:
    room = await recording_room(catalogue)
    recorder = SessionRecorder(room.id, folder / "rec", writes, lambda seat: None)
    recorder.update(room, 0)
    cpu = 0.0
    end_ms = seconds * 1000
    for now_ms in range(0, int(end_ms), 10):
        if phases and now_ms in phases:
            room, event = room.change_phase(SeatId("coach"), phases[now_ms], now_ms)
            await catalogue.append_event(room.id, event)
            recorder.update(room, now_ms)
        for track in tracks:
            while track.due(now_ms + 10) and track.sent * track.step_ms < end_ms:
                started = time.process_time()
                track.send(recorder)
                cpu += time.process_time() - started
    started = time.process_time()
    recorder.close(int(end_ms))
    cpu += time.process_time() - started
    return room, cpu


def track_cost(kind: MediaKind, frames: Frames, seconds: float) -> tuple[float, float, int]:
    """(CPU % of one core at real-time rate, CPU µs per frame, bytes written) for one
    recorded track."""
    with tempfile.TemporaryDirectory() as folder:
        track = Track("mediator", kind, frames)
        segments, _, cpu = record(Path(folder), [track], seconds)
        written = sum(s.bytes for s in segments)
    return cpu / seconds * 100, cpu / track.sent * 1e6, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120, help="media seconds per track")
    parser.add_argument(
        "--render-seconds", type=float, default=60, help="length of the rendered session"
    )
    parser.add_argument("--repeat", type=int, default=1, help="renders per format (best kept)")
    args = parser.parse_args()

    print("encoding test clips ...", file=sys.stderr, flush=True)
    video = video_clip()
    audios = [audio_clip(300.0 + 200 * i) for i in range(len(SEATS))]
    kbps = sum(len(f) for f, _ in video) * 8 / CLIP_SECONDS / 1000
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    print(f"\n(a) recording one track for {args.seconds:g} s of media time")
    print(f"{'track':<36}{'CPU % of a core':>16}{'CPU us/frame':>14}{'MB written':>12}")
    for label, kind, frames in (
        ("audio  Opus 50 fps", MediaKind.AUDIO, audios[0]),
        (f"video  VP8 30 fps {kbps:.0f} kbit/s 640x480", MediaKind.VIDEO, video),
    ):
        percent, per_frame, written = track_cost(kind, frames, args.seconds)
        print(f"{label:<36}{percent:>16.3f}{per_frame:>14.1f}{written / 1e6:>12.2f}")

    seconds = args.render_seconds
    print(f"\n(b) render of a 4-seat 640x480 session of {seconds:g} s to 1280x720 at 25 fps")
    with tempfile.TemporaryDirectory() as folder:
        tracks = [Track(seat, MediaKind.VIDEO, video) for seat in SEATS]
        tracks += [Track(seat, MediaKind.AUDIO, audios[i]) for i, seat in enumerate(SEATS)]
        third = int(seconds * 1000 / 3) // 10 * 10
        phases = {third: "caucus:party_a", 2 * third: "joint"}
        _, plan, _ = record(Path(folder), tracks, seconds, phases)
        assert plan is not None
        header = ("format", "wall s", "x real time", "CPU s", "x real time/CPU", "MB")
        print("{:<8}{:>8}{:>13}{:>8}{:>17}{:>8}".format(*header))
        for fmt in ("mp4", "webm"):
            output = Path(folder) / f"render.{fmt}"
            runs = []
            for _ in range(args.repeat):
                wall, cpu = time.perf_counter(), time.process_time()
                render_session(plan, output)
                runs.append((time.perf_counter() - wall, time.process_time() - cpu))
            wall, cpu = min(runs)
            size = output.stat().st_size / 1e6
            print(
                f"{fmt:<8}{wall:>8.2f}{seconds / wall:>13.2f}{cpu:>8.2f}{seconds / cpu:>17.2f}"
                f"{size:>8.1f}"
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
