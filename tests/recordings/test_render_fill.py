"""The render's stand-ins: a browser copy fills exactly the holes in the server's recording."""

from __future__ import annotations

from recordings.render_fill import FillSegment, fills, takes_over_ms, uncovered
from sessions.ids import RoomId, SeatId
from storage.browser_copies import CopyChunk
from storage.catalogue import Segment

ROOM = RoomId("room")


def segment(seat: str, kind: str, start: int, end: int) -> Segment:
    return Segment(
        1, ROOM, SeatId(seat), kind, "vp8", "public", f"/s/{seat}-{kind}-{start}.webm",
        start, end - start, 10, 100, "complete",
    )  # fmt: skip


def chunk(seat: str, n: int, start: int, end: int, content_type: str = "video/webm") -> CopyChunk:
    return CopyChunk(
        n + 1, ROOM, SeatId(seat), n, start, end - start, "public", content_type,
        f"/c/{seat}/{n}.webm", 100, "x",
    )  # fmt: skip


def test_uncovered_finds_the_holes_of_a_span() -> None:
    assert uncovered([(0, 10), (20, 30)], 0, 40) == [(10, 20), (30, 40)]
    assert uncovered([(5, 25)], 0, 20) == [(0, 5)]
    assert uncovered([], 3, 7) == [(3, 7)]
    assert uncovered([(0, 50)], 10, 20) == []


def test_a_hole_is_filled_once_from_the_chunks_that_cover_it() -> None:
    server = [
        segment("party_a", "video", 0, 4000),
        segment("party_a", "video", 14_000, 20_000),
        segment("party_a", "audio", 0, 20_000),
    ]
    copies = [chunk("party_a", n, n * 4000, n * 4000 + 4010) for n in range(5)]
    made = fills(server, copies)
    assert all(isinstance(f, FillSegment) for f in made)
    assert [(f.kind, f.from_ms, f.to_ms) for f in made] == [
        ("video", 4000, 8010),  # chunks overlap by 10 ms: the earlier one fills it
        ("video", 8010, 12_010),
        ("video", 12_010, 14_000),
    ]
    assert [takes_over_ms(f) for f in made] == [4000, 8010, 12_010]
    assert takes_over_ms(server[1]) == 14_000


def test_a_gap_of_a_frame_is_not_filled_and_an_audio_copy_fills_only_audio() -> None:
    server = [segment("mediator", "audio", 0, 1000), segment("mediator", "audio", 1100, 3000)]
    copies = [chunk("mediator", 0, 0, 5000, "audio/webm")]
    made = fills(server, copies)
    assert [(f.kind, f.from_ms, f.to_ms) for f in made] == [("audio", 3000, 5000)]
