"""A media port accepts only what belongs to its ICE connection (docs/ARCHITECTURE.md §10).

Stock aioice (0.13) hands every datagram that does not parse as STUN to
``Connection.data_received``, from any source, into an unbounded
``asyncio.Queue`` that aiortc's DTLS transport reads once ICE completes.  So a
stranger who sprays ClientHellos at a candidate port during set-up wins the
race with the real peer (its hello is the first the DTLS server reads: the
handshake fails), and junk at a pending connection (nobody reads its queue yet)
grows memory without limit.  It also answers unauthenticated STUN requests
with 400/401 errors: a reflector for anybody.

With :func:`install`, ``StunProtocol.datagram_received`` becomes
:func:`_guarded_datagram_received`:

* non-STUN datagrams (DTLS, SRTP/SRTCP, anything else; RFC 7983 demultiplexes
  by the first byte) are queued only once the connection has a *selected*
  (nominated) pair, and only from the peer: the remote address of that pair,
  or one from which this port received an authenticated check.  The second
  case is not a loophole but a browser's right: aioice, controlling with
  aggressive nomination, selects the first nominated pair to succeed, while a
  controlled Chromium with two candidates (say a LAN and a VPN address) uses
  the highest-priority nominated pair (RFC 8445 8.1.1), so its media may come
  from another of its addresses; only the peer knows the password that such
  a check is signed with (libwebrtc and pion likewise accept data from any
  validated remote address, never from an unknown one).  Before a pair is
  selected everything non-STUN is dropped: the peer's DTLS retransmits.  On the
  hot path this costs one tuple comparison (the address last accepted is
  cached on the protocol; a mismatch re-checks, so a re-nomination is picked up
  by the first datagram from the new address);
* STUN requests reach aioice only with a valid USERNAME and MESSAGE-INTEGRITY
  for the connection's local credentials; aioice then answers them from any
  address, which is how peer-reflexive candidates (trainees behind NAT) work.
  Unauthenticated ones get no answer at all;
* STUN responses go to aioice only for a transaction it has open (aioice then
  checks their MESSAGE-INTEGRITY itself, ``stun.Transaction.response_received``);
* everything else is dropped and counted, per connection and process-wide
  (:class:`GuardCounts`).

``Connection.data_received`` becomes bounded: beyond :data:`MAX_QUEUED_DATAGRAMS`
waiting datagrams it drops and counts (``queue_full``).

Pinned with the rest of this package (aioice 0.13.0); the tripwires are in
``tests/media/test_aiortc_internals.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any, cast
from weakref import WeakKeyDictionary

import aioice.ice
from aioice import stun
from aiortc import RTCPeerConnection

from media.aiortc_internals.direct import direct_receiver

logger = logging.getLogger(__name__)

#: datagrams waiting for aiortc's DTLS transport, per ICE connection.  The reader
#: keeps up in normal operation (it runs on every loop turn); 1024 full-size
#: datagrams (~1.2 MB) cover a long event-loop stall at several Mbit/s.
MAX_QUEUED_DATAGRAMS = 1024

_original_datagram_received = aioice.ice.StunProtocol.datagram_received
_original_data_received = aioice.ice.Connection.data_received

#: addresses per port remembered as the peer's after an authenticated check
#: (a browser has a handful of candidates; only the peer can add more)
MAX_PEER_ADDRESSES = 16

# RFC 7983: a first byte 0..3 is STUN; 20..63 DTLS, 128..191 RTP/RTCP.
_LAST_STUN_BYTE = 3


@dataclass
class GuardCounts:
    """Datagrams dropped at a media port, by reason."""

    not_selected: int = 0
    """Non-STUN datagrams before a pair is selected, or from an address not the peer's."""
    stun_unauthenticated: int = 0
    """STUN requests with a wrong or missing USERNAME / MESSAGE-INTEGRITY."""
    stun_unexpected: int = 0
    """STUN responses to no open transaction, indications, unparseable 0..3 datagrams."""
    queue_full: int = 0
    """Datagrams from the selected pair dropped because the queue was full."""

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def add(self, other: GuardCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


_process = GuardCounts()
_per_connection: WeakKeyDictionary[aioice.ice.Connection, GuardCounts] = WeakKeyDictionary()


def _drop(connection: aioice.ice.Connection, reason: str, source: object) -> None:
    counts = _per_connection.get(connection)
    if counts is None:
        counts = _per_connection[connection] = GuardCounts()
    first = getattr(counts, reason) == 0
    setattr(counts, reason, getattr(counts, reason) + 1)
    setattr(_process, reason, getattr(_process, reason) + 1)
    if first:
        # once per connection and reason, so a flood cannot flood the log; a
        # late duplicate STUN response (a retransmitted check answered twice) is normal
        logger.log(
            logging.DEBUG if reason == "stun_unexpected" else logging.INFO,
            "%s: dropping datagrams (%s), the first from %s; counting from now on",
            connection,
            reason,
            source,
        )


def _from_peer(protocol: aioice.ice.StunProtocol, addr: tuple[Any, ...]) -> bool:
    """Whether non-STUN data from ``addr`` is the peer's (see the module docstring);
    if so, ``addr`` is cached for the hot path."""
    pair = protocol.receiver._nominated.get(protocol.local_candidate.component)
    if pair is None:
        return False
    source = (addr[0], addr[1])
    selected = pair.protocol is protocol and source == pair.remote_addr
    if not selected and source not in (protocol._port_guard_peers or ()):  # type: ignore[attr-defined]
        return False
    protocol._port_guard_peer = addr  # type: ignore[attr-defined]
    return True


def _remember_peer(protocol: aioice.ice.StunProtocol, addr: tuple[Any, ...]) -> None:
    peers: set[tuple[str, int]] | None = protocol._port_guard_peers  # type: ignore[attr-defined]
    if peers is None:
        peers = protocol._port_guard_peers = set()  # type: ignore[attr-defined]
    if len(peers) < MAX_PEER_ADDRESSES:
        peers.add((addr[0], addr[1]))


def _guarded_datagram_received(
    self: aioice.ice.StunProtocol, data: bytes | str, addr: tuple[Any, ...]
) -> None:
    data = cast(bytes, data)
    if data and data[0] > _LAST_STUN_BYTE:
        # the hot path: one comparison for every DTLS/SRTP datagram of the peer
        if addr == self._port_guard_peer or _from_peer(self, addr):  # type: ignore[attr-defined]
            self.receiver.data_received(data, self.local_candidate.component)
        else:
            _drop(self.receiver, "not_selected", addr)
        return
    connection = self.receiver
    try:
        message = stun.parse_message(data)
    except ValueError:
        _drop(connection, "stun_unexpected", addr)
        return
    if message.message_class == stun.Class.REQUEST:
        if not _authenticated(connection, message):
            _drop(connection, "stun_unauthenticated", addr)
            return
        _remember_peer(self, addr)
    elif message.message_class == stun.Class.INDICATION or (
        message.transaction_id not in self.transactions
    ):
        _drop(connection, "stun_unexpected", addr)
        return
    _original_datagram_received(self, data, addr)


def _authenticated(connection: aioice.ice.Connection, message: stun.Message) -> bool:
    """What aioice's ``request_received`` checks before answering (RFC 8489 9.1.3),
    done first so that a failure is dropped instead of answered with an error."""
    username = message.attributes.get("USERNAME")
    return (
        message.message_method == stun.Method.BINDING
        and isinstance(username, str)
        and connection._valid_username(username)
        and message.check_message_integrity(connection.local_password.encode("utf8"))
    )


def _bounded_data_received(self: aioice.ice.Connection, data: bytes, component: int) -> None:
    direct = direct_receiver(self)
    if direct is not None and direct(data):
        return  # SRTP/SRTCP handled on the spot (.direct)
    queue = self._queue
    if queue.qsize() < MAX_QUEUED_DATAGRAMS:
        queue.put_nowait((data, component))
    else:
        _drop(self, "queue_full", "the selected pair")


def install() -> None:
    """Guard every aioice UDP endpoint in the process (idempotent)."""
    aioice.ice.StunProtocol._port_guard_peer = None  # type: ignore[attr-defined]
    aioice.ice.StunProtocol._port_guard_peers = None  # type: ignore[attr-defined]
    aioice.ice.StunProtocol.datagram_received = _guarded_datagram_received  # type: ignore[method-assign]
    aioice.ice.Connection.data_received = _bounded_data_received  # type: ignore[method-assign]


def uninstall() -> None:
    """Back to stock aioice (to show what the guard prevents)."""
    aioice.ice.StunProtocol.datagram_received = _original_datagram_received  # type: ignore[method-assign]
    aioice.ice.Connection.data_received = _original_data_received  # type: ignore[method-assign]


def installed() -> bool:
    return aioice.ice.StunProtocol.datagram_received is _guarded_datagram_received


# -- reading ------------------------------------------------------------------------


def process_counts() -> GuardCounts:
    """Drops since the process started, every connection together (a copy)."""
    return GuardCounts(**_process.as_dict())


def connection_counts(connection: aioice.ice.Connection) -> GuardCounts:
    """Drops at one ICE connection's ports (a copy)."""
    return GuardCounts(**_per_connection.get(connection, GuardCounts()).as_dict())


def queued_datagrams(connection: aioice.ice.Connection) -> int:
    """Datagrams waiting for aiortc in ``connection``'s queue (0 while nobody floods it).

    Not counted: the None that aioice's ``close()`` puts there to end a pending
    ``recv()``, which stays in the queue of a connection nobody read from.
    """
    waiting: Iterable[tuple[bytes, int] | None] = connection._queue._queue  # type: ignore[attr-defined]
    return sum(1 for item in waiting if item is not None)


def ice_connections(pc: RTCPeerConnection) -> list[aioice.ice.Connection]:
    """The aioice connections under a peer connection (one with max-bundle)."""
    connections: list[aioice.ice.Connection] = []
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport._connection
        if connection not in connections:
            connections.append(connection)
    return connections


def peer_connection_counts(pc: RTCPeerConnection) -> GuardCounts:
    """Drops at a peer connection's ports (a copy)."""
    counts = GuardCounts()
    for connection in ice_connections(pc):
        counts.add(connection_counts(connection))
    return counts
