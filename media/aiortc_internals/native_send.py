"""Which code sends a forwarded copy: the C of ``_rtp_send.c`` or the Python of
:mod:`.senders`, the same steps either way (header, sender-report counters, SRTP,
``sendto`` on the nominated pair).

The C is an optional extension that ``scripts/setup.sh`` builds (``setup.py``; it
needs gcc and the Python headers).  Where it was not built, the Python sends.

``CAUCUS_RTP_SEND``: ``auto`` (the default: the C if it was built), ``native``
(required: an error if it is missing) or ``python``.  It is read when a sender is
negotiated, so a test can run one connection each way.
"""

from __future__ import annotations

import asyncio.selector_events
import os
from collections.abc import Callable, Mapping
from typing import Any

from aiortc import RTCRtpSender
from aiortc.rtcdtlstransport import State as DtlsState
from pylibsrtp import SRTP_MAX_TRAILER_LEN, Session
from pylibsrtp._binding import ffi, lib  # type: ignore[import-not-found]

try:
    import media.aiortc_internals._rtp_send as _rtp_send
except ImportError:  # not built: the Python sends
    _rtp_send = None  # type: ignore[assignment]

CHOICES = ("auto", "native", "python")
PACKET_BUFFER = 1500  # pylibsrtp's: a packet and its SRTP trailer
#: the longest RTP packet SRTP protects in that buffer; a longer copy is dropped
MAX_PACKET = PACKET_BUFFER - SRTP_MAX_TRAILER_LEN

Write = Callable[[int, int, int, bytes, "tuple[bool, int] | None"], None]


def rtp_send(env: Mapping[str, str] = os.environ) -> str:
    """``native`` or ``python``: the code that sends forwarded copies under ``env``."""
    return choice("CAUCUS_RTP_SEND", "_rtp_send.c", _rtp_send is not None, env)


def choice(variable: str, source: str, built: bool, env: Mapping[str, str]) -> str:
    """``native`` or ``python`` for a piece with a C version (``source``), as the
    environment ``variable`` asks: ``auto`` (the C if it was ``built``), ``native``
    (an error if it was not) or ``python``."""
    asked = env.get(variable, "auto").strip().lower() or "auto"
    if asked not in CHOICES:
        raise ValueError(f"{variable} must be one of {', '.join(CHOICES)}, not {asked!r}")
    if asked == "auto":
        return "native" if built else "python"
    if asked == "native" and not built:
        raise ValueError(
            f"{variable}=native, but media/aiortc_internals/{source} was not built "
            "(scripts/setup.sh builds it; it needs gcc and python3.11-dev)"
        )
    return asked


def native_write(
    sender: RTCRtpSender,
    history: Any,
    payload_type: int,
    *,
    mid_element: bytes,
    abs_send_time_id: int | None,
    audio_level_id: int | None,
) -> Write:
    """The C ``write`` for ``sender``, filing into ``history`` (a ``NativeSentHistory``)."""
    _configure()
    writer = _rtp_send.RtpSend(
        sender,
        history,
        payload_type,
        sender._ssrc,
        mid_element,
        abs_send_time_id or 0,
        audio_level_id or 0,
    )
    write: Write = writer.write
    return write


_configured = False


def _configure() -> None:
    global _configured
    if not _configured:
        _rtp_send.configure(
            int(ffi.cast("uintptr_t", ffi.addressof(lib, "srtp_protect"))),
            MAX_PACKET,
            DtlsState.CONNECTED,
            srtp_context,
            _raw_socket,
        )
        _configured = True


def srtp_context(session: Session) -> int:
    """The ``srtp_t`` of a pylibsrtp session, which ``Session.protect`` passes libsrtp."""
    return int(ffi.cast("uintptr_t", session._srtp[0]))


def _plain_transports() -> tuple[type, ...]:
    plain: list[type] = [asyncio.selector_events._SelectorDatagramTransport]  # type: ignore[attr-defined]
    try:
        import uvloop.loop
    except ImportError:
        pass
    else:
        plain.append(uvloop.loop.UDPTransport)  # type: ignore[attr-defined]
    return tuple(plain)


_PLAIN = _plain_transports()


def _raw_socket(transport: Any) -> int:
    """The fd the C may ``sendto`` on for ``transport``; -1 for anything but an event
    loop's own UDP transport (a wrapper, e.g. an impaired test link, sends itself)."""
    if type(transport) not in _PLAIN:
        return -1
    sock = transport.get_extra_info("socket")
    return -1 if sock is None else int(sock.fileno())
