"""Failed sign-ins counted in a sliding window, per account and per address.

Kept in this process's memory: each server process counts on its own, and a
restart forgets. That is enough to make guessing passwords slow (10 tries a
minute per account is ~14,000 a day, against argon2id hashes of passwords of
10+ characters) without a store of its own. The number of keys kept is
bounded, so a flood of made-up addresses cannot grow it without end.
"""

from __future__ import annotations

from collections import OrderedDict, deque

MAX_FAILURES = 10
WINDOW_S = 60.0
MAX_KEYS = 50_000


class FailedAttempts:
    def __init__(
        self, limit: int = MAX_FAILURES, window_s: float = WINDOW_S, max_keys: int = MAX_KEYS
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def blocked(self, key: str, now: float) -> float:
        """Seconds until `key` may try again (0.0: it may try now)."""
        times = self._recent(key, now)
        if times is None or len(times) < self.limit:
            return 0.0
        return max(0.0, times[-self.limit] + self.window_s - now)

    def failed(self, key: str, now: float) -> None:
        times = self._recent(key, now)
        if times is None:
            times = self._failures[key] = deque(maxlen=self.limit)
        times.append(now)
        self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)  # the key that failed longest ago

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)
