"""A sender's NACK history (``RTCRtpSender.__rtp_history``), kept compact, in
Python (:class:`SentHistory`) and, for the C writer, in C (:class:`NativeSentHistory`,
``_sent_history.c``): the same ring, slot for slot.

aiortc files an ``RtpPacket`` per sent packet (about 1 KiB of objects with its
header extensions, besides the payload); a subscriber of three seats held six
such rings of 1024, most of the memory of a participant.  These file the
packet's fields and build the ``RtpPacket`` only when ``_retransmit`` asks
(``get(seq % RTP_HISTORY_SIZE)``; ``size`` divides that, so the key still names
the slot, and ``_retransmit`` checks the sequence number it gets).  Packets older
than ``HISTORY_SECONDS`` are let go, with their payloads.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiortc.rtp import RtpPacket

try:
    import media.aiortc_internals._rtp_send as _rtp_send
except ImportError:  # not built: only the Python history (media.aiortc_internals.native_send)
    _rtp_send = None  # type: ignore[assignment]

AUDIO_HISTORY = 256  # 5 s of Opus: a later repair could not be played anyway
# A repair later than this is no use to a subscriber's jitter buffer; the ring
# (sized in packets) would otherwise keep ~18 s of 500 kbit/s video alive.
HISTORY_SECONDS = 2.0

#: (sequence number, timestamp, marker, payload, abs-send-time, audio level)
Sent = tuple[int, int, int, bytes, int, "tuple[bool, int] | None"]


class _Described:
    """What a rebuilt packet carries besides what was filed: the sender's own."""

    _payload_type = 0
    _ssrc = 0
    _mid: str | None = None

    def describe(self, payload_type: int, ssrc: int, mid: str | None) -> None:
        self._payload_type, self._ssrc, self._mid = payload_type, ssrc, mid

    def _rebuilt(self, entry: Sent) -> RtpPacket:
        sequence_number, timestamp, marker, payload, abs_send_time, audio_level = entry
        packet = RtpPacket(
            payload_type=self._payload_type,
            marker=marker,
            sequence_number=sequence_number,
            timestamp=timestamp,
            ssrc=self._ssrc,
            payload=payload,
        )
        packet.extensions.abs_send_time = abs_send_time
        packet.extensions.mid = self._mid
        packet.extensions.audio_level = audio_level
        return packet


class SentHistory(_Described, dict[int, Any]):
    """The history in Python: a dict of slots, and the filing order in a deque."""

    def __init__(self, size: int, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._size = size
        self._clock = clock
        self._filed: deque[tuple[float, int, int]] = deque()  # (when, slot, sequence number)

    def file(
        self,
        sequence_number: int,
        timestamp: int,
        marker: int,
        payload: bytes,
        abs_send_time: int,
        audio_level: tuple[bool, int] | None,
    ) -> None:
        now = self._clock()
        slot = sequence_number % self._size
        self[slot] = (sequence_number, timestamp, marker, payload, abs_send_time, audio_level)
        filed = self._filed
        filed.append((now, slot, sequence_number))
        horizon = now - HISTORY_SECONDS
        while filed[0][0] < horizon:
            _, old_slot, old_number = filed.popleft()
            entry = super().get(old_slot)
            if entry is not None and entry[0] == old_number:  # not overwritten since
                del self[old_slot]

    def holds(self, sequence_number: int) -> bool:
        """Whether a NACK for this packet is answered (``_retransmit`` finds it)."""
        entry: Sent | None = super().get(sequence_number % self._size)
        return entry is not None and entry[0] == sequence_number

    def get(self, key: int, default: Any = None) -> Any:
        entry: Sent | None = super().get(key % self._size)
        return default if entry is None else self._rebuilt(entry)


if _rtp_send is not None:

    class NativeSentHistory(_Described, _rtp_send.SentHistory):
        """The history in C, where the C writer files each packet it sends."""

        def __init__(self, size: int, clock: Callable[[], float] | None = None) -> None:
            super().__init__(size, HISTORY_SECONDS, clock)

        def get(self, key: int, default: Any = None) -> Any:
            entry = self.entry(key)
            return default if entry is None else self._rebuilt(entry)


def new_history(size: int, *, native: bool) -> SentHistory | NativeSentHistory:
    """A history of ``size`` slots: the C one for the C writer."""
    return NativeSentHistory(size) if native else SentHistory(size)
