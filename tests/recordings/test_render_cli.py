"""`caucus render SESSION`: a grid video from the command line, with a progress bar."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av

from tests.recordings.test_render import SESSION_MS, record_session

PROJECT = Path(__file__).resolve().parents[2]


def caucus(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "caucus", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=300,
    )


def test_caucus_render_writes_a_grid_video_and_shows_progress(tmp_path: Path) -> None:
    session = record_session(tmp_path)  # into the data directory's embedded database
    out = tmp_path / "grid.webm"
    done = caucus("render", session.room_id, "--out", str(out), "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "100%" in done.stderr and "real time" in done.stderr
    with av.open(str(out)) as container:
        assert container.streams.video and container.streams.audio
        frames = sum(1 for _ in container.decode(video=0))
    assert abs(frames / 25 * 1000 - SESSION_MS) <= 100


def test_caucus_render_of_an_unknown_session_fails_with_a_message(tmp_path: Path) -> None:
    done = caucus("render", "no-such-session", "--data-dir", str(tmp_path))
    assert done.returncode != 0 and "no simulation 'no-such-session'" in done.stderr
