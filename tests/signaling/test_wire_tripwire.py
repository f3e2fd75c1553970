"""Fails loudly when the python-socketio/engineio private parts signaling/wire.py overrides change.

If one of these fails after an upgrade, re-read the named library source, adapt
signaling/wire.py (and its comments), then update ``wire.CHECKED_WITH`` and this file.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import engineio
import engineio.async_socket
import engineio.base_server
import pytest
import socketio
import socketio.async_server
import socketio.base_server
from engineio.async_drivers.aiohttp import WebSocket

from signaling import wire


def _params(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize("package", sorted(wire.CHECKED_WITH))
def test_the_installed_library_is_the_version_wire_was_checked_against(package: str) -> None:
    checked = wire.CHECKED_WITH[package]
    installed = version(package)
    assert installed.split(".")[:2] == checked.split(".")[:2], (
        f"signaling/wire.py overrides private parts of {package} {checked}, but {installed}"
        " is installed: re-check every override (tests/signaling/test_wire_tripwire.py)"
    )


# (what wire.py overrides or calls, its parameters in the checked version)
ORIGINALS: dict[str, tuple[Callable[..., Any], list[str]]] = {
    "socketio.AsyncServer._engineio_server_class": (
        socketio.AsyncServer._engineio_server_class,
        ["self"],
    ),
    "socketio.AsyncServer._handle_eio_message": (
        socketio.AsyncServer._handle_eio_message,
        ["self", "eio_sid", "data"],
    ),
    "socketio.AsyncServer._handle_event": (
        socketio.AsyncServer._handle_event,
        ["self", "eio_sid", "namespace", "id", "data"],
    ),
    "socketio.AsyncServer._trigger_event": (
        socketio.AsyncServer._trigger_event,
        ["self", "event", "namespace", "args"],
    ),
    "engineio.AsyncServer.handle_request": (
        engineio.AsyncServer.handle_request,
        ["self", "args", "kwargs"],
    ),
    "engineio.AsyncServer.disconnect": (engineio.AsyncServer.disconnect, ["self", "sid"]),
    "engineio.async_drivers.aiohttp.WebSocket.wait": (WebSocket.wait, ["self"]),
    "engineio.AsyncSocket.close": (
        engineio.async_socket.AsyncSocket.close,
        ["self", "wait", "abort", "reason"],
    ),
    "engineio.BaseServer._get_socket": (
        engineio.base_server.BaseServer._get_socket,
        ["self", "sid"],
    ),
}


@pytest.mark.parametrize("name", sorted(ORIGINALS))
def test_the_private_signatures_wire_relies_on_are_unchanged(name: str) -> None:
    function, expected = ORIGINALS[name]
    assert _params(function) == expected, f"{name} changed: re-check signaling/wire.py"


def test_each_override_takes_what_the_original_takes() -> None:
    pairs: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
        (wire.GuardedServer._handle_eio_message, socketio.AsyncServer._handle_eio_message),
        (wire.GuardedServer._handle_event, socketio.AsyncServer._handle_event),
        (wire.GuardedServer._trigger_event, socketio.AsyncServer._trigger_event),
        (wire.GuardedServer._engineio_server_class, socketio.AsyncServer._engineio_server_class),
        (wire._GuardedWebSocket.wait, WebSocket.wait),
    ]
    for override, original in pairs:
        assert _params(override) == _params(original), override.__qualname__


def test_the_library_still_calls_what_wire_overrides() -> None:
    """The overrides only work where the library looks them up by these names."""
    base = inspect.getsource(socketio.base_server.BaseServer.__init__)
    assert "self._engineio_server_class()(" in base
    dispatch = inspect.getsource(socketio.async_server.AsyncServer._handle_eio_message)
    assert "await self._handle_event(eio_sid, pkt.namespace, pkt.id" in dispatch
    # every client event (and connect/disconnect) goes through _trigger_event
    internal = inspect.getsource(socketio.async_server.AsyncServer._handle_event_internal)
    assert "await server._trigger_event(data[0], namespace, sid, *data[1:])" in internal
    assert "KeyError('Session is disconnected')" in inspect.getsource(
        engineio.base_server.BaseServer._get_socket
    )


def test_the_guarded_server_reaches_the_private_attributes_it_uses() -> None:
    server = wire.GuardedServer(async_mode="aiohttp")
    engine = server.eio
    assert type(engine) is wire._GuardedEngine
    # the driver table: its websocket class is swapped for the guarded one
    assert engine._async["websocket"] is wire._GuardedWebSocket
    assert isinstance(engine.sockets, dict)
    assert isinstance(engine.max_http_buffer_size, int)
    assert engine.reason.SERVER_DISCONNECT
