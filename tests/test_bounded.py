"""tests/bounded.py: a test that waits forever fails at its bound, after its cleanup."""

from __future__ import annotations

import asyncio

import pytest

from tests.bounded import bounded


async def test_a_test_that_never_finishes_fails_at_its_bound_and_cleans_up(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cleaned = asyncio.Event()

    async def hangs() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.set()

    with pytest.raises(TimeoutError):
        await bounded(hangs, 0.1, "hangs")()
    assert cleaned.is_set()
    assert "hangs still waits after 0 s; the tasks:" in capsys.readouterr().err


async def test_a_test_that_finishes_in_time_returns_its_result() -> None:
    async def quick(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    assert await bounded(quick, 5, "quick")(1) == 2
