"""``CAUCUS_EVENT_LOOP``: which event loop ``caucus serve`` runs on (and the check of
``CAUCUS_RTP_SEND``, ``CAUCUS_RTP_PARSE`` and ``CAUCUS_UPLINK_ESTIMATE`` beside it)."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest

from caucus import event_loop
from tests.caucus.serve_refusal import refused_serve

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


@pytest.mark.parametrize(
    "variable", ["CAUCUS_RTP_SEND", "CAUCUS_RTP_PARSE", "CAUCUS_UPLINK_ESTIMATE"]
)
async def test_serve_refuses_an_unknown_native_choice_before_it_starts(
    tmp_path: Path, variable: str
) -> None:
    """``CAUCUS_RTP_SEND``, ``CAUCUS_RTP_PARSE`` and ``CAUCUS_UPLINK_ESTIMATE``
    (media/aiortc_internals/native_*.py) are read later, per sender, at install and per
    receiver; ``caucus serve`` checks them at start, so a typo is not the first
    subscriber's."""
    err = await refused_serve(tmp_path, {variable: "fast", "CAUCUS_MEDIA": "0"})
    assert err == f"caucus: {variable} must be one of auto, native, python, not 'fast'"
