"""The render's stand-ins for holes in the server's recording: stretches of a seat's
browser copy (chunks its own page recorded and uploaded) where the server has nothing
of that seat's audio or video.

A stand-in is the chunk's file played only from `from_ms` to `to_ms`: the server's
own segments come first, the copy covers what they miss, on the same session clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.browser_copies import CopyChunk
from storage.catalogue import Segment

#: a hole shorter than this is a frame's gap between segments, not worth a file switch
MIN_HOLE_MS = 300
_CODECS = {"video": "vp8", "audio": "opus"}


@dataclass(frozen=True)
class FillSegment(Segment):
    """A browser-copy chunk standing in for the server's recording over [from_ms, to_ms)."""

    from_ms: int = 0
    to_ms: int = 0


def takes_over_ms(segment: Segment) -> int:
    """When a segment starts to show: a stand-in only where the hole begins."""
    return segment.from_ms if isinstance(segment, FillSegment) else segment.start_ms


def uncovered(covered: Sequence[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    """The parts of [start, end) that no interval of `covered` holds."""
    holes = []
    cursor = start
    for lo, hi in sorted(covered):
        if hi <= cursor:
            continue
        if lo >= end:
            break
        if lo > cursor:
            holes.append((cursor, lo))
        cursor = max(cursor, hi)
    if cursor < end:
        holes.append((cursor, end))
    return holes


def fills(segments: Sequence[Segment], chunks: Sequence[CopyChunk]) -> list[FillSegment]:
    """Stand-ins for every hole of at least MIN_HOLE_MS in a seat's audio or video that a
    chunk of its browser copy covers (each moment filled once, by the earliest chunk)."""
    out: list[FillSegment] = []
    for kind in ("video", "audio"):
        for seat in sorted({c.seat for c in chunks}):
            own = [s for s in segments if s.seat == seat and s.kind == kind]
            covered = [(s.start_ms, s.end_ms) for s in own]
            for chunk in sorted((c for c in chunks if c.seat == seat), key=lambda c: c.start_ms):
                if kind == "video" and not chunk.content_type.startswith("video/"):
                    continue
                for lo, hi in uncovered(covered, chunk.start_ms, chunk.end_ms):
                    if hi - lo < MIN_HOLE_MS:
                        continue
                    out.append(
                        FillSegment(
                            id=-chunk.id,
                            simulation_id=chunk.simulation_id,
                            seat=chunk.seat,
                            kind=kind,
                            codec=_CODECS[kind],
                            visibility=chunk.visibility,
                            path=chunk.path,
                            start_ms=chunk.start_ms,
                            duration_ms=chunk.duration_ms,
                            frames=1,
                            bytes=chunk.bytes,
                            status="complete",
                            from_ms=lo,
                            to_ms=hi,
                        )
                    )
                    covered.append((lo, hi))
    return out
