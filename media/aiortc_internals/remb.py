"""The server's estimate of a publisher's uplink (the REMB it sends upstream), cheaply.

aiortc gives every video receiver a ``RemoteBitrateEstimator`` (``aiortc.rate``,
after webrtc.org's abs-send-time estimator): packets are grouped by send time
(5 ms groups: in practice one group per video frame); between consecutive
groups the change in one-way delay feeds a Kalman filter (``OveruseEstimator``)
whose offset an adaptive threshold (``OveruseDetector``) reads as over-use,
under-use or normal; an AIMD controller (``AimdRateControl``) turns that and
the incoming bitrate into the REMB, every 500 ms or at once on over-use.

:class:`UplinkEstimator` keeps that algorithm, and aiortc's filter, detector
and rate controller, but not its per-packet bookkeeping, which was most of its
cost (15 % of the SFU's CPU under load) and memory (7 MiB at 20 publishers):

* the incoming bitrate comes from the closed groups of the last second (a
  short deque of ``(arrival, bytes)``), not from a 1000-bucket window of
  1 ms buckets swept millisecond by millisecond on every packet and rebuilt
  (1000 objects) after every pause of a second;
* a packet of the current group costs two comparisons and two additions; no
  object per group, no dict of SSRCs per packet;
* the filter's minimum frame period is the ``min`` of a 60-entry deque,
  not a Python loop over a list per group;
* under over-use the controller is asked again at most every 200 ms (as
  webrtc.org's ``TimeToReduceFurther`` with aiortc's assumed 200 ms RTT), not
  on every packet, which sent a REMB per packet while the state lasted.

It stands in for the receiver's estimator (``add`` has the same signature and
result), so aiortc's receiver sends the REMB as before, through
:class:`~media.aiortc_internals.receivers.ReceiverControl`'s ``remb_filter``.
"""

from __future__ import annotations

from collections import deque

from aiortc.rate import (
    INTER_ARRIVAL_SHIFT,
    MIN_FRAME_PERIOD_HISTORY_LENGTH,
    TIMESTAMP_GROUP_LENGTH_MS,
    TIMESTAMP_TO_MS,
    AimdRateControl,
    BandwidthUsage,
    OveruseDetector,
    OveruseEstimator,
)

GROUP_LENGTH = (TIMESTAMP_GROUP_LENGTH_MS << INTER_ARRIVAL_SHIFT) // 1000
BURST_DELTA_THRESHOLD_MS = 5
RATE_WINDOW_MS = 1000
FEEDBACK_INTERVAL_MS = 500
REDUCE_INTERVAL_MS = 200
_OVERUSING = BandwidthUsage.OVERUSING


class _FilterWithCheapMinimum(OveruseEstimator):
    """aiortc's Kalman filter; its minimum frame period over a deque."""

    def __init__(self) -> None:
        super().__init__()
        # aiortc drops the oldest of 60 before taking the minimum: 59 kept between calls
        self._recent: deque[float] = deque(maxlen=MIN_FRAME_PERIOD_HISTORY_LENGTH - 1)

    def update_min_frame_period(self, ts_delta: float) -> float:
        recent = self._recent
        result = min(recent, default=ts_delta)
        recent.append(ts_delta)
        return ts_delta if ts_delta < result else result


class _RateControlFromZero(AimdRateControl):
    """aiortc's rate controller, able to climb back from a REMB of 0.

    aiortc's additive (near-max) increase divides by the packets in a frame at the
    current bitrate, which are none once the estimate has fallen to 0 (a publisher
    congested again and again at ~10 kbit/s, then sending empty packets): a
    ZeroDivisionError on every video packet from then on, each one dropped before it
    was forwarded.  webrtc.org never lets the bitrate fall that far; here the increase
    from 0 is its floor, 4 kbit/s per second (what aiortc's formula tends to).
    """

    def _near_max_rate_increase(self) -> int:
        if self.current_bitrate / 30 <= 0:
            return 4000
        return super()._near_max_rate_increase()


class UplinkEstimator:
    """REMB for one received stream, from abs-send-time and arrival times."""

    def __init__(self) -> None:
        self.filter = _FilterWithCheapMinimum()
        self.detector = OveruseDetector()
        self.rate_control = _RateControlFromZero()
        self._ssrcs: list[int] = []
        # the group being filled, and the one before it (None: none yet)
        self._first: int | None = None  # send time (abs-send-time << 8, 32 bits)
        self._last = 0
        self._arrival = 0
        self._size = 0
        self._previous: tuple[int, int, int] | None = None  # (last send time, arrival, size)
        # closed groups of the last second, for the incoming bitrate
        self._window: deque[tuple[int, int]] = deque()
        self._window_bytes = 0
        self._counting_since: int | None = None
        self._last_update_ms: int | None = None

    def add(
        self, arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int
    ) -> tuple[int, list[int]] | None:
        """Account for one packet; a REMB ``(bitrate, ssrcs)`` when one is due."""
        if ssrc not in self._ssrcs:
            self._ssrcs.append(ssrc)
        timestamp = (abs_send_time << 8) & 0xFFFFFFFF
        first = self._first
        if first is None:
            self._first = self._last = timestamp
        elif (timestamp - first) & 0xFFFFFFFF >= 0x80000000:
            # sent before the current group: left out of the filter, as aiortc
            # does, but counted in the incoming bitrate
            self._count(arrival_time_ms, payload_size)
        elif self._new_group(timestamp, arrival_time_ms, first):
            self._close_group(timestamp, arrival_time_ms)
        elif (timestamp - self._last) & 0xFFFFFFFF < 0x80000000:
            self._last = timestamp
        if first is None or (timestamp - first) & 0xFFFFFFFF < 0x80000000:
            self._size += payload_size
            self._arrival = arrival_time_ms

        last_update = self._last_update_ms
        if last_update is None or arrival_time_ms - last_update > FEEDBACK_INTERVAL_MS:
            return self._update(arrival_time_ms)
        if (
            self.detector.hypothesis is _OVERUSING
            and arrival_time_ms - last_update >= REDUCE_INTERVAL_MS
        ):
            return self._update(arrival_time_ms)
        return None

    def incoming_bitrate(self, now_ms: int) -> int | None:
        """Bits per second over the last second's groups (None: none closed yet)."""
        window = self._window
        horizon = now_ms - RATE_WINDOW_MS
        while window and window[0][0] <= horizon:
            self._window_bytes -= window.popleft()[1]
        since = self._counting_since
        if not window or since is None:
            self._counting_since = None  # a pause of a second: start afresh, as aiortc
            return None
        span = min(RATE_WINDOW_MS, now_ms - since + 1)
        if span <= 1:
            return None
        return round(8000 * (self._window_bytes + self._size) / span)

    def _count(self, arrival_time_ms: int, size: int) -> None:
        if self._counting_since is None:
            self._counting_since = arrival_time_ms
        self._window.append((arrival_time_ms, size))
        self._window_bytes += size

    def _new_group(self, timestamp: int, arrival_time_ms: int, first: int) -> bool:
        # InterArrival.new_timestamp_group: a burst (sent at once, or arriving
        # faster than sent within 5 ms) stays in the group
        send_delta_ms = round(TIMESTAMP_TO_MS * ((timestamp - self._last) & 0xFFFFFFFF))
        arrival_delta_ms = arrival_time_ms - self._arrival
        if send_delta_ms == 0 or (
            arrival_delta_ms - send_delta_ms < 0 and arrival_delta_ms <= BURST_DELTA_THRESHOLD_MS
        ):
            return False
        return (timestamp - first) & 0xFFFFFFFF > GROUP_LENGTH

    def _close_group(self, timestamp: int, arrival_time_ms: int) -> None:
        closed = (self._last, self._arrival, self._size)
        self._count(self._arrival, self._size)
        previous = self._previous
        if previous is not None:
            send_delta_ms = ((closed[0] - previous[0]) & 0xFFFFFFFF) * TIMESTAMP_TO_MS
            self.filter.update(
                closed[1] - previous[1],
                send_delta_ms,
                closed[2] - previous[2],
                self.detector.hypothesis,
                arrival_time_ms,
            )
            self.detector.detect(
                self.filter.offset(), send_delta_ms, self.filter.num_of_deltas(), arrival_time_ms
            )
        self._previous = closed
        self._first = self._last = timestamp
        self._size = 0

    def _update(self, now_ms: int) -> tuple[int, list[int]] | None:
        bitrate = self.rate_control.update(
            self.detector.hypothesis, self.incoming_bitrate(now_ms), now_ms
        )
        if bitrate is None:
            return None
        self._last_update_ms = now_ms
        return bitrate, list(self._ssrcs)
