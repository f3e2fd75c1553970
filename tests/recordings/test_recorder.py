"""The session recorder: segments per visibility, consent, pauses and crash recovery."""

from __future__ import annotations

from pathlib import Path

import pytest

from recordings.catalogue_writes import CatalogueWrites
from recordings.recorder import PAUSE_MS, SessionRecorder
from recordings.recovery import recover_interrupted
from sessions.ids import ScenarioId, SeatId
from sessions.media_kinds import MediaKind
from sessions.rooms import Room
from sessions.scenarios import builtin_scenarios
from storage.catalogue import Catalogue
from tests.builders import in_phase
from tests.encoded_media import decoded_frames, opus_frames, vp8_frames

SEATS = ("mediator", "party_a", "party_b", "coach")


async def consenting_room(catalogue: Catalogue, answered: tuple[str, ...] = SEATS[:3]) -> Room:
    record = await catalogue.create_simulation(ScenarioId("boundary-fence"), 0)
    room = Room.create(record.id, builtin_scenarios()[record.scenario_id], 0)
    for seat in SEATS:
        room, _, _ = room.join(f"id-{seat}", seat, SeatId(seat), 0)  # type: ignore[arg-type]
        if seat in answered:
            room, _ = room.answer_consent(SeatId(seat), True, 0)
    return room


VIDEO = list(vp8_frames(150, keyframe_every=90))
AUDIO = list(opus_frames(250))


class Feed:
    """Frames of one seat's audio and video, fed to a recorder with arrival times."""

    def __init__(self, recorder: SessionRecorder, seat: str) -> None:
        self.recorder, self.seat = recorder, SeatId(seat)
        self.video = iter(VIDEO)
        self.audio = iter(AUDIO)

    def run(self, start_ms: int, end_ms: int) -> None:
        for t in range(start_ms, end_ms, 20):
            data, ts = next(self.audio)
            self.recorder.record_frame(self.seat, MediaKind.AUDIO, "opus", 48_000, data, ts, t)
            if t % 40 == 0:
                data, ts = next(self.video)
                self.recorder.record_frame(self.seat, MediaKind.VIDEO, "vp8", 90_000, data, ts, t)


async def test_a_caucus_is_recorded_in_segments_of_its_own(
    tmp_path: Path, catalogue: Catalogue, writes: CatalogueWrites
) -> None:
    keyframes: list[str] = []
    room = await consenting_room(catalogue)
    recorder = SessionRecorder(room.id, tmp_path / "rec", writes, keyframes.append)
    feed = Feed(recorder, "party_a")
    room = in_phase(room, "joint")
    recorder.update(room, 0)
    feed.run(0, 2000)
    room = in_phase(room, "caucus:party_a")
    recorder.update(room, 2000)
    feed.run(2000, 4000)
    recorder.close(4000)
    await writes.flush()
    segments = await catalogue.segments(room.id)
    assert [(s.kind, s.visibility) for s in segments] == [
        ("audio", "public"),
        ("video", "public"),
        ("audio", "caucus:party_a"),
        ("video", "caucus:party_a"),
    ]
    caucus_video = segments[3]
    # The new video segment waited for a keyframe and asked the publisher for one.
    assert keyframes == ["party_a"] * len(keyframes) and keyframes
    assert caucus_video.start_ms >= 2000
    for segment in segments:
        assert segment.status == "complete"
        assert len(decoded_frames(segment.path, segment.kind)) == segment.frames
    assert segments[0].duration_ms == pytest.approx(1980, abs=20)
    kinds = [e["kind"] for e in await catalogue.events(room.id)]
    assert kinds.count("track_start") == 4 and kinds.count("track_stop") == 4


async def test_nothing_is_recorded_until_every_trainee_has_answered(
    tmp_path: Path, catalogue: Catalogue, writes: CatalogueWrites
) -> None:
    room = await consenting_room(catalogue, answered=("mediator", "party_a"))
    recorder = SessionRecorder(room.id, tmp_path / "rec", writes, lambda seat: None)
    recorder.update(in_phase(room, "joint"), 0)
    Feed(recorder, "mediator").run(0, 500)
    await writes.flush()
    assert await catalogue.segments(room.id) == []


async def test_a_trainee_who_declines_is_absent_from_the_recording(
    tmp_path: Path, catalogue: Catalogue, writes: CatalogueWrites
) -> None:
    room = await consenting_room(catalogue)
    room, _ = room.answer_consent(SeatId("party_b"), False, 0)
    recorder = SessionRecorder(room.id, tmp_path / "rec", writes, lambda seat: None)
    recorder.update(in_phase(room, "joint"), 0)
    for seat in ("party_a", "party_b"):
        Feed(recorder, seat).run(0, 500)
    recorder.close(500)
    await writes.flush()
    assert {s.seat for s in await catalogue.segments(room.id)} == {"party_a"}


async def test_silence_longer_than_the_pause_threshold_starts_a_new_segment(
    tmp_path: Path, catalogue: Catalogue, writes: CatalogueWrites
) -> None:
    room = in_phase(await consenting_room(catalogue), "joint")
    recorder = SessionRecorder(room.id, tmp_path / "rec", writes, lambda seat: None)
    recorder.update(room, 0)
    feed = Feed(recorder, "mediator")
    feed.run(0, 1000)
    feed.run(1000 + PAUSE_MS + 500, 4000)
    recorder.close(4000)
    await writes.flush()
    audio = [s for s in await catalogue.segments(room.id) if s.kind == "audio"]
    assert [s.start_ms for s in audio] == [0, 1000 + PAUSE_MS + 500]
    pauses = [e for e in await catalogue.events(room.id) if e["kind"] == "track_pause"]
    assert pauses[0]["t_ms"] == 980 and pauses[0]["until_ms"] == 1000 + PAUSE_MS + 500


async def test_segments_left_open_by_a_crash_are_closed_as_interrupted(
    tmp_path: Path, catalogue: Catalogue, writes: CatalogueWrites
) -> None:
    room = in_phase(await consenting_room(catalogue), "joint")
    recorder = SessionRecorder(room.id, tmp_path / "rec", writes, lambda seat: None)
    recorder.update(room, 0)
    Feed(recorder, "mediator").run(0, 3000)
    # No close(): as if the process died here. Its writers' files stay as they are.
    await writes.flush()
    assert await recover_interrupted(catalogue) == [room.id]
    segments = await catalogue.segments(room.id)
    assert {s.status for s in segments} == {"interrupted"}
    assert all(1000 <= s.duration_ms <= 3000 for s in segments)
    interrupted = [e for e in await catalogue.events(room.id) if e["kind"] == "interrupted"]
    assert len(interrupted) == 1


async def test_a_restart_never_writes_over_the_files_of_the_run_before(
    tmp_path: Path, catalogue: Catalogue, writes: CatalogueWrites
) -> None:
    room = in_phase(await consenting_room(catalogue), "joint")
    folder = tmp_path / "rec"
    before = SessionRecorder(room.id, folder, writes, lambda seat: None)
    before.update(room, 0)
    mediator = SeatId("mediator")
    # a video segment that never got its keyframe: a file number used, no file, no row
    for t, (data, ts) in zip(range(0, 200, 40), VIDEO[1:6], strict=True):
        before.record_frame(mediator, MediaKind.VIDEO, "vp8", 90_000, data, ts, t)
    for t, (data, ts) in zip(range(0, 2000, 20), AUDIO[:100], strict=True):
        before.record_frame(mediator, MediaKind.AUDIO, "opus", 48_000, data, ts, t)
    # killed here; the restarted server recovers, then records the same session on
    await writes.flush()
    await recover_interrupted(catalogue)
    (kept,) = await catalogue.segments(room.id)
    kept_bytes = Path(kept.path).read_bytes()
    after = SessionRecorder(room.id, folder, writes, lambda seat: None)
    after.update(room, 5000)
    Feed(after, "mediator").run(5000, 7000)
    after.close(7000)

    await writes.flush()
    paths = [s.path for s in await catalogue.segments(room.id)]
    assert len(paths) == len(set(paths)) == 3, paths
    assert Path(kept.path).read_bytes() == kept_bytes
    assert len(decoded_frames(Path(kept.path), "audio")) == kept.frames > 0


async def test_an_open_segment_is_placed_by_its_best_anchor_before_any_close(
    tmp_path: Path, catalogue: Catalogue, writes: CatalogueWrites
) -> None:
    room = in_phase(await consenting_room(catalogue), "joint")
    recorder = SessionRecorder(room.id, tmp_path / "rec", writes, lambda seat: None)
    recorder.update(room, 0)
    mediator = SeatId("mediator")
    # the first frame (media time 0) lands 120 ms late; the rest on time
    for i, (data, ts) in enumerate(AUDIO[:100]):
        arrival = 1000 + 20 * i + (120 if i == 0 else 0)
        recorder.record_frame(mediator, MediaKind.AUDIO, "opus", 48_000, data, ts, arrival)
    await writes.flush()
    (segment,) = await catalogue.segments(room.id)
    assert segment.start_ms == 1000  # saved while still open: a crash now loses nothing
    await recover_interrupted(catalogue)
    (segment,) = await catalogue.segments(room.id)
    assert (segment.status, segment.start_ms) == ("interrupted", 1000)
