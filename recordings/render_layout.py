"""Where things go in the composite picture, and the canvas they are drawn on.

The canvas is one yuv420p buffer (the encoder's own format), so a decoded
cell scaled by swscale is copied in with three numpy slice assignments and
the finished picture goes to the encoder without any colour conversion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import av
import numpy as np
import numpy.typing as npt

from recordings.render_text import GLYPH_HEIGHT, fit_text, text_mask, text_width
from sessions.errors import InvalidTransition
from sessions.ids import SeatId
from sessions.phases import Phase, PhaseKind
from sessions.roles import PARTY_SEATS, Role, role_of
from sessions.scenarios import Scenario

Yuv = tuple[int, int, int]


def yuv(red: int, green: int, blue: int) -> Yuv:
    """BT.601 limited range, as swscale converts yuv420p to and from RGB by default."""
    y = 16 + (65.738 * red + 129.057 * green + 25.064 * blue) / 256
    u = 128 + (-37.945 * red - 74.494 * green + 112.439 * blue) / 256
    v = 128 + (112.439 * red - 94.154 * green - 18.285 * blue) / 256
    return round(y), round(u), round(v)


BACKGROUND = yuv(0, 0, 0)
#: a seat with nothing recorded at this moment
EMPTY_CELL = yuv(48, 48, 48)
LABEL_BOX = yuv(16, 16, 16)
WHITE, GREY = 235, 150
BAND_COLOURS: dict[PhaseKind, Yuv] = {
    PhaseKind.LOBBY: yuv(40, 40, 40),
    PhaseKind.JOINT: yuv(20, 50, 110),
    PhaseKind.CAUCUS: yuv(130, 80, 10),
    PhaseKind.TIMEOUT: yuv(140, 25, 25),
    PhaseKind.DEBRIEF: yuv(20, 100, 50),
    PhaseKind.ENDED: yuv(40, 40, 40),
}
#: gap between neighbouring cells, in pixels (even, to keep chroma aligned)
GUTTER = 4


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int


def _even(value: float) -> int:
    return max(2, int(value) & ~1)


def band_height(height: int) -> int:
    return _even(max(24, height // 15))


def grid(count: int, width: int, height: int, top: int) -> list[Rect]:
    """`count` cells (1..6 and beyond) in near-square rows below `top`; a short last
    row is centred."""
    cols = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / cols))
    cell_w, cell_h = _even(width / cols), _even((height - top) / rows)
    y0 = top + ((height - top - rows * cell_h) // 2 & ~1)
    cells = []
    for i in range(count):
        row, col = divmod(i, cols)
        in_row = min(cols, count - row * cols)
        x0 = (width - in_row * cell_w) // 2 & ~1
        cells.append(
            Rect(
                x0 + col * cell_w + GUTTER // 2,
                y0 + row * cell_h + GUTTER // 2,
                cell_w - GUTTER,
                cell_h - GUTTER,
            )
        )
    return cells


def fit(width: int, height: int, cell: Rect) -> Rect:
    """The largest rectangle of the source's aspect ratio centred in `cell`."""
    scale = min(cell.width / width, cell.height / height)
    w, h = min(cell.width, _even(width * scale)), min(cell.height, _even(height * scale))
    return Rect(cell.x + ((cell.width - w) // 2 & ~1), cell.y + ((cell.height - h) // 2 & ~1), w, h)


def seat_order(seat: SeatId) -> tuple[int, str]:
    """Mediator first, then the parties in order, then the coach."""
    role = role_of(seat)
    rank = {Role.MEDIATOR: 0, Role.PARTY: 1, Role.COACH: 2}.get(role, 3)
    return rank, seat


def seat_label(seat: SeatId, scenario: Scenario | None) -> str:
    for party in scenario.parties if scenario is not None else ():
        if party.seat == seat:
            return f"{party.name} - {party.label}"
    if seat in PARTY_SEATS:
        return f"Party {seat[-1].upper()}"
    return seat.replace("_", " ").capitalize()


def phase_caption(phase_name: str, scenario: Scenario | None) -> tuple[str, PhaseKind]:
    """What the band says during `phase_name`, and the kind of phase (its colour)."""
    try:
        phase = Phase.parse(phase_name)
    except InvalidTransition:  # a phase this version doesn't know: say it as it is
        return phase_name, PhaseKind.LOBBY
    if phase.kind is PhaseKind.CAUCUS:
        assert phase.caucus_seat is not None
        name = seat_label(phase.caucus_seat, None)
        for party in scenario.parties if scenario is not None else ():
            if party.seat == phase.caucus_seat:
                name = party.name
        return f"Private caucus - {name}", phase.kind
    titles = {
        PhaseKind.LOBBY: "Lobby",
        PhaseKind.JOINT: "Joint session",
        PhaseKind.TIMEOUT: "Time-out",
        PhaseKind.DEBRIEF: "Debrief",
        PhaseKind.ENDED: "Ended",
    }
    return titles[phase.kind], phase.kind


def clock(ms: float) -> str:
    seconds = int(ms // 1000)
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Canvas:
    """A yuv420p picture as numpy planes sharing one buffer."""

    def __init__(self, width: int, height: int) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"the picture must have even dimensions, not {width}x{height}")
        self.width, self.height = width, height
        luma = width * height
        self._buffer = np.empty(luma * 3 // 2, np.uint8)
        self.y = self._buffer[:luma].reshape(height, width)
        self.u = self._buffer[luma : luma * 5 // 4].reshape(height // 2, width // 2)
        self.v = self._buffer[luma * 5 // 4 :].reshape(height // 2, width // 2)
        self.fill(Rect(0, 0, width, height), BACKGROUND)

    def fill(self, rect: Rect, colour: Yuv) -> None:
        x, y, w, h = rect.x, rect.y, rect.width, rect.height
        self.y[y : y + h, x : x + w] = colour[0]
        self.u[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = colour[1]
        self.v[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = colour[2]

    def blit(self, rect: Rect, frame: av.VideoFrame) -> None:
        """Copy a yuv420p `frame` of exactly `rect`'s size into place."""
        x, y, w, h = rect.x, rect.y, rect.width, rect.height
        for plane, target, div in zip(
            frame.planes, (self.y, self.u, self.v), (1, 2, 2), strict=True
        ):
            rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
            target[y // div : (y + h) // div, x // div : (x + w) // div] = rows[
                : h // div, : w // div
            ]

    def text(self, x: int, y: int, text: str, scale: int, luma: int) -> None:
        """Stamp `text` in luma only: on a neutral background it reads as white or grey."""
        mask = text_mask(text, scale)
        h = min(mask.shape[0], self.height - y)
        w = min(mask.shape[1], self.width - x)
        if h > 0 and w > 0:
            region: npt.NDArray[np.uint8] = self.y[y : y + h, x : x + w]
            region[mask[:h, :w]] = luma

    def label(self, cell: Rect, text: str, scale: int) -> None:
        """A dark box along the bottom-left of `cell` with `text` in it."""
        pad = 2 * scale
        text = fit_text(text, scale, cell.width - 2 * pad)
        box_h = _even(GLYPH_HEIGHT * scale + 2 * pad)
        box_w = min(cell.width, _even(text_width(text, scale) + 2 * pad + 1))
        box = Rect(cell.x, cell.y + cell.height - box_h, box_w, box_h)
        self.fill(box, LABEL_BOX)
        self.text(box.x + pad, box.y + pad, text, scale, WHITE)

    def centred(self, cell: Rect, text: str, scale: int, luma: int) -> None:
        text = fit_text(text, scale, cell.width)
        x = cell.x + (cell.width - text_width(text, scale)) // 2
        y = cell.y + (cell.height - GLYPH_HEIGHT * scale) // 2
        self.text(x, y, text, scale, luma)

    def frame(self) -> av.VideoFrame:
        """A copy of the picture as a frame the encoder can take."""
        # Copying plane by plane into a new frame is several times faster than from_ndarray.
        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        for plane, source in zip(frame.planes, (self.y, self.u, self.v), strict=True):
            rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
            rows[: source.shape[0], : source.shape[1]] = source
        return frame
