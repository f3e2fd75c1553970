"""Which simulcast layer each of a subscriber's video streams gets.  Pure, clock injected.

One subscriber's downlink is shared by every stream it receives.  Three things its
reports say tell how much it carries (docs/design-notes.md says why these):

* **loss** – the fraction lost in its receiver reports.  Above ``loss_short``
  the link is short: what it delivers, ``(video + audio sent) × (1 − loss)``,
  less the audio (measured on the wire by the downlink, or ``audio_bps`` per
  audio stream), is the video budget, and what it delivers is its ceiling, which
  grows slowly (``ceiling_growth``) while the link shows no shortage;
* **queue** – the round trip of its receiver reports above the least seen in the
  last ``rtt_floor_s``.  Above ``queue_short_s`` a queue is building: the link is
  short even when it loses little (a drop-tail bottleneck fed a little too much
  drops a few percent, which a long lossy link loses anyway, and delays
  everything, audio first); it then carries at least ``queue_cut`` less;
* **REMB** – its receive-side estimate of what the link carries for video.  It
  only ever *raises* a stream: a layer that fits it with ``up_margin`` to spare
  for ``up_hold_s`` is taken.  A delay-based estimate read on a busy host takes
  scheduling jitter for queues (measured: 5–60 kbit/s on a clear link), so it
  never lowers a picture on its own; loss does.

The budget goes to the streams in priority order (the mediator's and the
parties' before anyone else's: :func:`seat_priority`), each taking the highest
layer that fits, so the lower-priority video is lowered and paused first:

* **down** when its layer no longer fits a short link's budget;
* **up** on a REMB that fits, or, with no loss and no REMB to go by, as a try
  one layer up after ``climb_s`` at a layer (a receive-side estimate cannot
  grow much past what it receives); a try the link answers with loss within
  ``probe_s`` sets the wait to ``probe_s``, then doubles it, up to
  ``probe_max_s``, and goes back at least to the layer it came from (never to a
  pause: that loss measured the try's overload, not the layer before it).  A new
  stream starts on its lowest layer and climbs;
* **paused** when not even the lowest layer fits: video goes before audio, and
  audio is never paused for bandwidth.  A paused stream tries its lowest layer
  again after ``resume_s`` (doubling after each failed try, up to
  ``resume_max_s``), one stream at a time (``settle_s`` after the last try or
  pause at the earliest) and only while the link shows no shortage: while paused
  there is no video to measure.

A stream that just switched is not judged by loss (``settle_s``), and after a
switch down the loss reports of the next ``settle_s`` are not heard: they still
count packets sent before it.  After going back from a failed try they are not
heard for ``report_span_s`` more: a report counts the packets since the
subscriber's previous one, and its round trip is that of a sender report sent
before it, so the first reports after ``settle_s`` can still carry the try's loss
and queue, which would pause a lowest layer the link carries.  Every knob is in
:class:`~media.layer_knobs.LayerKnobs`, the one place to tune them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from media.layer_knobs import LayerKnobs

PAUSED = -1
#: weight of a new loss report in the smoothed loss
LOSS_SMOOTHING = 0.5


def seat_priority(seat: str) -> int:
    """Lower is served first: the mediator, then the parties, then everyone else."""
    if seat == "mediator":
        return 0
    if seat.startswith("party"):
        return 1
    return 2


@dataclass
class StreamChoice:
    """One video stream a subscriber receives, and the selector's memory of it."""

    key: str
    priority: int
    layer: int = PAUSED
    """The layer chosen (an index into the stream's rates), or PAUSED."""
    started: bool = False
    switched_at: float = 0.0
    up_since: float | None = None
    tried_at: float | None = None  # the last try up (or resume), judged for probe_s
    probe_wait_s: float = 0.0
    resume_wait_s: float = 0.0
    switches: int = 0
    pauses: int = 0


class LayerSelector:
    """The layer choices of one subscriber's video streams."""

    def __init__(self, knobs: LayerKnobs | None = None) -> None:
        self.knobs = knobs or LayerKnobs()
        self.streams: dict[str, StreamChoice] = {}
        self._estimate: tuple[int, float] | None = None
        self._loss: tuple[float, float] | None = None
        self._deaf_until = -1e9  # loss reports before this describe what was sent before
        self._paused_changed_at = -1e9  # the last pause, or try of a paused stream
        self._rtt: tuple[float, float] | None = None  # smoothed round trip, when
        self._rtt_seen: deque[tuple[float, float]] = deque()  # (when, smoothed) for the floor
        self._ceiling: tuple[float, float] | None = None  # bit/s delivered when short, when

    def estimate(self, bitrate: int, now: float) -> None:
        """The subscriber's latest REMB, bits per second."""
        self._estimate = (bitrate, now)

    def loss(self, fraction: float, now: float) -> None:
        """A fraction lost the subscriber reported (smoothed: one report is a short,
        noisy sample, and a keyframe's burst alone can overflow a queue)."""
        if now < self._deaf_until:
            return
        if self._loss is not None and now - self._loss[1] <= self.knobs.report_stale_s:
            fraction = (1 - LOSS_SMOOTHING) * self._loss[0] + LOSS_SMOOTHING * fraction
        self._loss = (fraction, now)

    def rtt(self, seconds: float, now: float) -> None:
        """A round trip the subscriber's reports measured (smoothed as loss is)."""
        if now < self._deaf_until:
            return
        if self._rtt is not None and now - self._rtt[1] <= self.knobs.report_stale_s:
            seconds = (1 - LOSS_SMOOTHING) * self._rtt[0] + LOSS_SMOOTHING * seconds
        self._rtt = (seconds, now)
        # rising values in time order: the first one still in the window is the floor
        seen = self._rtt_seen
        while seen and now - seen[0][0] > self.knobs.rtt_floor_s:
            seen.popleft()
        while seen and seen[-1][1] >= seconds:
            seen.pop()
        seen.append((now, seconds))

    def queued(self, now: float) -> float:
        """How far the round trip is above its floor, seconds (0 without recent reports)."""
        if self._rtt is None or now - self._rtt[1] > self.knobs.report_stale_s:
            return 0.0
        floor = next(s for t, s in self._rtt_seen if now - t <= self.knobs.rtt_floor_s)
        return max(0.0, self._rtt[0] - floor)

    def sent_less(self, now: float, deaf_s: float | None = None) -> None:
        """Less is sent from now on: the loss and round trip seen so far no longer say
        anything (the queue drains), nor do the reports of the next ``deaf_s`` (by
        default ``settle_s``; never shortening a longer wait already begun)."""
        self._loss = None
        self._rtt = None
        deaf_s = self.knobs.settle_s if deaf_s is None else deaf_s
        self._deaf_until = max(self._deaf_until, now + deaf_s)

    def current_loss(self, now: float) -> float:
        """The smoothed loss, 0 when there is no recent report."""
        if self._loss is not None and now - self._loss[1] <= self.knobs.report_stale_s:
            return self._loss[0]
        return 0.0

    def ceiling(self, now: float) -> float | None:
        """What the link delivered when it was last found short, bit/s, while that is
        still held against it (``ceiling_s``); None otherwise."""
        found = self._held_ceiling(now)
        return None if found is None else found[0]

    def _held_ceiling(self, now: float) -> tuple[float, float] | None:
        """The ceiling and when it was found, while ``ceiling_s`` holds it."""
        if self._ceiling is not None and now - self._ceiling[1] < self.knobs.ceiling_s:
            return self._ceiling
        return None

    @property
    def last_loss(self) -> float | None:
        return None if self._loss is None else round(self._loss[0], 3)

    @property
    def last_estimate(self) -> int | None:
        return None if self._estimate is None else self._estimate[0]

    def stream(self, key: str, priority: int) -> StreamChoice:
        choice = self.streams.get(key)
        if choice is None:
            choice = self.streams[key] = StreamChoice(key, priority)
        return choice

    def forget(self, key: str) -> None:
        self.streams.pop(key, None)

    def choose(
        self,
        rates: Mapping[str, Sequence[int]],
        audio_streams: int,
        now: float,
        *,
        may_resume: bool = True,
        red_streams: int = 0,
        audio_bps: float | None = None,
    ) -> dict[str, int]:
        """The layer for each stream in ``rates`` (its layers' bitrates now, lowest
        first, 0 for a layer not arriving); PAUSED where none fits.  ``may_resume``
        False: no paused stream tries again (the link has not carried all the audio
        yet: media.voice_redundancy).  ``red_streams``: how many of the audio streams
        are sent with their RED copy (each takes twice the audio share).  ``audio_bps``:
        what the audio took on the wire lately, measured (instead of the knobs'
        share per stream)."""
        knobs = self.knobs
        loss = self.current_loss(now)
        remb: float | None = None
        if self._estimate is not None and now - self._estimate[1] <= knobs.report_stale_s:
            remb = self._estimate[0]
        streams = sorted(
            (c for c in self.streams.values() if c.key in rates), key=lambda c: c.priority
        )
        budget: float | None = None  # None: no sign the link is short
        queue = self.queued(now)
        # after this tick's first step down the queue is forgotten, but nothing goes up
        # then anyway (the selector is deaf until a report describes the link again)
        queued, building = queue > knobs.queue_short_s, queue > knobs.queue_clear_s
        sent = sum(_rate(rates[c.key], c.layer) for c in streams)
        audio = knobs.audio_bps * (audio_streams + red_streams) if audio_bps is None else audio_bps
        if loss > knobs.loss_short or queued:
            cut = max(loss, knobs.queue_cut) if queued else loss
            # never below the audio (never paused): a burst's loss at the start says
            # little of what the link delivers, and the ceiling grows from here
            self._ceiling = (max(audio, (sent + audio) * (1 - cut)), now)
            budget = self._ceiling[0] - audio
        headroom: float | None = None  # None: no ceiling known
        if (found := self._held_ceiling(now)) is not None:
            ceiling, since = found
            headroom = ceiling * (1 + knobs.ceiling_growth * (now - since)) - sent - audio
        result: dict[str, int] = {}
        # one paused stream tries again at a time, the first in priority, and the next
        # only once that try, or the last pause, has been judged (settle_s): three
        # keyframes at once into a link that just carried none would overfill it
        held = not may_resume or now - self._paused_changed_at < knobs.settle_s
        for choice in streams:
            layer_rates = rates[choice.key]
            active = [i for i, r in enumerate(layer_rates) if r > 0]
            if not choice.started:
                # a new stream starts on its lowest layer, waited for if the others
                # arrived first, and climbs while the link shows no loss: a weak link
                # is not flooded as it (re)connects
                choice.started = True
                self._set(choice, 0, now)
            elif active and not (choice.layer == PAUSED and held):
                was = choice.layer
                self._step(choice, layer_rates, active, budget, headroom, remb, loss, building, now)
                if was == PAUSED and choice.layer != PAUSED:
                    held, self._paused_changed_at = True, now
                if headroom is not None:
                    headroom -= _rate(layer_rates, choice.layer) - _rate(layer_rates, was)
            if budget is not None:
                budget -= _rate(layer_rates, choice.layer)
            if remb is not None:
                remb -= _rate(layer_rates, choice.layer)
            result[choice.key] = choice.layer
        return result

    def _step(
        self,
        choice: StreamChoice,
        rates: Sequence[int],
        active: list[int],
        budget: float | None,
        headroom: float | None,
        remb: float | None,
        loss: float,
        queue_building: bool,
        now: float,
    ) -> None:
        knobs = self.knobs
        settled = now - choice.switched_at >= knobs.settle_s
        # nothing goes up just after sending less (no report describes the link yet) or
        # while a queue builds
        unknown = now < self._deaf_until or queue_building
        tried = choice.tried_at is not None and now - choice.tried_at <= knobs.probe_s
        if choice.layer == PAUSED:
            # a REMB from before the pause says nothing of now: only the wait resumes
            fits = headroom is None or rates[active[0]] <= headroom
            rested = now - choice.switched_at >= choice.resume_wait_s
            if rested and budget is None and fits and not unknown:
                self._set(choice, active[0], now)
                choice.tried_at = now
            return
        current = choice.layer
        if current not in active:
            # its layer stopped arriving (the publisher dropped it): the nearest below,
            # never one above, which the link may not carry
            below = [i for i in active if i < current]
            if not below and choice.switches == 0 and not settled:
                return  # a new stream's lowest layer not here yet: it comes (waited for)
            self._set(choice, below[-1] if below else active[0], now)
            return
        if budget is not None and settled:
            fitting = [i for i in active if rates[i] <= budget]
            below = [i for i in active if i < current]
            if not fitting and tried and below:
                # a try up that overfilled the link: its loss says what the link carried
                # with the try's keyframe in it, not without; back to the layer it came
                # from, which it carried, and judged again from there
                self._back(choice, below[-1], now)
                return
            if not fitting:
                choice.resume_wait_s = (
                    min(knobs.resume_max_s, max(knobs.resume_s, 2 * choice.resume_wait_s))
                    if tried
                    else knobs.resume_s
                )
                self._set(choice, PAUSED, now)
                choice.pauses += 1
                return
            if fitting[-1] < current:
                if tried:
                    self._back(choice, fitting[-1], now)
                else:
                    self._set(choice, fitting[-1], now)
                return
        higher = [i for i in active if i > current]
        if not higher or loss > knobs.loss_clear or budget is not None or unknown:
            choice.up_since = None
            self._set(choice, current, now)
            return
        target = None
        if remb is not None:
            target = max((i for i in higher if rates[i] * knobs.up_margin <= remb), default=None)
        if target is not None:
            if choice.up_since is None:
                choice.up_since = now
            if now - choice.up_since >= knobs.up_hold_s:
                self._set(choice, target, now)
            return
        choice.up_since = None
        fits = headroom is None or rates[higher[0]] - rates[current] <= headroom
        if fits and now - choice.switched_at >= (choice.probe_wait_s or knobs.climb_s):
            self._set(choice, higher[0], now)
            choice.tried_at = now
            return
        self._set(choice, current, now)

    def _back(self, choice: StreamChoice, layer: int, now: float) -> None:
        """A try up the link answered with loss: down to ``layer``, and the next try
        waits twice as long.  The try's loss and queue are not held against ``layer``:
        the switch takes up to ``settle_s`` (the lower layer's keyframe, the queue
        draining) and a report heard up to ``report_span_s`` later still describes
        packets sent before it had (measured: a round trip with the try's queue in it
        heard the first tick after ``settle_s``, which paused the lowest layer), so
        nothing is heard until then, and what is heard after starts afresh."""
        knobs = self.knobs
        choice.probe_wait_s = min(knobs.probe_max_s, 2 * choice.probe_wait_s or knobs.probe_s)
        self._set(choice, layer, now)
        self.sent_less(now, knobs.settle_s + knobs.report_span_s)

    def _set(self, choice: StreamChoice, layer: int, now: float) -> None:
        if layer == choice.layer:
            return
        if choice.layer != PAUSED and layer != PAUSED:
            choice.switches += 1
        if layer == PAUSED:
            self._paused_changed_at = now
        if layer == PAUSED or (choice.layer != PAUSED and layer < choice.layer):
            self.sent_less(now)
        choice.layer = layer
        choice.switched_at = now
        choice.up_since = None


def _rate(rates: Sequence[int], layer: int) -> int:
    return 0 if layer == PAUSED or layer >= len(rates) else rates[layer]
