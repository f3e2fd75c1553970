"""The composite render: a recorded four-seat session back as one watchable file.

One synthetic session is recorded through the real SessionRecorder: each seat
sends a distinct solid colour at 640×480 and a distinct tone, the coach moves
joint → caucus with party A → joint → debrief, party B drops out for a while,
the coach joins late and party A turns the camera off near the end. The render
is then checked by decoding it (PyAV) and probing it (the ffprobe CLI, an
independent reader).
"""

from __future__ import annotations

import asyncio
import fractions
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from recordings.catalogue_writes import CatalogueWrites
from recordings.recorder import SessionRecorder
from recordings.render import (
    NothingToRender,
    Plan,
    RenderResult,
    output_format,
    plan_render,
    render_session,
)
from recordings.render_layout import grid
from recordings.render_text import ascii_text, fit_text, text_width
from sessions.ids import Identity, RoomId, ScenarioId, SeatId
from sessions.media_kinds import MediaKind
from sessions.rooms import Room
from sessions.scenarios import Scenario, builtin_scenarios
from storage.catalogue import Catalogue, catalogue_at
from storage.database import default_url
from tests.encoded_media import opus_frames

SIZE = (640, 480)
SESSION_MS = 8000
PHASES = ((0, "joint"), (2000, "caucus:party_a"), (4000, "joint"), (6000, "debrief"))
COLOURS = {
    "mediator": (200, 40, 40),
    "party_a": (40, 180, 60),
    "party_b": (40, 80, 220),
    "coach": (230, 210, 40),
}
TONES = {"mediator": 300.0, "party_a": 500.0, "party_b": 700.0, "coach": 900.0}
#: when each seat sends media: party B drops out for 2 s (a pause), the coach starts at 1 s
SENDING = {
    "mediator": ((0, SESSION_MS),),
    "party_a": ((0, SESSION_MS),),
    "party_b": ((0, 4500), (6500, SESSION_MS)),
    "coach": ((1000, SESSION_MS),),
}
#: party A turns the camera off (the microphone stays on) for the last 1.5 s
CAMERA_OFF = {"party_a": (6500, SESSION_MS)}
EMPTY_RGB = (48, 48, 48)
# the 2×2 grid below the phase band of a 1280×720 picture: (x, y) of each cell's centre
CELL_CENTRES = {
    "mediator": (320, 216),
    "party_a": (960, 216),
    "party_b": (320, 552),
    "coach": (960, 552),
}
BAND_ROWS = slice(0, 40)
CAPTION_COLUMNS = slice(0, 640)  # the phase caption; the clock is at the right end


def sending(seat: str, t_ms: int) -> bool:
    return any(a <= t_ms < b for a, b in SENDING[seat])


def camera_off(seat: str, t_ms: int) -> bool:
    start, end = CAMERA_OFF.get(seat, (0, 0))
    return start <= t_ms < end


class ColourCamera:
    """A VP8 publisher of one solid colour that honours keyframe requests."""

    def __init__(self, rgb: tuple[int, int, int]) -> None:
        width, height = SIZE
        self.encoder = av.CodecContext.create("libvpx", "w")
        self.encoder.width, self.encoder.height, self.encoder.pix_fmt = width, height, "yuv420p"
        self.encoder.time_base = fractions.Fraction(1, 90_000)
        self.encoder.bit_rate = 300_000
        self.encoder.gop_size = 250
        # libvpx's threads busy-wait on each other: on a loaded 2-core machine four
        # threaded encoders took up to ten times the CPU of single-threaded ones
        self.encoder.thread_count = 1
        self.encoder.options = {"deadline": "realtime", "cpu-used": "-16", "lag-in-frames": "0"}
        pixels = np.full((height, width, 3), rgb, np.uint8)
        self.picture = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
        self.count = 0
        self.keyframe_wanted = False

    def frames(self) -> Iterator[tuple[bytes, int]]:
        frame = av.VideoFrame.from_ndarray(self.picture.to_ndarray(), format="yuv420p")
        frame.pts, frame.time_base = self.count * 3600, self.encoder.time_base
        if self.keyframe_wanted:
            frame.pict_type = av.video.frame.PictureType.I
            self.keyframe_wanted = False
        self.count += 1
        for packet in self.encoder.encode(frame):
            yield bytes(packet), int(packet.pts or 0)


@dataclass(frozen=True)
class Session:
    room_id: RoomId
    scenario: Scenario
    #: what rendering it covers, read back from the catalogue
    plan: Plan


def record_session(folder: Path) -> Session:
    """The session recorded into `folder` (its embedded database and recordings)."""
    return asyncio.run(_record_session(folder))


async def _record_session(folder: Path) -> Session:
    async with catalogue_at(default_url(folder)) as catalogue:
        writes = CatalogueWrites(catalogue)
        room_id, scenario = await _record(folder, catalogue, writes)
        await writes.close()
        return Session(
            room_id, scenario, await plan_render(catalogue, builtin_scenarios(), room_id)
        )


async def _record(
    folder: Path, catalogue: Catalogue, writes: CatalogueWrites
) -> tuple[RoomId, Scenario]:
    record = await catalogue.create_simulation(ScenarioId("boundary-fence"), 0)
    scenario = builtin_scenarios()[record.scenario_id]
    room = Room.create(record.id, scenario, 0)
    for seat in COLOURS:
        room, _, _ = room.join(Identity(f"id-{seat}"), seat, SeatId(seat), 0)
        if seat != "coach":
            room, _ = room.answer_consent(SeatId(seat), True, 0)
    cameras = {seat: ColourCamera(rgb) for seat, rgb in COLOURS.items()}
    microphones = {seat: opus_frames(SESSION_MS // 20, tone) for seat, tone in TONES.items()}
    recorder = SessionRecorder(
        room.id,
        folder / "rec",
        writes,
        lambda seat: setattr(cameras[seat], "keyframe_wanted", True),
    )
    phases = dict(PHASES)
    for t in range(0, SESSION_MS, 20):
        if t in phases:
            room, event = room.change_phase(SeatId("coach"), phases[t], t)
            await catalogue.append_event(room.id, event)
            recorder.update(room, t)
        for seat in SENDING:
            if not sending(seat, t):
                continue
            data, ts = next(microphones[seat])
            recorder.record_frame(SeatId(seat), MediaKind.AUDIO, "opus", 48_000, data, ts, t)
            if t % 40 == 0 and not camera_off(seat, t):
                for data, ts in cameras[seat].frames():
                    recorder.record_frame(SeatId(seat), MediaKind.VIDEO, "vp8", 90_000, data, ts, t)
    room, event = room.change_phase(SeatId("coach"), "ended", SESSION_MS)
    await catalogue.append_event(room.id, event)
    recorder.close(SESSION_MS)
    return room.id, scenario


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    return record_session(tmp_path_factory.mktemp("session"))


Picture = npt.NDArray[np.uint8]
#: the moments whose pictures the tests look at: joint, joint, caucus, joint, debrief
SAMPLED_MS = (500, 1500, 3000, 5000, 7000)


@dataclass
class Rendered:
    """A render and what decoding it gave back (decoded once for all the tests)."""

    result: RenderResult
    progress: list[float]
    frame_times: list[float]
    pictures: dict[int, Picture]
    audio: npt.NDArray[np.float32]  # the left channel
    sample_rate: int


def decode(result: RenderResult, progress: list[float]) -> Rendered:
    wanted = list(SAMPLED_MS)
    pictures: dict[int, Picture] = {}
    times: list[float] = []
    with av.open(str(result.path)) as container:
        for frame in container.decode(video=0):
            ms = float(frame.time or 0) * 1000
            times.append(ms)
            while wanted and ms <= wanted[0] < ms + 40:
                pictures[wanted.pop(0)] = np.asarray(frame.to_ndarray(format="rgb24"), np.uint8)
    with av.open(str(result.path)) as container:
        stream = container.streams.audio[0]
        chunks = [np.asarray(f.to_ndarray()[0], np.float32) for f in container.decode(stream)]
        rate = stream.codec_context.sample_rate
    assert not wanted, f"no picture at {wanted} ms"
    return Rendered(result, progress, times, pictures, np.concatenate(chunks), rate)


@pytest.fixture(scope="module", params=["mp4", "webm"])
def rendered(
    request: pytest.FixtureRequest, session: Session, tmp_path_factory: pytest.TempPathFactory
) -> Rendered:
    reported: list[float] = []
    output = tmp_path_factory.mktemp("render") / f"session.{request.param}"
    result = render_session(session.plan, output, progress=reported.append)
    return decode(result, reported)


def patch_mean(picture: Picture, x: int, y: int, half: int = 30) -> npt.NDArray[np.float64]:
    return np.asarray(picture[y - half : y + half, x - half : x + half].reshape(-1, 3).mean(axis=0))


def ffprobe_duration(path: Path) -> float:
    """The file's duration in seconds by the ffprobe CLI, an independent reader."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out)["format"]["duration"])


def test_the_render_decodes_fully_and_lasts_as_long_as_the_session(rendered: Rendered) -> None:
    result = rendered.result
    assert result.start_ms == 0
    assert result.duration_ms == pytest.approx(SESSION_MS, abs=100)
    with av.open(str(result.path)) as container:
        video = container.streams.video[0].codec_context
        assert (video.width, video.height) == (1280, 720)
        assert video.name == {".mp4": "h264", ".webm": "vp8"}[result.path.suffix]
        assert len(container.streams.audio) == 1
    assert len(rendered.frame_times) == result.frames
    assert rendered.frame_times == sorted(rendered.frame_times)
    assert rendered.frame_times[-1] == pytest.approx(SESSION_MS, abs=100)


def test_the_audio_track_lasts_as_long_as_the_session(rendered: Rendered) -> None:
    assert rendered.sample_rate == 48_000
    assert len(rendered.audio) / 48 == pytest.approx(SESSION_MS, abs=100)
    if shutil.which("ffprobe"):
        assert ffprobe_duration(rendered.result.path) * 1000 == pytest.approx(SESSION_MS, abs=100)


def test_each_seat_is_in_its_own_cell_in_its_own_colour(rendered: Rendered) -> None:
    for t, picture in rendered.pictures.items():
        for seat, (x, y) in CELL_CENTRES.items():
            shown = sending(seat, t) and not camera_off(seat, t)
            expected = COLOURS[seat] if shown else EMPTY_RGB
            # above the cell's centre: clear of the "not recorded" text and the name label
            assert patch_mean(picture, x, y - 40) == pytest.approx(expected, abs=10), (seat, t)


def test_an_empty_cell_says_why_the_seat_shows_no_picture(rendered: Rendered) -> None:
    def centre_text(seat: str, t: int) -> npt.NDArray[np.bool_]:
        x, y = CELL_CENTRES[seat]
        strip = rendered.pictures[t][y - 12 : y + 12, x - 150 : x + 150].mean(axis=2)
        return np.asarray(strip > 100)

    not_recorded = centre_text("coach", 500)  # before the coach's camera started
    paused = centre_text("party_b", 5000)  # party B's media stopped for a while
    audio_only = centre_text("party_a", 7000)  # party A's camera is off, the mic on
    for text in (not_recorded, paused, audio_only):
        assert text.sum() > 100
    assert (not_recorded != paused).sum() > 100
    assert (not_recorded != audio_only).sum() > 100
    assert (paused != audio_only).sum() > 100


def test_the_caption_band_changes_with_the_phase(rendered: Rendered) -> None:
    def caption(t: int) -> str:
        band = rendered.pictures[t][BAND_ROWS, CAPTION_COLUMNS]
        # quantised so codec noise doesn't count; the band's colour and text do
        return hashlib.sha1((band // 64).tobytes()).hexdigest()

    assert caption(1500) == caption(5000)  # the joint session, before and after the caucus
    assert len({caption(1500), caption(3000), caption(7000)}) == 3  # joint, caucus, debrief


def test_every_seat_is_heard_while_it_sends(rendered: Rendered) -> None:
    def level(at_ms: int, tone: float) -> float:
        start = at_ms * rendered.sample_rate // 1000
        window = rendered.audio[start : start + rendered.sample_rate // 10].astype(np.float64)
        spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
        return float(spectrum[round(tone * len(window) / rendered.sample_rate)])

    # at 0.5 s the coach's microphone has not started; at 5 s party B is silent
    for at_ms in (500, 3000, 5000):
        for seat, tone in TONES.items():
            heard = level(at_ms, tone)
            assert (heard > 100) if sending(seat, at_ms) else (heard < 10), (seat, at_ms, heard)


def test_progress_rises_from_zero_to_one(rendered: Rendered) -> None:
    reported = rendered.progress
    assert reported[0] == 0.0 and reported[-1] == 1.0
    assert all(a <= b for a, b in zip(reported, reported[1:], strict=False))
    assert len(reported) > 10


async def test_a_session_without_recorded_media_cannot_be_rendered(tmp_path: Path) -> None:
    async with catalogue_at(default_url(tmp_path)) as catalogue:
        record = await catalogue.create_simulation(ScenarioId("boundary-fence"), 0)
        with pytest.raises(NothingToRender):
            await plan_render(catalogue, builtin_scenarios(), record.id)


def test_the_format_follows_the_file_suffix() -> None:
    assert output_format(Path("a/session.MP4")) == "mp4"
    assert output_format(Path("session.webm")) == "webm"
    with pytest.raises(ValueError, match="mp4 or .webm"):
        output_format(Path("session.avi"))


@pytest.mark.parametrize("count", range(1, 7))
def test_grid_cells_lie_inside_the_picture_without_overlapping(count: int) -> None:
    cells = grid(count, 1280, 720, top=48)
    assert len(cells) == count
    for cell in cells:
        assert 0 <= cell.x and cell.x + cell.width <= 1280
        assert 48 <= cell.y and cell.y + cell.height <= 720
        # yuv420p: a cell on odd coordinates would smear into its neighbour's chroma
        assert not (cell.x % 2 or cell.y % 2 or cell.width % 2 or cell.height % 2)
    for i, a in enumerate(cells):
        for b in cells[i + 1 :]:
            apart_x = a.x + a.width <= b.x or b.x + b.width <= a.x
            apart_y = a.y + a.height <= b.y or b.y + b.height <= a.y
            assert apart_x or apart_y


def test_names_outside_ascii_are_folded_rather_than_lost() -> None:
    assert ascii_text("Zoë Nowák — Private caucus") == "Zoe Nowak - Private caucus"
    assert ascii_text("Łucja") == "?ucja"  # no ASCII form: marked, not dropped


def test_a_label_too_long_for_its_cell_is_shortened() -> None:
    text = fit_text("Commercial Manager, Kilima Ridge Millers Ltd", 2, 200)
    assert text.endswith("...") and text_width(text, 2) <= 200
