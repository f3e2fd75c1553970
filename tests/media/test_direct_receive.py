"""``media.aiortc_internals.direct.run_now``: a datagram's handler runs in the
callback that received it, and one that does wait is carried on by a task."""

from __future__ import annotations

import asyncio

import pytest

from media.aiortc_internals import direct
from media.aiortc_internals.direct import run_now


async def test_a_handler_that_never_waits_is_done_before_run_now_returns() -> None:
    steps: list[str] = []

    async def inner() -> None:
        steps.append("inner")

    async def handler() -> None:
        await inner()  # awaits that complete at once, as aiortc's sends do
        steps.append("done")

    run_now(handler())
    assert steps == ["inner", "done"]


async def test_a_handler_that_waits_carries_on_in_a_task_with_what_it_awaited() -> None:
    steps: list[object] = []
    loop = asyncio.get_running_loop()
    future: asyncio.Future[int] = loop.create_future()

    async def handler() -> None:
        steps.append("before")
        steps.append(await future)
        await asyncio.sleep(0.01)
        steps.append("after")

    run_now(handler())
    assert steps == ["before"]
    loop.call_soon(future.set_result, 42)
    for _ in range(50):
        await asyncio.sleep(0.01)
        if "after" in steps:
            break
    assert steps == ["before", 42, "after"]


async def test_an_exception_is_thrown_into_a_waiting_handler() -> None:
    caught: list[BaseException] = []
    loop = asyncio.get_running_loop()
    future: asyncio.Future[int] = loop.create_future()

    async def handler() -> None:
        try:
            await future
        except ValueError as exc:
            caught.append(exc)

    run_now(handler())
    future.set_exception(ValueError("lost"))
    for _ in range(50):
        await asyncio.sleep(0.01)
        if caught:
            break
    assert [str(e) for e in caught] == ["lost"]


async def test_a_handler_failing_on_every_packet_is_logged_once_per_interval(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    now = [100.0]
    monkeypatch.setattr(direct, "failures", direct.FailureLog(clock=lambda: now[0]))

    async def handler() -> None:
        raise ZeroDivisionError("float division by zero")

    for _ in range(500):  # 9.5 s of a publisher's video, every packet failing
        run_now(handler())
        now[0] += 0.019
    logged = [r for r in caplog.records if r.name == direct.logger.name]
    assert len(logged) == 1 and logged[0].exc_info is not None  # with its traceback
    assert "(0 more failed" in logged[0].getMessage()
    assert direct.failures.unlogged == 499
    now[0] += 0.5  # the interval is over: the next failure is logged, with the count
    run_now(handler())
    logged = [r for r in caplog.records if r.name == direct.logger.name]
    assert len(logged) == 2 and "(499 more failed since the last logged)" in logged[1].getMessage()


async def test_a_handler_failing_after_it_waited_is_logged_as_one_that_did_not(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(direct, "failures", direct.FailureLog())
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def handler() -> None:
        await future
        raise ZeroDivisionError("after the wait")

    run_now(handler())
    (task,) = direct._pending
    future.set_result(None)
    await task  # the task's own exception was taken care of: it ends cleanly
    logged = [r for r in caplog.records if r.name == direct.logger.name]
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert "after the wait" in str(logged[0].exc_info[1])
