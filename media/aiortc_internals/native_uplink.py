"""Which code estimates a publisher's uplink (the REMB the SFU sends it): the C of
``_uplink.c`` or the Python of :class:`~media.aiortc_internals.remb.UplinkEstimator`:
the same estimate either way, bit for bit (tests/media/test_uplink_native.py).

The estimator runs once per arriving video packet (~8 % of the SFU's CPU in Python).
The C is an optional extension that ``scripts/setup.sh`` builds (``setup.py``); where it
was not built, the Python estimates.

``CAUCUS_UPLINK_ESTIMATE``: ``auto`` (the default: the C if it was built), ``native``
(required: an error if it is missing) or ``python``.  It is read when a video receiver
gets its estimator (:func:`~media.aiortc_internals.receivers.pass_through_receiver`),
so a test can run one connection each way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol

from media.aiortc_internals.native_send import choice
from media.aiortc_internals.remb import UplinkEstimator

try:
    import media.aiortc_internals._uplink as _uplink
except ImportError:  # not built: the Python estimates
    _uplink = None  # type: ignore[assignment]


class UplinkEstimate(Protocol):
    """What a receiver calls on its estimator, either one (aiortc's ``add``)."""

    def add(
        self, arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int, /
    ) -> tuple[int, list[int]] | None: ...

    def incoming_bitrate(self, now_ms: int, /) -> int | None: ...


def uplink_estimate(env: Mapping[str, str] = os.environ) -> str:
    """``native`` or ``python``: the code that estimates uplinks under ``env``."""
    return choice("CAUCUS_UPLINK_ESTIMATE", "_uplink.c", _uplink is not None, env)


def new_uplink_estimator(env: Mapping[str, str] = os.environ) -> UplinkEstimate:
    """A new estimator for one received video stream: the C one where
    ``CAUCUS_UPLINK_ESTIMATE`` says so, else :class:`UplinkEstimator`."""
    if uplink_estimate(env) == "native":
        return _uplink.UplinkEstimator()
    return UplinkEstimator()
