"""A simulcast publisher's layers as the producer sees them: SSRC, newest packet, bitrate.

The layers arrive on one m-section, told apart by RID
(:mod:`media.aiortc_internals.simulcast`); the producer keeps one
:class:`LayerState` per layer, indexed lowest first as the RIDs are offered
(:data:`media.simulcast_sdp.RIDS`).  Which layer each subscriber gets is
decided per subscriber (:mod:`media.layers`).
"""

from __future__ import annotations

from collections import deque

#: bitrate window: long enough to span a keyframe and a few seconds of deltas
RATE_WINDOW_S = 2.0
#: a layer with nothing for this long is not being sent (the publisher dropped it)
SILENT_S = 1.5


class LayerState:
    def __init__(self, ssrc: int) -> None:
        self.ssrc = ssrc
        self.newest_ext: int | None = None
        self.last_pli = -1e9
        self.last_at = -1e9
        self._window: deque[tuple[float, int]] = deque()
        self._bytes = 0

    def seen(self, ext: int, size: int, at: float) -> None:
        if self.newest_ext is None or ext > self.newest_ext:
            self.newest_ext = ext
        self.last_at = at
        window = self._window
        window.append((at, size))
        self._bytes += size
        horizon = at - RATE_WINDOW_S
        while window[0][0] < horizon:
            self._bytes -= window.popleft()[1]

    def arriving(self, now: float) -> bool:
        """Whether the publisher still sends this layer (a packet within ``SILENT_S``)."""
        return now - self.last_at <= SILENT_S

    def bitrate(self, now: float) -> int:
        """Bits per second over the window (payload only); 0 once the layer fell silent."""
        if not self.arriving(now):
            return 0
        window = self._window
        horizon = now - RATE_WINDOW_S
        while window and window[0][0] < horizon:
            self._bytes -= window.popleft()[1]
        return round(8 * self._bytes / RATE_WINDOW_S)
