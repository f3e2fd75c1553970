"""Media that recovers: when a seat's peer connection dies, the SFU builds a new one.

aiortc 1.16 cannot restart ICE (``createOffer`` has no ``iceRestart`` and
aioice cannot swap credentials on a live connection), so a dead media path is
replaced by a fresh ``RTCPeerConnection`` in the same seat: the server sends a
``media_offer`` marked ``"restart": true`` and the client answers it from a new
peer connection of its own, publishing the tracks it already had.  The seat's
subscribers keep their m-sections (their consumers move to the new producers:
no renegotiation for them) and the recording keeps its sinks.

A connection is lost when it fails (DTLS or ICE, including ICE consent
expiry), is closed by the peer, does not connect in time, or sends nothing at
all – no RTP, RTCP or ICE check – for ``silence_s`` while connected; or when
the client asks (``media_restart``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sessions.ids import RoomId, SeatId

if TYPE_CHECKING:
    from media.seat_connection import SeatConnection


@dataclass(frozen=True)
class RecoveryConfig:
    silence_s: float | None = 5.0
    """Nothing from a connected participant this long: rebuild (None: never)."""
    min_interval_s: float = 3.0
    """A client's ``media_restart`` within this long of the seat's last new
    connection is refused (``rate_limited``): that connection is still starting."""
    max_backoff_s: float = 10.0
    """Restarts that never connect are retried after 1, 2, 4 ... s, up to this."""

    def __post_init__(self) -> None:
        if self.silence_s is not None and self.silence_s <= 0:
            raise ValueError("silence_s must be positive (or None)")
        if self.min_interval_s < 0 or self.max_backoff_s < 0:
            raise ValueError("intervals cannot be negative")


class MediaObserver(Protocol):
    """Told of each seat's media connection life (the bridge: recording, status, timeline)."""

    def connection_opened(self, participant: SeatConnection, restart: bool) -> None:
        """A new peer connection for a seat, before its offer goes out."""

    async def media_lost(self, room_id: RoomId, seat: SeatId, reason: str, silent_s: float) -> None:
        """A connection that carried media died; a new one is being offered.

        ``silent_s``: how long before now the last packet arrived from it.
        """

    async def media_flowing(self, room_id: RoomId, seat: SeatId) -> None:
        """A seat's (new) connection is up and its media arrives."""
