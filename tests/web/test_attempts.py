"""The failed sign-in count: a sliding window per key, bounded in the keys it keeps."""

from __future__ import annotations

from web.attempts import FailedAttempts


def test_the_limit_holds_for_a_window_after_the_tenth_failure() -> None:
    attempts = FailedAttempts(limit=10, window_s=60.0)
    for n in range(10):
        assert attempts.blocked("ada", 100.0 + n) == 0.0
        attempts.failed("ada", 100.0 + n)
    assert attempts.blocked("ada", 109.5) == 50.5  # until the first failure is a minute old
    assert attempts.blocked("tom", 109.5) == 0.0
    assert attempts.blocked("ada", 160.0) == 0.0  # the first has slid out: one try back
    attempts.failed("ada", 160.0)
    assert attempts.blocked("ada", 160.5) == 0.5
    attempts.clear("ada")
    assert attempts.blocked("ada", 160.5) == 0.0


def test_old_keys_are_forgotten_first_when_too_many_are_kept() -> None:
    attempts = FailedAttempts(limit=1, window_s=60.0, max_keys=3)
    for key in ["a", "b", "c", "d"]:
        attempts.failed(key, 0.0)
    assert [attempts.blocked(k, 1.0) > 0 for k in "abcd"] == [False, True, True, True]
    assert attempts.blocked("b", 61.0) == 0.0
