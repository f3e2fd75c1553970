"""A seat whose media path dies gets a new peer connection, in the same seat, by itself.

Real aiortc peer connections on loopback, against the Sfu alone. The "cut" drops
every datagram of one client's connection both ways (media.impairment), like a
radio link gone dead while signalling carries on; the SFU must notice (silence,
ICE consent or the client's own request, which it rate-limits), offer a new
connection marked as a restart, and forward that seat's media again – to
subscribers that never renegotiate. What the whole server records and shows
across such a restart is in tests/media/test_media_restart_server.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
import pytest

from media import aiortc_internals
from media.recovery import RecoveryConfig
from media.seat_connection import SeatConnection
from media.sfu import RestartRefused, Sfu, SfuConfig
from sessions.ids import RoomId, SeatId
from tests.impairment import impair
from tests.media.restart_seat import BACK_S, DEAD, Seat, both
from tests.media.synthetic import MEDIATOR, PARTY_A, ROOM, SentLog, joint


@dataclass
class Observed:
    """What the Sfu told its observer, in order."""

    opened: list[tuple[SeatId, int, bool]] = field(default_factory=list)
    lost: list[tuple[SeatId, str]] = field(default_factory=list)
    flowing: list[SeatId] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def connection_opened(self, participant: SeatConnection, restart: bool) -> None:
        self.opened.append((participant.seat, participant.connection, restart))

    async def media_lost(self, room_id: RoomId, seat: SeatId, reason: str, silent_s: float) -> None:
        self.lost.append((seat, reason))
        self.changed.set()

    async def media_flowing(self, room_id: RoomId, seat: SeatId) -> None:
        self.flowing.append(seat)
        self.changed.set()


class Room:
    def __init__(self, recovery: RecoveryConfig) -> None:
        self.sent = SentLog()
        self.seats: dict[SeatId, Seat] = {}
        self.observed = Observed()
        self._tasks: set[asyncio.Task[None]] = set()
        self.sfu = Sfu(
            self._send,
            config=SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=10),
            recovery=recovery,
            observer=self.observed,
        )

    async def _send(self, room: RoomId, seat: SeatId, event: str, payload: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self.seats[seat].on_offer(payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def add(self, seat: SeatId) -> Seat:
        self.seats[seat] = person = Seat(seat, self.sfu, self.sent)
        await person.on_offer(await self.sfu.join(ROOM, seat))
        return person

    async def wait_until(self, predicate: Any, timeout: float) -> None:
        await self.sent.wait_until(predicate, timeout)

    async def close(self) -> None:
        for person in self.seats.values():
            await person.close()
        await self.sfu.close()
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def _joint_room(recovery: RecoveryConfig) -> Room:
    room = Room(recovery)
    await room.sfu.apply_audience(ROOM, joint([MEDIATOR, PARTY_A]))
    await room.add(MEDIATOR)
    await room.add(PARTY_A)
    start = time.monotonic()
    await room.wait_until(
        lambda: (
            room.seats[MEDIATOR].received_since(start) >= both(PARTY_A)
            and room.seats[PARTY_A].received_since(start) >= both(MEDIATOR)
        ),
        timeout=15,
    )
    return room


@pytest.fixture
async def room() -> AsyncIterator[Room]:
    joined = await _joint_room(RecoveryConfig())
    yield joined
    await joined.close()


@pytest.fixture
def fast_consent() -> Iterator[None]:
    before = aioice.ice.CONSENT_INTERVAL, aioice.ice.CONSENT_FAILURES
    aiortc_internals.set_consent_timing(0.3, 3)
    yield
    aiortc_internals.set_consent_timing(*before)


async def _cut_and_wait_back(room: Room, seat: SeatId, other: SeatId) -> float:
    """Cut `seat`'s link; return seconds from the cut until both directions flow again."""
    person = room.seats[seat]
    old = person.client
    cut = impair(old.pc, outbound=DEAD, inbound=DEAD, seed=1)
    cut_at = time.monotonic()
    await room.wait_until(
        lambda: (
            person.client is not old
            and room.seats[other].received_since(cut_at + 0.5) >= both(seat)
            and person.received_since(cut_at) >= both(other)
        ),
        timeout=BACK_S,
    )
    assert cut.inbound.stats.dropped > 0
    return time.monotonic() - cut_at


async def test_a_silent_connection_is_replaced_in_the_same_seat_without_renegotiating_others(
    room: Room,
) -> None:
    mediator_offers = len(room.seats[MEDIATOR].offers)
    first = room.sfu.participant(ROOM, PARTY_A)
    cut_at = time.monotonic()
    back_s = await _cut_and_wait_back(room, PARTY_A, MEDIATOR)
    print(f"\nsilent link: media back {back_s:.2f} s after the cut (5 s of it is detection)")

    assert room.observed.lost == [(PARTY_A, "nothing received for 5 s")]
    assert back_s >= 5.0  # silence is measured, not guessed
    restart_offers = [o for o in room.seats[PARTY_A].offers if o.get("restart")]
    assert len(restart_offers) == 1
    now = room.sfu.participant(ROOM, PARTY_A)
    assert now is not first and now.connection == restart_offers[0]["connection"]
    assert now.connection > first.connection
    assert (PARTY_A, now.connection, True) in room.observed.opened
    assert room.observed.flowing.count(PARTY_A) == 2  # the first connection, then the new one
    # The mediator's m-sections for party A moved to the new connection as they were.
    assert len(room.seats[MEDIATOR].offers) == mediator_offers
    assert time.monotonic() - cut_at < BACK_S


async def test_ice_consent_expiry_replaces_the_connection(fast_consent: None) -> None:
    room = await _joint_room(RecoveryConfig(silence_s=None))  # only consent can tell
    try:
        back_s = await _cut_and_wait_back(room, PARTY_A, MEDIATOR)
        print(f"\nconsent expiry (0.3 s x 3): media back {back_s:.2f} s after the cut")
        # aioice closes the ICE connection; aiortc then reports the peer connection
        # "failed" or, when its DTLS transport noticed first, "closed"
        [(seat, reason)] = room.observed.lost
        assert seat == PARTY_A and reason in ("connection failed", "connection closed")
    finally:
        await room.close()


async def test_a_client_may_ask_for_a_new_connection_but_not_twice_in_a_row() -> None:
    room = await _joint_room(RecoveryConfig(min_interval_s=2.0))
    try:
        person = room.seats[PARTY_A]
        first = room.sfu.participant(ROOM, PARTY_A)
        age = time.monotonic() - first.opened_at
        if age < 2.0:
            with pytest.raises(RestartRefused):
                await room.sfu.restart(ROOM, PARTY_A, "client: failed")
            await asyncio.sleep(2.0 - age)  # the rate limit is the behaviour under test
        old = person.client
        asked = time.monotonic()
        await room.sfu.restart(ROOM, PARTY_A, "client: failed")
        await room.wait_until(
            lambda: (
                person.client is not old
                and room.seats[MEDIATOR].received_since(asked + 0.2) >= both(PARTY_A)
            ),
            timeout=BACK_S,
        )
        second = room.sfu.participant(ROOM, PARTY_A)
        assert room.observed.lost == [(PARTY_A, "client: failed")]
        with pytest.raises(RestartRefused):  # the new connection is still young
            await room.sfu.restart(ROOM, PARTY_A, "client: failed")
        assert room.sfu.participant(ROOM, PARTY_A) is second
    finally:
        await room.close()
