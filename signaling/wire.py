"""The Socket.IO server, guarded against malformed frames from clients.

python-socketio decodes each engine.io message into a packet and dispatches it;
a frame that does not decode (bad JSON, JSON nested past the recursion limit, an
over-long ack id, an unknown packet type) or an EVENT whose data is not
``[name: str, ...]`` raises inside its message handler, and engine.io logs each
one with a traceback; an empty or untyped WebSocket frame escapes engine.io's
receive loop and reaches aiohttp as a failed request.  Here any of them closes
that client's connection and leaves one rate-limited WARNING line.  Binary
packets are refused too: the protocol (docs/protocol.md) has none, and each
would hold attachments in memory until its last one arrived.

This overrides underscored parts of python-socketio and python-engineio,
checked against the versions in ``CHECKED_WITH``: tests/signaling/test_wire_tripwire.py
fails if a private name or signature used here changes (or the version moves on),
tests/hardening/test_socket_frames.py if their behaviour does.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

import engineio
import socketio
from aiohttp import web
from engineio.async_drivers.aiohttp import WebSocket

from signaling import safe_json
from signaling.client_faults import ClientFaultLog

logger = logging.getLogger(__name__)
client_faults = ClientFaultLog(logger)

#: the library versions whose private parts the overrides below were checked against
CHECKED_WITH = {"python-socketio": "5.18.1", "python-engineio": "4.15.1"}

#: Socket.IO packet types 5 and 6 (BINARY_EVENT, BINARY_ACK), as the first character
_BINARY_TYPES = ("5", "6")
#: engine.io packet types of a text frame, open .. noop ("b", base64 binary, is not
#: part of this protocol: its decoding fails loudly on bad padding)
_ENGINEIO_TYPES = frozenset("0123456")
#: what decoding a client's bytes raises (JSONDecodeError and UnicodeError are ValueErrors)
CLIENT_DECODE_ERRORS = (ValueError, TypeError, KeyError, IndexError, RecursionError)


class LibraryLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The logger handed to python-socketio and python-engineio.

    Both log a client's mistakes (a foreign Origin, an unknown session id, an
    event for a namespace it never joined, a polling body that does not decode)
    with `error`, `warning` or `exception`: here those become one rate-limited
    line.  An `exception` for anything else keeps its traceback; the libraries'
    per-packet INFO chatter stays below the WARNING level.
    """

    def __init__(self, name: str) -> None:
        library_logger = logging.getLogger(name)
        library_logger.setLevel(logging.WARNING)
        super().__init__(library_logger, {})

    def warning(self, msg: object, *args: object, **kwargs: Any) -> None:
        client_faults.refused("Socket.IO request", str(msg) % args if args else str(msg))

    error = warning

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, CLIENT_DECODE_ERRORS):
            client_faults.refused("Socket.IO frame", f"{type(exc).__name__}: {exc}")
        else:
            self.logger.exception(msg, *args, **kwargs)


class MalformedFrame(ValueError):
    pass


class _GuardedWebSocket(WebSocket):  # type: ignore[misc]
    # overrides engineio.async_drivers.aiohttp.WebSocket.wait(self), checked: engineio 4.15.1
    async def wait(self) -> Any:
        message = await super().wait()
        if isinstance(message, str) and (not message or message[0] not in _ENGINEIO_TYPES):
            client_faults.refused("WebSocket frame", "not an engine.io packet")
            return None  # engine.io's receive loop reads None as "closed by the client"
        return message


class _GuardedEngine(engineio.AsyncServer):  # type: ignore[misc]
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # engineio's private driver table AsyncServer._async["websocket"], checked: 4.15.1
        drivers: dict[str, Any] | None = getattr(self, "_async", None)
        if drivers is not None and drivers.get("websocket") is WebSocket:
            self._async = {**drivers, "websocket": _GuardedWebSocket}

    async def handle_request(self, request: web.Request) -> Any:
        if request.method == "POST" and (request.content_length or 0) > self.max_http_buffer_size:
            return await self._refuse_oversized_post(request)
        try:
            return await super().handle_request(request)
        except KeyError as exc:
            # A polling request for a session that is closing (engine.io looks it up
            # after checking it exists): the client's race, answered like a bad sid.
            # The message is BaseServer._get_socket's, checked: engineio 4.15.1.
            if "Session is disconnected" not in str(exc):
                raise
            client_faults.refused("Socket.IO request", "a request for a closed session")
            return web.Response(status=400, text="Session is disconnected")

    async def _refuse_oversized_post(self, request: web.Request) -> web.Response:
        """Close the session at once and answer 413.

        engine.io would close it waiting for the client's next GET to collect the
        CLOSE packet, inside this very POST: the client would hear nothing until
        its session timed out.
        """
        client_faults.refused("Socket.IO request", "a polling POST over the size limit")
        # AsyncServer.sockets and AsyncSocket.close(wait=, reason=), checked: engineio 4.15.1
        socket = self.sockets.pop(request.query.get("sid", ""), None)
        if socket is not None:
            await socket.close(wait=False, reason=self.reason.SERVER_DISCONNECT)
        return web.Response(status=413, text="the packet is too large")


class GuardedServer(socketio.AsyncServer):  # type: ignore[misc]
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("json", safe_json)
        super().__init__(**kwargs)
        self._closing: set[asyncio.Future[None]] = set()
        #: told of every event a client's socket caused (connect and disconnect
        #: included) and what its handler answered (/metrics counts them by name and code)
        self.event_observers: list[Callable[[str, Any], None]] = []

    # overrides socketio.AsyncServer._engineio_server_class(self), checked: socketio 5.18.1
    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return _GuardedEngine

    # overrides AsyncServer._handle_eio_message(self, eio_sid, data), checked: socketio 5.18.1
    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            if not isinstance(data, str) or data[:1] in _BINARY_TYPES:
                raise MalformedFrame("binary packets are not part of this protocol")
            await super()._handle_eio_message(eio_sid, data)
        except CLIENT_DECODE_ERRORS as exc:
            # Decoding and dispatch only: every event handler runs in its own task.
            client_faults.refused("Socket.IO frame", f"{type(exc).__name__}: {exc}")
            # Not awaited: engine.io runs this handler inside the client's polling
            # POST, and closing waits for the client's next GET to flush the queue.
            closing = asyncio.ensure_future(self.eio.disconnect(eio_sid))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)

    # overrides AsyncServer._handle_event(self, eio_sid, namespace, id, data),
    # checked: socketio 5.18.1
    async def _handle_event(self, eio_sid: str, namespace: str, id: Any, data: Any) -> None:
        if not (isinstance(data, list) and data and isinstance(data[0], str)):
            raise MalformedFrame("an event is [name, ...payload] with a string name")
        await super()._handle_event(eio_sid, namespace, id, data)

    # overrides AsyncServer._trigger_event(self, event, namespace, *args),
    # checked: socketio 5.18.1
    async def _trigger_event(self, event: str, namespace: str, *args: Any) -> Any:
        result = await super()._trigger_event(event, namespace, *args)
        for observe in self.event_observers:
            try:
                observe(event, result)
            except Exception:
                logger.exception("an event observer failed on %r", event)
        return result
