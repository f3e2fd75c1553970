"""SRTP and SRTCP handled in the datagram callback, not through aioice's queue.

Stock, every datagram from the peer goes: the socket's ``datagram_received``
→ ``Connection.data_received`` puts it on an ``asyncio.Queue`` → the DTLS
transport's receive task wakes up (a future, a loop iteration) and awaits it
through three coroutines (``Connection.recvfrom``, ``RTCIceTransport._recv``,
``RTCDtlsTransport._recv_next``) → unprotect → ``_handle_rtp_data``.  For a
forwarding server that hop is ~10 % of its CPU and gains nothing: what follows
it (unprotect, parse, route, the receiver's handling, the forwarding) never
waits for anything.

:func:`deliver_directly` makes a connection do what ``_recv_next`` does for an
SRTP/SRTCP datagram (count it, take the arrival time, unprotect, hand it on to
``_handle_rtp_data`` / ``_handle_rtcp_data``) right in ``data_received``,
driving the handler's coroutine there (:func:`run_now`).  Everything else
(STUN, DTLS records) still takes the queue, and so does SRTP while anything is
queued ahead of it, or before DTLS is up, so the order of arrival is kept.
``port_guard`` calls :func:`direct_receiver` from its ``data_received``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Generator
from typing import Any

import aioice.ice
import pylibsrtp
from aiortc import RTCPeerConnection
from aiortc.rtcdtlstransport import RTCDtlsTransport, State
from aiortc.rtp import is_rtcp

import media.aiortc_internals.native_parse as native_parse

logger = logging.getLogger(__name__)

_NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
_pending: set[asyncio.Future[Any]] = set()
#: a handler's failure is logged with its traceback at most this often, the rest counted
FAILURE_LOG_INTERVAL_S = 10.0


class FailureLog:
    """What :func:`run_now` logs when a datagram's handler raises: one traceback per
    ``FAILURE_LOG_INTERVAL_S`` and how many failed meanwhile, not one per packet (a
    publisher whose every packet fails would otherwise write a traceback 50–100
    times a second)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._logged_at: float | None = None
        self.unlogged = 0

    def failed(self) -> None:
        """Call from an ``except`` block: log its exception, or count it."""
        now = self._clock()
        if self._logged_at is not None and now - self._logged_at < FAILURE_LOG_INTERVAL_S:
            self.unlogged += 1
            return
        logger.exception(
            "handling a received datagram failed (%d more failed since the last logged)",
            self.unlogged,
        )
        self._logged_at, self.unlogged = now, 0


failures = FailureLog()

DirectReceiver = Callable[[bytes], bool]


def deliver_directly(pc: RTCPeerConnection) -> None:
    """Handle ``pc``'s SRTP/SRTCP as it arrives (call once its first transceiver
    exists: with max-bundle every transceiver shares that one's transports)."""
    dtls = pc.getTransceivers()[0].receiver.transport
    connection = dtls.transport._connection
    connection._direct_receiver = lambda data: _receive(dtls, connection, data)  # type: ignore[attr-defined]


def direct_receiver(connection: aioice.ice.Connection) -> DirectReceiver | None:
    receiver: DirectReceiver | None = getattr(connection, "_direct_receiver", None)
    return receiver


def _receive(dtls: RTCDtlsTransport, connection: aioice.ice.Connection, data: bytes) -> bool:
    """``RTCDtlsTransport._recv_next`` for one SRTP/SRTCP datagram; False: queue it."""
    if not 127 < data[0] < 192 or dtls._rx_srtp is None or dtls._state is not State.CONNECTED:
        return False
    if not connection._queue.empty():
        return False  # keep the order: what came before is still queued
    dtls._RTCDtlsTransport__rx_bytes += len(data)  # type: ignore[attr-defined]
    dtls._RTCDtlsTransport__rx_packets += 1  # type: ignore[attr-defined]
    # aiortc.clock.current_ms() (milliseconds since 1900) without two datetimes
    arrival_time_ms = int((time.time() + _NTP_EPOCH_OFFSET) * 1000)
    try:
        if is_rtcp(data):
            run_now(dtls._handle_rtcp_data(dtls._rx_srtp.unprotect_rtcp(data)))
        else:
            run_now(
                dtls._handle_rtp_data(native_parse.unprotect(dtls._rx_srtp, data), arrival_time_ms)
            )
    except (pylibsrtp.Error, ValueError):
        pass  # what aiortc does with a datagram that does not decrypt (or is too long for it)
    return True


def run_now(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` here and now, as far as it goes without waiting; if it does
    wait for something, a task carries on from there (Python 3.12's eager tasks)."""
    try:
        waiting_on = coro.send(None)
    except StopIteration:
        return
    except Exception:
        failures.failed()
        return
    task = asyncio.ensure_future(_carry_on(coro, waiting_on))
    _pending.add(task)
    task.add_done_callback(_pending.discard)


async def _carry_on(coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
    try:
        await _Suspended(coro, waiting_on)
    except Exception:  # as run_now's: logged (or counted), not left in the task unread
        failures.failed()


class _Suspended:
    """A started coroutine, awaitable from where it stopped: the task running
    this gets the future it is waiting on, and sends or throws into it."""

    def __init__(self, coro: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._coro = coro
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        coro, waiting_on = self._coro, self._waiting_on
        while True:
            try:
                sent = yield waiting_on
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # e.g. the task was cancelled
                try:
                    waiting_on = coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    waiting_on = coro.send(sent)
                except StopIteration:
                    return
