"""A Router: one room's forwarding – participants, producers, consumers, audience.

The router never decides who hears whom: it is handed a ``frozenset[Route]``
(from ``sessions.audience``) and opens exactly the consumers those routes name.
Every subscriber holds a consumer for every published (seat, kind) in the room,
allowed or not, so a new audience is applied by flipping gates – no SDP round
trip (docs/ARCHITECTURE.md §2).  Offers are renegotiated only when a publisher's
track appears (its answer says it sends) or disappears (it leaves).

A seat whose connection died is *restarted* (:meth:`Router.restart`): a new
participant takes the seat and every subscriber's consumer of that seat moves
to the new producers at once, keeping its m-section, so nobody else
renegotiates and forwarding resumes with the new connection's first keyframe.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from media.latency import ForwardingStats
from media.seat_connection import SeatConnection, SendToClient
from sessions.audience import Route
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind

logger = logging.getLogger(__name__)


class RouterClosed(Exception):
    """A seat joins a room whose media is being closed."""


class Router:
    def __init__(
        self,
        room_id: RoomId,
        *,
        signal: SendToClient,
        on_lost: Callable[[SeatConnection, str], None],
        stats: ForwardingStats,
        connect_timeout: float,
        silence_s: float | None = None,
        on_flowing: Callable[[SeatConnection], None] | None = None,
    ) -> None:
        self.room_id = room_id
        self.participants: dict[SeatId, SeatConnection] = {}
        self.routes: frozenset[Route] = frozenset()
        self._signal = signal
        self._on_lost = on_lost
        self._stats = stats
        self._connect_timeout = connect_timeout
        self._silence_s = silence_s
        self._on_flowing = on_flowing
        self._connections = itertools.count(1)
        self.closed = False  # close() began: nobody joins any more

    def _new_participant(self, seat: SeatId) -> SeatConnection:
        return SeatConnection(
            self.room_id,
            seat,
            signal=self._signal,
            on_lost=self._on_lost,
            stats=self._stats,
            connect_timeout=self._connect_timeout,
            connection=next(self._connections),
            silence_s=self._silence_s,
            on_flowing=self._on_flowing,
        )

    async def join(self, seat: SeatId) -> SeatConnection:
        """Add a participant (replacing one in the same seat); ``start()`` it next.

        The seat is never empty while the one it replaces closes, so the room never
        looks empty (and dropped) with a participant on its way in. Raises
        RouterClosed once the room's media is closing.
        """
        if self.closed:
            raise RouterClosed(f"the media of room {self.room_id} is closing")
        old = self.participants.get(seat)
        if old is not None:
            self._detach(old)
        participant = self._new_participant(seat)
        self.participants[seat] = participant
        self._subscribe_to_everyone(participant)
        if old is not None:
            await old.close()
        return participant

    async def restart(self, old: SeatConnection) -> SeatConnection | None:
        """Replace ``old`` by a new connection in its seat, keeping its subscribers.

        Returns the new participant (``start(restart=True)`` it next), or None if
        ``old`` no longer holds its seat.
        """
        if self.closed or self.participants.get(old.seat) is not old:
            return None
        new = self._new_participant(old.seat)
        self.participants[old.seat] = new
        # The seat still publishes what it did until its new answer says otherwise.
        new.published = set(old.published)
        for subscriber in self.participants.values():
            if subscriber is new:
                continue
            for kind in old.published:
                if self._connect(new, kind, subscriber):
                    subscriber.request_offer()
        self._subscribe_to_everyone(new)
        await old.close()
        return new

    def _subscribe_to_everyone(self, participant: SeatConnection) -> None:
        for publisher in self.participants.values():
            for kind in publisher.published:
                if publisher is not participant:
                    self._connect(publisher, kind, participant)

    async def answer(self, participant: SeatConnection, description: dict[str, Any]) -> None:
        before = set(participant.published)
        newly = await participant.apply_answer(description)
        gone = before - participant.published
        for subscriber in self.participants.values():
            if subscriber is participant:
                continue
            changed = False
            for kind in newly:
                changed |= self._connect(participant, kind, subscriber)
            for kind in gone:
                consumer = subscriber.consumers.get((participant.seat, kind))
                if consumer is not None:
                    subscriber.deactivate(consumer)
                    changed = True
            if changed:
                subscriber.request_offer()

    def apply(self, routes: frozenset[Route]) -> None:
        """Open exactly the consumers named by ``routes``, close the others."""
        self.routes = routes
        for subscriber in self.participants.values():
            for (publisher, kind), consumer in subscriber.consumers.items():
                consumer.set_allowed(Route(publisher, subscriber.seat, kind) in routes)

    async def leave(self, participant: SeatConnection) -> None:
        if self.participants.get(participant.seat) is not participant:
            return
        self._detach(participant)
        await participant.close()

    def _detach(self, participant: SeatConnection) -> None:
        """Take ``participant`` out of the room: its seat empties, its subscribers
        lose its tracks (and are offered again)."""
        del self.participants[participant.seat]
        for subscriber in self.participants.values():
            changed = False
            for kind in participant.published:
                consumer = subscriber.consumers.get((participant.seat, kind))
                if consumer is not None:
                    subscriber.deactivate(consumer)
                    changed = True
            if changed:
                subscriber.request_offer()

    async def close(self) -> None:
        """Release every participant, including any that joins while this runs."""
        self.closed = True
        while self.participants:
            await self.leave(next(iter(self.participants.values())))

    def _connect(
        self, publisher: SeatConnection, kind: MediaKind, subscriber: SeatConnection
    ) -> bool:
        consumer = subscriber.consumer_for(publisher.seat, kind)
        changed = subscriber.activate(consumer, publisher.producers[kind])
        consumer.set_allowed(Route(publisher.seat, subscriber.seat, kind) in self.routes)
        return changed
