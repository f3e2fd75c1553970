"""Fails loudly when the aioice internals that media/aiortc_internals/port_guard.py
replaces or relies on change (the rest of aiortc/aioice: test_aiortc_internals.py).

If one of these fails after an upgrade, re-read the named aioice source, adapt
port_guard, then update the pin and the fingerprints here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aioice
import aioice.ice
import aioice.stun
import pytest

from media import aiortc_internals
from media.aiortc_internals import port_guard
from tests.media.fingerprints import fingerprint, params

PORT_GUARD_FINGERPRINTS: dict[str, tuple[Callable[..., Any], str]] = {
    # parses every datagram as STUN; hands anything else to data_received from any
    # source; answers requests via Connection.request_received, responses via
    # the transaction of the same id.  Replaced by _guarded_datagram_received.
    "aioice.StunProtocol.datagram_received": (
        port_guard._original_datagram_received,
        "ff4c8b910d45fb3a",
    ),
    # put_nowait into the unbounded _queue; replaced by _bounded_data_received
    "aioice.Connection.data_received": (port_guard._original_data_received, "5631b17fab717d6b"),
    # 400/401 for what fails USERNAME/MESSAGE-INTEGRITY (we drop those first), else
    # answers from any address and learns a peer-reflexive candidate
    "aioice.Connection.request_received": (
        aioice.ice.Connection.request_received,
        "dcdc9a3862c1a0b4",
    ),
    "aioice.Connection._valid_username": (
        aioice.ice.Connection._valid_username,
        "865c96811f8030c2",
    ),
    # the only writer of _nominated[component] besides set_selected_pair
    "aioice.Connection.check_complete": (aioice.ice.Connection.check_complete, "52f939709eabc0ab"),
    "aioice.Connection.set_selected_pair": (
        aioice.ice.Connection.set_selected_pair,
        "b54b03dfc21c5f3b",
    ),
    # creates _queue (unbounded asyncio.Queue) and _nominated (dict)
    "aioice.Connection.__init__": (aioice.ice.Connection.__init__, "a99ae9c97fc66a2e"),
    # (_network_host, port): what datagram_received's addr is compared with
    "aioice.CandidatePair.remote_addr": (
        aioice.ice.CandidatePair.remote_addr.fget,  # type: ignore[attr-defined]
        "f1a7a32a84fc7f66",
    ),
    # drops a response whose MESSAGE-INTEGRITY fails the request's key
    "aioice.stun.Transaction.response_received": (
        aioice.stun.Transaction.response_received,
        "abd0ca5031268a90",
    ),
    # reads (data, component) tuples, None meaning closed
    "aioice.Connection.recvfrom": (aioice.ice.Connection.recvfrom, "676acc01e4a9a9da"),
}


@pytest.mark.parametrize("name", sorted(PORT_GUARD_FINGERPRINTS))
def test_the_aioice_code_the_port_guard_replaces_or_relies_on_is_unchanged(name: str) -> None:
    function, expected = PORT_GUARD_FINGERPRINTS[name]
    assert fingerprint(function) == expected, f"{name} changed in aioice: re-check port_guard"


def test_the_port_guard_signatures_and_attributes_are_unchanged() -> None:
    assert params(port_guard._original_datagram_received) == ["self", "data", "addr"]
    assert params(port_guard._guarded_datagram_received) == ["self", "data", "addr"]
    assert params(port_guard._original_data_received) == ["self", "data", "component"]
    assert params(port_guard._bounded_data_received) == ["self", "data", "component"]
    connection = aioice.ice.Connection(ice_controlling=True)
    assert isinstance(connection._queue, asyncio.Queue)
    assert connection._queue.maxsize == 0  # unbounded in aioice: we bound it
    assert connection._nominated == {}
    assert aioice.stun.Class.INDICATION.value == 0x0010
    assert aioice.stun.Method.BINDING.value == 0x1


def test_install_guards_the_media_ports() -> None:
    aiortc_internals.install()
    assert port_guard.installed()
    assert aioice.ice.StunProtocol.datagram_received is port_guard._guarded_datagram_received
    assert aioice.ice.Connection.data_received is port_guard._bounded_data_received
