"""Encoded frames mux into WebM as they are, decode frame for frame, and survive SIGKILL."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from media.codecs import vp8_keyframe_size
from recordings.track_writer import CLUSTER_MS, RtpClock, TrackWriter
from sessions.media_kinds import MediaKind
from tests.encoded_media import decoded_frames, opus_frames, vp8_frames


def test_video_frames_mux_and_decode_frame_for_frame(tmp_path: Path) -> None:
    writer = TrackWriter(tmp_path / "v.webm", MediaKind.VIDEO, "vp8", 90_000)
    frames = list(vp8_frames(90))
    for data, ts in frames:
        assert writer.write(data, ts + 123_456)
    summary = writer.close()
    assert summary.frames == 90
    assert summary.duration_ms == pytest.approx(89 * 1000 / 30, abs=1)
    times = decoded_frames(str(summary.path), "video")
    assert len(times) == 90
    assert times[-1] == pytest.approx(summary.duration_ms, abs=1)


def test_audio_frames_mux_and_decode_frame_for_frame(tmp_path: Path) -> None:
    writer = TrackWriter(tmp_path / "a.webm", MediaKind.AUDIO, "opus", 48_000)
    for data, ts in opus_frames(150):
        writer.write(data, ts)
    summary = writer.close()
    times = decoded_frames(str(summary.path), "audio")
    assert len(times) == 150
    assert summary.duration_ms == 149 * 20


def test_a_video_file_starts_at_a_keyframe(tmp_path: Path) -> None:
    frames = list(vp8_frames(40, keyframe_every=30))
    writer = TrackWriter(tmp_path / "v.webm", MediaKind.VIDEO, "vp8", 90_000)
    written = [writer.write(data, ts) for data, ts in frames[1:]]
    assert written[:29] == [False] * 29 and all(written[29:])  # frame 30 is the next keyframe
    assert vp8_keyframe_size(frames[30][0]) == (320, 240)
    writer.close()
    assert len(decoded_frames(str(tmp_path / "v.webm"), "video")) == 10


@pytest.mark.parametrize("start", [0, (1 << 32) - 3000, 1 << 31])
def test_rtp_timestamps_unwrap_across_the_32_bit_boundary(start: int) -> None:
    clock = RtpClock(90_000)
    times = [clock.ms((start + i * 3000) % (1 << 32)) for i in range(5)]
    assert times == [0, 33, 66, 100, 133]


WRITER = """
import sys
from pathlib import Path
from recordings.track_writer import TrackWriter
from sessions.media_kinds import MediaKind
from tests.encoded_media import opus_frames, vp8_frames
kind = sys.argv[2]
if kind == "video":
    w, frames = TrackWriter(Path(sys.argv[1]), MediaKind.VIDEO, "vp8", 90_000), vp8_frames(300)
else:
    w, frames = TrackWriter(Path(sys.argv[1]), MediaKind.AUDIO, "opus", 48_000), opus_frames(500)
for data, ts in frames:
    w.write(data, ts)
    print(w._last_ms, flush=True)
    sys.stdin.readline()  # the test paces the writer, then kills it mid-recording
"""


@pytest.mark.parametrize("kind", ["video", "audio"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_writer_killed_mid_recording_leaves_a_file_that_decodes_to_near_the_end(
    tmp_path: Path, kind: str, seed: int
) -> None:
    path = tmp_path / f"{kind}.webm"
    kill_after = random.Random(seed).randint(40, 280)
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert proc.stdin and proc.stdout
    last_written_ms = 0
    for _ in range(kill_after):
        last_written_ms = int(proc.stdout.readline())
        proc.stdin.write("\n")
        proc.stdin.flush()
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    times = decoded_frames(str(path), kind)
    lost_ms = last_written_ms - times[-1]
    print(f"{kind}: written up to {last_written_ms} ms, decodes up to {times[-1]} ms")
    assert 0 <= lost_ms <= 2000
    assert lost_ms <= CLUSTER_MS + 100
    assert times == sorted(times) and times[0] == 0
