"""RTP sequence numbers past 16 bits, and "have we had this one already?".

One stream's numbers are extended once, by the receiver's
:class:`~media.assembler.FrameAssembler`, and handed on with the packet.
"""

from __future__ import annotations

from array import array


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
    (a retransmission that raced its original); older ones count as seen.

    A ring of ``window`` slots, slot ``ext % window`` holding the last number
    filed there: within the window (``highest - window < ext``) a slot holds
    either ``ext`` itself or a number that has left the window.  Unlike a set
    with a deque beside it (~200 KiB per stream once full, grown over the
    first ~40 s of a stream), it is 8 bytes a slot from the start.
    """

    def __init__(self, window: int) -> None:
        self._window = window
        self._slots = array("q", [-1]) * window
        self.highest: int | None = None  # the newest number seen

    def first_time(self, ext: int) -> bool:
        """True, and remembered, if ``ext`` is new and within the window."""
        highest = self.highest
        if highest is not None and ext <= highest - self._window:
            return False
        slot = ext % self._window
        if self._slots[slot] == ext:
            return False
        self._slots[slot] = ext
        if highest is None or ext > highest:
            self.highest = ext
        return True
