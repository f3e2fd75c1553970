"""One seat's picture over a render: its video segments decoded in turn, frame by frame.

At output time t a seat shows the latest frame whose place on the session
clock (segment start + frame timestamp) is at or before t; the last frame of
a segment stays up for `HOLD_MS`, then the cell is empty until the next one.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator, Sequence

import av
import av.container
from av.video.reformatter import VideoReformatter

from recordings.render_fill import FillSegment, takes_over_ms
from recordings.render_layout import BACKGROUND, Canvas, Rect, fit
from storage.catalogue import Segment

logger = logging.getLogger(__name__)

#: how long a segment's last frame stays on screen after its timestamp
HOLD_MS = 100


class VideoSource:
    """One video segment, decoded lazily as the render's clock reaches its frames."""

    def __init__(self, segment: Segment) -> None:
        self.segment = segment
        self._container: av.container.InputContainer | None = None
        self._frames: Iterator[av.VideoFrame] | None = None
        self._current: av.VideoFrame | None = None
        self._next: tuple[float, av.VideoFrame] | None = None
        self._last_ms = float(segment.end_ms)
        self._exhausted = False
        self._tick_ms = 0.0
        #: a browser-copy stand-in shows only until the server's recording resumes
        self._until_ms = segment.to_ms if isinstance(segment, FillSegment) else None

    def _decode(self) -> tuple[float, av.VideoFrame] | None:
        if self._exhausted:
            return None
        try:
            if self._frames is None:
                self._container = av.open(self.segment.path)
                stream = self._container.streams.video[0]
                stream.thread_type = "AUTO"  # slice + frame threads inside the decoder
                # a float: Fraction arithmetic per frame took a tenth of the compositing time
                self._tick_ms = float(stream.time_base or 0) * 1000
                self._frames = self._container.decode(stream)
            while True:
                frame = next(self._frames)
                if frame.pts is not None:
                    break
        except StopIteration:
            self._exhausted = True
            return None
        except (av.error.FFmpegError, OSError) as exc:
            logger.info("video segment %s ends early: %s", self.segment.path, exc)
            self._exhausted = True
            return None
        ms = self.segment.start_ms + frame.pts * self._tick_ms
        self._last_ms = max(self._last_ms, ms)
        return ms, frame

    def at(self, t: float) -> av.VideoFrame | None:
        """The frame on screen at session time `t`, None once the segment is over."""
        if self._until_ms is not None and t >= self._until_ms:
            self._exhausted, self._next = True, None
            return None
        if self._current is None and self._next is None:
            self._next = self._decode()
        while self._next is not None and self._next[0] <= t:
            self._current = self._next[1]
            self._next = self._decode()
        if self._next is None and t >= self._last_ms + HOLD_MS:
            return None
        return self._current

    @property
    def over(self) -> bool:
        return self._exhausted and self._next is None

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


class SeatVideo:
    """A seat's video segments in order, and the scaler that fits them into its cell."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        self._waiting = deque(sorted(segments, key=lambda s: (takes_over_ms(s), s.id)))
        self._source: VideoSource | None = None
        self._scaler = VideoReformatter()
        self._placed: Rect | None = None

    def at(self, t: float) -> av.VideoFrame | None:
        while self._waiting and takes_over_ms(self._waiting[0]) <= t:
            if self._source is not None:
                self._source.close()  # a newer segment takes over
            self._source = VideoSource(self._waiting.popleft())
        if self._source is None:
            return None
        frame = self._source.at(t)
        if frame is None and self._source.over:
            self._source.close()
            self._source = None
        return frame

    def draw(self, canvas: Canvas, cell: Rect, frame: av.VideoFrame) -> None:
        """Scale `frame` to fit `cell` (keeping its aspect ratio) and put it there."""
        placed = fit(frame.width, frame.height, cell)
        if placed != self._placed:
            canvas.fill(cell, BACKGROUND)  # a new size leaves old bars behind
            self._placed = placed
        scaled = self._scaler.reformat(frame, placed.width, placed.height, "yuv420p", threads=1)
        canvas.blit(placed, scaled)

    def forget_placement(self) -> None:
        """The cell was painted over; the next picture must clear it again."""
        self._placed = None

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None
