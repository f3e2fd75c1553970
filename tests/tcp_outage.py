"""A loopback TCP relay that can black-hole its link for a while, like a dropped uplink,
and can hold every byte for a one-way delay, like a long international path."""

from __future__ import annotations

import asyncio
import contextlib


class OutageRelay:
    """Forwards 127.0.0.1:<port> to a target; `outage(s)` silently drops all traffic for s.

    With `delay_s`, each direction delivers what it read `delay_s` later, in order
    (a round trip through the relay then takes at least twice that).
    """

    def __init__(self, target_port: int, *, delay_s: float = 0.0) -> None:
        if delay_s < 0:
            raise ValueError("delay_s must be >= 0")
        self._target_port = target_port
        self._delay_s = delay_s
        self._server: asyncio.Server | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._up = asyncio.Event()
        self._up.set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for a, b in list(self._links):
            a.transport.abort()
            b.transport.abort()
        if self._server is not None:
            await self._server.wait_closed()

    def outage(self, seconds: float) -> None:
        """Black-hole every link now (no FIN, no RST, like a dead radio); restore later."""
        self._up.clear()
        asyncio.get_running_loop().call_later(seconds, self._restore)

    def _restore(self) -> None:
        # Connections that lived through the outage are dead to both ends by now.
        for a, b in list(self._links):
            a.transport.abort()
            b.transport.abort()
        self._links.clear()
        self._up.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target_port)
        except OSError:
            writer.transport.abort()
            return
        link = (writer, up_writer)
        self._links.add(link)
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        self._links.discard(link)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Deliver what `reader` gives to `writer`, each read `delay_s` after it came, in order."""
        loop = asyncio.get_running_loop()
        # (due time, bytes), FIFO; b"" marks the end of the stream
        held: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, data = await held.get()
                if due > loop.time():
                    await asyncio.sleep(due - loop.time())  # the path's latency itself
                if not data:
                    return
                if self._up.is_set():
                    writer.write(data)
                    await writer.drain()

        delivering = asyncio.ensure_future(deliver())
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                held.put_nowait((loop.time() + self._delay_s, data))
            held.put_nowait((loop.time() + self._delay_s, b""))
            await delivering
        delivering.cancel()
        writer.transport.abort()
