"""``CAUCUS_EVENT_LOOP``: which event loop ``caucus serve`` runs on."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from caucus import event_loop

HAS_UVLOOP = importlib.util.find_spec("uvloop") is not None


def test_auto_picks_uvloop_when_it_is_installed_and_asyncio_otherwise() -> None:
    expected = "uvloop" if HAS_UVLOOP else "asyncio"
    assert event_loop.loop_name({}) == expected
    assert event_loop.loop_name({"CAUCUS_EVENT_LOOP": "auto"}) == expected


def test_asyncio_can_be_chosen_and_runs_asyncios_own_loop() -> None:
    async def kind() -> type[asyncio.AbstractEventLoop]:
        return type(asyncio.get_running_loop())

    env = {"CAUCUS_EVENT_LOOP": "asyncio"}
    assert event_loop.loop_name(env) == "asyncio"
    assert issubclass(event_loop.run(kind(), env), asyncio.BaseEventLoop)


def test_an_unknown_loop_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="CAUCUS_EVENT_LOOP must be one of auto, uvloop, asyncio"):
        event_loop.loop_name({"CAUCUS_EVENT_LOOP": "trio"})


@pytest.mark.skipif(not HAS_UVLOOP, reason="uvloop is not installed")
def test_uvloop_runs_uvloops_loop() -> None:
    async def module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert event_loop.run(module(), {"CAUCUS_EVENT_LOOP": "uvloop"}) == "uvloop"
