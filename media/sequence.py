"""RTP sequence numbers past 16 bits, and "have we had this one already?".

One stream's numbers are extended once, by the receiver's
:class:`~media.assembler.FrameAssembler`, and handed on with the packet.
"""

from __future__ import annotations

from collections import deque


class SequenceExtender:
    """Maps 16-bit sequence numbers onto an ever-increasing integer."""

    def __init__(self) -> None:
        self.highest: int | None = None

    def extend(self, seq: int) -> int:
        if self.highest is None:
            self.highest = seq
            return seq
        diff = (seq - self.highest) & 0xFFFF
        if diff < 0x8000:
            self.highest += diff
            return self.highest
        return self.highest - (0x10000 - diff)


class RecentNumbers:
    """Remembers the last ``window`` extended numbers seen, to drop duplicates
    (a retransmission that raced its original); older ones count as seen."""

    def __init__(self, window: int) -> None:
        self._window = window
        self._order: deque[int] = deque(maxlen=window)
        self._set: set[int] = set()
        self.highest: int | None = None  # the newest number seen

    def first_time(self, ext: int) -> bool:
        """True, and remembered, if ``ext`` is new and within the window."""
        if ext in self._set or (self.highest is not None and ext <= self.highest - self._window):
            return False
        if self.highest is None or ext > self.highest:
            self.highest = ext
        if len(self._order) == self._window:
            self._set.discard(self._order[0])
        self._order.append(ext)
        self._set.add(ext)
        return True
