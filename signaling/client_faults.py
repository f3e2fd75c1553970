"""One log line for a client's mistake, at most once per interval per kind: never a traceback.

A hostile or broken client can send thousands of bad frames, answers or bodies a
second; each is refused with its error code, and the log says so in one WARNING
line per kind and interval, with how many more were refused meanwhile.  Server
faults are not logged here: they keep `logger.exception` and their traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

#: seconds between two lines about the same kind of client mistake
DEFAULT_INTERVAL_S = 10.0


class ClientFaultLog:
    def __init__(
        self,
        logger: logging.Logger,
        interval_s: float = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval_s = interval_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        #: refusals since the start, per kind, logged or not (/metrics reads them)
        self.refusals: dict[str, int] = {}

    def refused(self, kind: str, reason: str) -> None:
        """Note that a client's `kind` of input was refused because of `reason`."""
        self.refusals[kind] = self.refusals.get(kind, 0) + 1
        now = self._clock()
        last = self._last.get(kind)
        if last is not None and now - last < self._interval_s:
            self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
            return
        self._last[kind] = now
        more = self._suppressed.pop(kind, 0)
        suffix = f" ({more} more refused since the last line)" if more else ""
        self._logger.warning("refused a client's %s: %s%s", kind, reason[:200], suffix)
