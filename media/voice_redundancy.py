"""Which of a subscriber's voices keep RED's redundant copy.  Pure, clock injected.

Video gives way first (:mod:`media.layers`): a short downlink has its videos
lowered, then paused.  If the link is still short with every video paused, what
overfills it is the audio, and RED doubles each voice (at 300 ms round trip it is
also what keeps a lost voice packet on time, so it goes only when it must).  The
voices then lose their redundant copy one at a time, lowest priority first
(:func:`~media.layers.seat_priority`: the mediator's and the parties' last).  A
thinned voice is still sent in full, as a RED packet with its primary block only
(RFC 2198 allows it: no payload type changes, nothing is renegotiated), so no
voice is ever paused for bandwidth.

* **thin** one more voice each ``settle_s`` while the shortage lasts (a loss
  report describes what was sent before the last change for about that long);
* **restore** the highest-priority thinned voice once the loss has stayed at or
  below the clear level for the restore wait; a restore that the link answers
  with shortage as soon as it may be judged (within 2 × ``settle_s``) doubles
  the wait (``restore_s`` up to ``restore_max_s``), so a link that cannot carry
  it is not flooded every few seconds; a shortage that comes later starts the
  wait afresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class VoiceKnobs:
    loss_short: float = 0.06
    """With every video paused, loss above this is the audio overfilling the link.
    Lower than video's threshold (media.layers): a layer too many drops far more,
    while RED voices that overfill a cap by a tenth drop about that, in bursts
    (a full queue) that RED cannot repair, on top of the link's own loss."""
    loss_clear: float = 0.02
    """Loss at or below this counts toward giving a copy back."""
    settle_s: float = 2.0
    """At least this long between two changes."""
    restore_s: float = 8.0
    """Clear loss for this long gives one thinned voice its copy back (then doubling)."""
    restore_max_s: float = 64.0


class VoiceRedundancy:
    """The voices of one subscriber sent without their redundant copy."""

    def __init__(self, knobs: VoiceKnobs | None = None) -> None:
        self.knobs = knobs or VoiceKnobs()
        self.thinned: list[str] = []  # in the order thinned: the last is restored first
        self._changed_at = float("-inf")
        self._restored_at = float("-inf")
        self._clear_since: float | None = None
        self._restore_wait = self.knobs.restore_s

    def choose(
        self,
        voices: Mapping[str, int],
        *,
        loss: float,
        video_forwarded: bool,
        now: float,
        queued: bool = False,
        queue_clear: bool = True,
    ) -> frozenset[str]:
        """The voices (key -> priority, lower served first) to send without their copy.

        ``loss``: the subscriber's smoothed loss (short above ``loss_short``, clear at
        or below ``loss_clear``); ``video_forwarded``: some video still reaches the
        subscriber (then video gives way first, and nothing is thinned);
        ``queued``: the round trip shows a queue building (media.layers), which is
        short whatever the loss, and ``queue_clear`` False: a queue too long to give
        a copy back.  The loss a receiver reports for audio is what is still missing
        after NACK (a retransmission counts as received: audio has no RTX stream),
        so a link whose queue overflows may report almost none.
        """
        knobs = self.knobs
        self.thinned = [key for key in self.thinned if key in voices]
        settled = now - self._changed_at >= knobs.settle_s
        if loss > knobs.loss_short or queued:
            self._clear_since = None
            if settled and not video_forwarded:
                self._thin_one(voices, now)
        elif loss <= knobs.loss_clear and queue_clear:
            if self._clear_since is None:
                self._clear_since = now
            if self.thinned and settled and now - self._clear_since >= self._restore_wait:
                self.thinned.pop()
                self._changed_at = self._restored_at = now
                self._clear_since = now
        else:
            self._clear_since = None
        return frozenset(self.thinned)

    def all_restored(self, now: float) -> bool:
        """Every voice has its copy, and the last one given back was carried (judged
        for 2 × ``settle_s``): paused video may try again (media.layers)."""
        return not self.thinned and now - self._restored_at > 2 * self.knobs.settle_s

    def _thin_one(self, voices: Mapping[str, int], now: float) -> None:
        kept = [key for key in voices if key not in self.thinned]
        if not kept:
            return
        if now - self._restored_at <= 2 * self.knobs.settle_s:
            # the voice just given back overfilled the link: wait longer next time
            self._restore_wait = min(self.knobs.restore_max_s, 2 * self._restore_wait)
        else:
            self._restore_wait = self.knobs.restore_s  # a new shortage
        self.thinned.append(max(kept, key=lambda key: (voices[key], key)))
        self._changed_at = now
