"""What the composite picture shows at each moment: the plan of a render and the compositor.

The plan comes from the catalogue (segments, phases, pauses); the compositor
redraws only what changed since the previous picture — a new frame in a cell,
a phase, the clock — on one persistent canvas.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from recordings.recovery import probe
from recordings.render_fill import fills
from recordings.render_layout import (
    BAND_COLOURS,
    EMPTY_CELL,
    GREY,
    WHITE,
    Canvas,
    Rect,
    band_height,
    clock,
    grid,
    phase_caption,
    seat_label,
    seat_order,
)
from recordings.render_text import GLYPH_HEIGHT, text_width
from recordings.render_video import SeatVideo
from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.review import phase_bands
from sessions.scenarios import Scenario
from storage.browser_copies import BrowserCopies
from storage.catalogue import Catalogue, Segment

logger = logging.getLogger(__name__)


class NothingToRender(LookupError):
    """The session has no recorded media (none was recorded, or it was deleted)."""


def _usable(segments: Sequence[Segment]) -> list[Segment]:
    """Segments with media on disk; one still being written is measured from its file."""
    usable = []
    for segment in segments:
        path = Path(segment.path)
        if not path.exists():
            logger.warning("segment %d is missing its file %s", segment.id, path)
            continue
        if segment.status == "recording":
            duration_ms, frames = probe(path)
            segment = dataclasses.replace(segment, duration_ms=duration_ms, frames=frames)
        if segment.frames > 0:
            usable.append(segment)
    return usable


def _pauses(events: Sequence[Mapping[str, Any]]) -> dict[str, list[tuple[int, int]]]:
    """Per seat, the stretches its video was paused (media stopped arriving)."""
    pauses: dict[str, list[tuple[int, int]]] = {}
    for event in events:
        if event["kind"] == "track_pause" and event.get("media") == "video":
            until = int(event.get("until_ms") or event["t_ms"])
            pauses.setdefault(str(event["seat"]), []).append((int(event["t_ms"]), until))
    return pauses


@dataclass(frozen=True)
class Plan:
    """What a render covers: the segments, the span of session time, the phases."""

    segments: list[Segment]
    scenario: Scenario | None
    start_ms: int
    frames: int
    bands: list[dict[str, Any]]
    pauses: dict[str, list[tuple[int, int]]]
    fps: int


class Compositor:
    """Draws the picture at session time t; only what changed since the last one."""

    def __init__(self, plan: Plan, width: int, height: int) -> None:
        self._plan = plan
        seats = sorted({s.seat for s in plan.segments}, key=seat_order)
        self._top = band_height(height)
        self._cells = dict(zip(seats, grid(len(seats), width, height, self._top), strict=True))
        self._labels = {seat: seat_label(seat, plan.scenario) for seat in seats}
        self._sound: dict[SeatId, list[tuple[int, int]]] = {}
        for segment in plan.segments:
            if segment.kind == "audio":
                self._sound.setdefault(segment.seat, []).append((segment.start_ms, segment.end_ms))
        self.videos = {
            seat: SeatVideo([s for s in plan.segments if s.seat == seat and s.kind == "video"])
            for seat in seats
        }
        self._canvas = Canvas(width, height)
        self._scale = 2 if width >= 960 else 1
        self._band = -1
        self._second = -1
        self._shown: dict[SeatId, object] = {}

    def picture(self, t: float) -> av.VideoFrame:
        self._draw_band(t)
        for seat, cell in self._cells.items():
            self._draw_cell(seat, cell, t)
        return self._canvas.frame()

    def _draw_band(self, t: float) -> None:
        canvas, scale, bands = self._canvas, self._scale, self._plan.bands
        index = self._band if self._band >= 0 else 0
        while index + 1 < len(bands) and t >= bands[index]["end_ms"]:
            index += 1
        caption, kind = phase_caption(bands[index]["phase"], self._plan.scenario)
        text_y = (self._top - GLYPH_HEIGHT * scale) // 2
        if index != self._band:
            canvas.fill(Rect(0, 0, canvas.width, self._top), BAND_COLOURS[kind])
            canvas.text(4 * scale, text_y, caption, scale, WHITE)
            self._band, self._second = index, -1
        if int(t // 1000) != self._second:  # the session clock, top right
            self._second = int(t // 1000)
            width = text_width("00:00:00", scale) + 8 * scale
            box = Rect(canvas.width - width, 0, width, self._top)
            canvas.fill(box, BAND_COLOURS[kind])
            canvas.text(box.x + 4 * scale, text_y, clock(t), scale, WHITE)

    def _draw_cell(self, seat: SeatId, cell: Rect, t: float) -> None:
        canvas, video = self._canvas, self.videos[seat]
        frame = video.at(t)
        state: object
        if frame is not None:
            if self._shown.get(seat) is frame:
                return
            video.draw(canvas, cell, frame)
            state = frame
        else:
            state = self._absence(seat, t)
            if self._shown.get(seat) == state:
                return
            video.forget_placement()
            canvas.fill(cell, EMPTY_CELL)
            canvas.centred(cell, str(state), self._scale, GREY)
        canvas.label(cell, self._labels[seat], self._scale)
        self._shown[seat] = state

    def _absence(self, seat: SeatId, t: float) -> str:
        """Why a seat shows no picture at `t`."""
        if any(a <= t < b for a, b in self._plan.pauses.get(seat, ())):
            return "paused"  # its media stopped arriving for a while
        if any(a <= t < b for a, b in self._sound.get(seat, ())):
            return "audio only"  # camera off, microphone on
        return "not recorded"

    def close(self) -> None:
        for video in self.videos.values():
            video.close()


async def plan_render(
    catalogue: Catalogue, scenarios: Mapping[ScenarioId, Scenario], room_id: RoomId, fps: int = 25
) -> Plan:
    """What rendering `room_id` covers, read from the catalogue (the one part that awaits)."""
    segments: list[Segment] = _usable(await catalogue.segments(room_id))
    # where the server's recording of a seat has a hole, its own page's copy fills it
    chunks = await BrowserCopies(catalogue.database).chunks(room_id)
    copies = [c for c in chunks if Path(c.path).exists()]
    segments += fills(segments, copies)
    if not segments:
        raise NothingToRender(f"session {room_id} has no recorded media")
    record = await catalogue.simulation(room_id)
    events = await catalogue.events(room_id)
    start_ms = min(s.start_ms for s in segments)
    end_ms = max(s.end_ms for s in segments) + 1000 // fps  # the last frame is shown for a tick
    return Plan(
        segments,
        scenarios.get(record.scenario_id) if record is not None else None,
        start_ms,
        math.ceil((end_ms - start_ms) * fps / 1000),
        phase_bands(events, end_ms),
        _pauses(events),
        fps,
    )
