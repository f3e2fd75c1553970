"""Every async test ends within its timeout, as a failure that says where it waited.

pytest-timeout's default (signal) method raises its failure in whatever code
runs when the alarm fires. In an asyncio test that is usually a callback of the
event loop (a datagram arriving, a timer), whose exception the loop logs and
forgets: the test keeps waiting on whatever never comes, and the suite hangs
past every limit (a Firefox test under load did exactly that in CI).

So the test coroutine itself runs under ``asyncio.timeout`` a little shorter
than its pytest-timeout: the await that never finishes is cancelled, the
test's own cleanup runs (its ``async with`` and ``finally``), and before that
the stacks of every task still waiting are printed.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
from collections.abc import Callable, Coroutine, Generator
from typing import Any

import pytest

#: seconds left to pytest-timeout after the test's own bound: cleanup and teardown
CLEANUP_S = 20.0


def limit_of(item: pytest.Function) -> float | None:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        timeout = float(marker.args[0])
    else:
        configured = item.config.getini("timeout")
        timeout = float(configured) if configured else 0.0
    if timeout <= 0:
        return None
    return max(timeout - CLEANUP_S, timeout * 0.8)


def print_waiting_tasks() -> None:
    """Where every task of the loop waits (the one that never finished among them)."""
    for task in asyncio.all_tasks():
        print(f"--- {task.get_name()}: {task.get_coro()}", file=sys.stderr)
        task.print_stack(limit=12, file=sys.stderr)


def bounded(
    test: Callable[..., Coroutine[Any, Any, Any]], limit: float, name: str
) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(test)
    async def run(*args: Any, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(limit):
                return await test(*args, **kwargs)
        except TimeoutError:
            print(f"{name} still waits after {limit:.0f} s; the tasks:", file=sys.stderr)
            print_waiting_tasks()
            raise

    return run


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    if not isinstance(item, pytest.Function) or not inspect.iscoroutinefunction(item.obj):
        return (yield)
    limit = limit_of(item)
    if limit is None:
        return (yield)
    original = item.obj
    item.obj = bounded(original, limit, item.nodeid)
    try:
        return (yield)
    finally:
        item.obj = original
