"""Which code unprotects and parses an arriving RTP packet and takes its VP8 payload
descriptor off: the C of ``_rtp_parse.c`` or pylibsrtp's ``Session.unprotect`` and
aiortc's own ``RtpPacket.parse`` and ``vp8_depayload``: the same packet and payload
either way (tests/media/test_rtp_parse.py).

``CAUCUS_RTP_PARSE``: ``auto`` (the default: the C if it was built), ``native``
(required) or ``python``.  Read once, by :func:`~media.aiortc_internals.install`:
the C takes the place of ``RtpPacket.parse`` where ``RTCDtlsTransport._handle_rtp_data``
calls it (its module's name ``RtpPacket``; pinned by test_aiortc_internals.py), of
``vp8_depayload`` in :data:`DEPAYLOAD`, which the forwarding receive step reads, and
of ``Session.unprotect`` in :func:`unprotect`, which the direct receive calls.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from aiortc import rtcdtlstransport
from aiortc.codecs.h264 import h264_depayload
from aiortc.codecs.vpx import vp8_depayload
from aiortc.rtp import HeaderExtensions, RtpPacket
from pylibsrtp import ERRORS, Error, Session
from pylibsrtp._binding import ffi, lib  # type: ignore[import-not-found]

from media.aiortc_internals.native_send import choice, srtp_context

try:
    import media.aiortc_internals._rtp_parse as _rtp_parse
except ImportError:  # not built: aiortc parses
    _rtp_parse = None  # type: ignore[assignment]


def rtp_parse(env: Mapping[str, str] = os.environ) -> str:
    """``native`` or ``python``: the code that parses arriving RTP packets under ``env``."""
    return choice("CAUCUS_RTP_PARSE", "_rtp_parse.c", _rtp_parse is not None, env)


class NativeParse:
    """Stands in for ``RtpPacket`` in ``aiortc.rtcdtlstransport``, which only calls
    its ``parse``: the C one, making plain ``RtpPacket``s."""

    parse = staticmethod(_rtp_parse.parse if _rtp_parse is not None else RtpPacket.parse)


#: aiortc's ``depayload`` as a table: a codec's name to what takes its payload
#: descriptor off (a codec not named here has none).  :func:`install` fills it.
DEPAYLOAD: dict[str, Callable[[bytes], bytes]] = {"VP8": vp8_depayload, "H264": h264_depayload}


def python_unprotect(session: Session, packet: bytes) -> bytes:
    """pylibsrtp's own (packets of up to 1,500 bytes: a longer one is a ValueError)."""
    return session.unprotect(packet)


#: ``unprotect(session, packet)``: an SRTP packet's RTP, or pylibsrtp's ``Error``
unprotect: Callable[[Session, bytes], bytes] = python_unprotect


def configure_native() -> None:
    """Tell the C what it works with: aiortc's packet classes, pylibsrtp's
    ``srtp_unprotect``, its sessions' ``srtp_t`` and its errors (idempotent)."""
    _rtp_parse.configure(RtpPacket, HeaderExtensions)
    _rtp_parse.configure_unprotect(
        int(ffi.cast("uintptr_t", ffi.addressof(lib, "srtp_unprotect"))),
        srtp_context,
        Error,
        ERRORS,
    )


def install(env: Mapping[str, str] = os.environ) -> None:
    """Parse with the C where ``CAUCUS_RTP_PARSE`` says so (process-wide, idempotent)."""
    global unprotect
    if rtp_parse(env) == "native":
        configure_native()
        vars(rtcdtlstransport)["RtpPacket"] = NativeParse
        DEPAYLOAD["VP8"] = _rtp_parse.vp8_depayload
        unprotect = _rtp_parse.unprotect
    else:
        vars(rtcdtlstransport)["RtpPacket"] = RtpPacket
        DEPAYLOAD["VP8"] = vp8_depayload
        unprotect = python_unprotect


def installed() -> str:
    """``native`` or ``python``: which parse ``_handle_rtp_data`` calls now."""
    return "native" if vars(rtcdtlstransport)["RtpPacket"] is NativeParse else "python"
