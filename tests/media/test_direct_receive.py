"""``media.aiortc_internals.direct.run_now``: a datagram's handler runs in the
callback that received it, and one that does wait is carried on by a task."""

from __future__ import annotations

import asyncio

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
