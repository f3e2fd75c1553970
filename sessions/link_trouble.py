"""Network trouble on a seat's link: from samples taken every ~2 s, the troubled stretches.

The SFU samples each publishing seat's uplink (media/link_stats.py); this module
decides, with no I/O, which stretches of session time were troubled and how to
say so ("video frozen 3.2 s — 18 % loss"). Only the stretches are stored on the
timeline: a reviewer asks "was that hesitation the link?", which a shaded stretch
answers, and a 90-minute session of 2 s samples for five seats would otherwise add
13 500 rows nobody reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sessions.ids import SeatId

#: An interval losing at least this share of its packets (before NACK repairs) is troubled.
LOSS_TROUBLE = 0.08
#: ... judged only once it carried this many packets (a quiet audio-only second is not 1 of 2).
MIN_PACKETS = 20
#: A round trip this long makes a conversation stumble (people talk over each other).
RTT_TROUBLE_MS = 1000
#: Arrival jitter this large outgrows a browser's usual jitter buffer: choppy audio.
JITTER_TROUBLE_MS = 150
#: No video frame for longer than this, while video is published, is a freeze.
FREEZE_MS = 500
#: Troubled moments closer than this are one stretch (one calm sample does not end it).
JOIN_GAP_MS = 2500


@dataclass(frozen=True)
class LinkSample:
    """What one seat's uplink did during the interval (t_ms - span_ms, t_ms]."""

    t_ms: int
    span_ms: int
    expected: int = 0  # packets the publisher sent (highest sequence number advanced by)
    lost: int = 0  # of those, missing on arrival (whether NACK repaired them later or not)
    rtt_ms: int | None = None
    jitter_ms: int | None = None
    kbps: int | None = None
    freezes: tuple[tuple[int, int], ...] = ()  # [start, end) without a video frame, > FREEZE_MS

    def __post_init__(self) -> None:
        if self.span_ms <= 0 or self.t_ms < self.span_ms:
            raise ValueError(
                f"a sample covers a positive span after t0 ({self.t_ms}, {self.span_ms})"
            )
        if not 0 <= self.lost <= self.expected:
            raise ValueError(f"lost ({self.lost}) must be within 0..expected ({self.expected})")
        for start, end in self.freezes:
            if not 0 <= start < end <= self.t_ms:
                raise ValueError(f"a freeze must be a stretch before the sample ({start}, {end})")

    @property
    def start_ms(self) -> int:
        return self.t_ms - self.span_ms

    @property
    def loss(self) -> float:
        return self.lost / self.expected if self.expected else 0.0

    @property
    def troubled(self) -> bool:
        """Whether the interval itself (freezes aside) was troubled."""
        return (
            (self.expected >= MIN_PACKETS and self.loss >= LOSS_TROUBLE)
            or (self.rtt_ms is not None and self.rtt_ms >= RTT_TROUBLE_MS)
            or (self.jitter_ms is not None and self.jitter_ms >= JITTER_TROUBLE_MS)
        )


@dataclass(frozen=True)
class Stretch:
    """A troubled stretch [start_ms, end_ms) of one seat's link."""

    seat: SeatId
    start_ms: int
    end_ms: int
    loss_pct: int  # of the packets sent during the troubled intervals
    frozen_ms: int  # total time without a video frame
    rtt_ms: int | None  # the worst round trip seen
    jitter_ms: int | None  # the worst jitter seen

    def __post_init__(self) -> None:
        if not 0 <= self.start_ms < self.end_ms:
            raise ValueError(f"a stretch needs start < end ({self.start_ms}, {self.end_ms})")

    @property
    def what(self) -> str:
        """How the stretch reads on the timeline: "video frozen 3.2 s — 18 % loss"."""
        parts = []
        if self.frozen_ms:
            parts.append(f"video frozen {self.frozen_ms / 1000:.1f} s")
        if self.loss_pct:
            parts.append(f"{self.loss_pct} % loss")
        if self.rtt_ms is not None and self.rtt_ms >= RTT_TROUBLE_MS:
            parts.append(f"{self.rtt_ms} ms round trip")
        if self.jitter_ms is not None and self.jitter_ms >= JITTER_TROUBLE_MS:
            parts.append(f"{self.jitter_ms} ms jitter")
        return " — ".join(parts) or "unsteady link"

    def detail(self) -> dict[str, str | int | None]:
        """The timeline event's fields (the event's t_ms is start_ms)."""
        return {
            "end_ms": self.end_ms,
            "loss_pct": self.loss_pct,
            "frozen_ms": self.frozen_ms,
            "rtt_ms": self.rtt_ms,
            "jitter_ms": self.jitter_ms,
            "what": self.what,
        }


def _worst(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass
class _Open:
    start_ms: int
    end_ms: int
    expected: int = 0
    lost: int = 0
    frozen: list[tuple[int, int]] = field(default_factory=list)
    rtt_ms: int | None = None
    jitter_ms: int | None = None


class TroubleTracker:
    """One seat's samples in, closed stretches out, as the session runs.

    A stretch closes once JOIN_GAP_MS of calm followed it, so each is stored once,
    finished; :meth:`flush` closes the one still open (the seat left, the session ended).
    """

    def __init__(self, seat: SeatId) -> None:
        self.seat = seat
        self._open: _Open | None = None

    def add(self, sample: LinkSample) -> list[Stretch]:
        closed: list[Stretch] = []
        pieces: list[tuple[int, int]] = list(sample.freezes)
        if sample.troubled:
            pieces.append((sample.start_ms, sample.t_ms))
        for start, end in sorted(pieces):
            if self._open is not None and start - self._open.end_ms > JOIN_GAP_MS:
                closed += self.flush()
            if self._open is None:
                self._open = _Open(start, end)
            self._open.end_ms = max(self._open.end_ms, end)
        if self._open is not None:
            if pieces:
                if sample.troubled:
                    self._open.expected += sample.expected
                    self._open.lost += sample.lost
                self._open.frozen += sample.freezes
                self._open.rtt_ms = _worst(self._open.rtt_ms, sample.rtt_ms)
                self._open.jitter_ms = _worst(self._open.jitter_ms, sample.jitter_ms)
            elif sample.t_ms - self._open.end_ms > JOIN_GAP_MS:
                closed += self.flush()
        return closed

    def flush(self) -> list[Stretch]:
        current, self._open = self._open, None
        if current is None:
            return []
        return [
            Stretch(
                self.seat,
                current.start_ms,
                current.end_ms,
                loss_pct=round(100 * current.lost / current.expected) if current.expected else 0,
                frozen_ms=_covered_ms(current.frozen),
                rtt_ms=current.rtt_ms,
                jitter_ms=current.jitter_ms,
            )
        ]


def _covered_ms(pieces: Iterable[tuple[int, int]]) -> int:
    """Total length of the union of [start, end) pieces (a freeze may be reported twice:
    open at one sample, finished at the next)."""
    total, reach = 0, -1
    for start, end in sorted(pieces):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def troubled_stretches(seat: SeatId, samples: Iterable[LinkSample]) -> list[Stretch]:
    """Every troubled stretch of a seat's link, in order, from its samples in order."""
    tracker = TroubleTracker(seat)
    stretches: list[Stretch] = []
    for sample in samples:
        stretches += tracker.add(sample)
    return stretches + tracker.flush()
