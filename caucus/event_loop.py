"""Which event loop runs Caucus: uvloop when it is installed, asyncio's own otherwise.

The SFU forwards every RTP packet on one event loop, so the loop's own cost per
datagram (a readiness event, a read, a callback; a ``sendto`` per copy) is part
of the cost of every forwarded packet.  uvloop (libuv, in C) does that work for
less CPU than asyncio's pure-Python selector loop (docs/PERFORMANCE.md,
"Forwarding": measured before/after in one sitting).  Nothing in Caucus needs
uvloop: without it, or with ``CAUCUS_EVENT_LOOP=asyncio``, asyncio's loop runs
the same code (the tests run on asyncio's loop, and ``tests/media/test_uvloop.py``
runs real forwarding on uvloop).

``CAUCUS_EVENT_LOOP``: ``auto`` (the default: uvloop if importable), ``uvloop``
(required: an error if it is missing) or ``asyncio``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

T = TypeVar("T")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]

CHOICES = ("auto", "uvloop", "asyncio")


def loop_name(env: Mapping[str, str] = os.environ) -> str:
    """``uvloop`` or ``asyncio``: the loop :func:`new_event_loop` makes under ``env``."""
    choice = env.get("CAUCUS_EVENT_LOOP", "auto").strip().lower() or "auto"
    if choice not in CHOICES:
        raise ValueError(f"CAUCUS_EVENT_LOOP must be one of {', '.join(CHOICES)}, not {choice!r}")
    if choice == "auto":
        return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
    if choice == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise ValueError("CAUCUS_EVENT_LOOP=uvloop, but uvloop is not installed")
    return choice


def loop_factory(env: Mapping[str, str] = os.environ) -> LoopFactory:
    """What makes a new event loop of the configured kind."""
    if loop_name(env) == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return asyncio.new_event_loop


def new_event_loop(env: Mapping[str, str] = os.environ) -> asyncio.AbstractEventLoop:
    return loop_factory(env)()


def run(main: Coroutine[Any, Any, T], env: Mapping[str, str] = os.environ) -> T:
    """``asyncio.run(main)`` on the configured loop."""
    with asyncio.Runner(loop_factory=loop_factory(env)) as runner:
        return runner.run(main)
