"""An answer that arrives while a (re)started seat's first offer is still being made
answers nothing: it is refused as a client error (`ValueError`, which the signalling
adapter answers `bad_request`), never an AttributeError that would answer `internal`."""

from __future__ import annotations

import asyncio

import pytest

from media.latency import ForwardingStats
from media.seat_connection import SeatConnection
from sessions.ids import RoomId, SeatId

ANSWER = {"type": "answer", "sdp": "v=0\r\n"}


async def test_an_answer_while_the_first_offer_is_made_is_refused_as_the_clients_mistake() -> None:
    async def signal(*_: object) -> None:
        return None

    seat = SeatConnection(
        RoomId("r1"),
        SeatId("mediator"),
        signal=signal,
        on_lost=lambda *_: None,
        stats=ForwardingStats(),
        connect_timeout=5.0,
    )
    try:
        starting = asyncio.ensure_future(seat.start(restart=True))
        # one turn of the loop: the task takes its first step (the offer is now wanted
        # and on its way) and stops at its first await, inside aiortc's createOffer
        await asyncio.sleep(0)
        assert not starting.done() and seat.pc.localDescription is None
        with pytest.raises(ValueError, match="no offer is waiting"):
            await seat.apply_answer(ANSWER)
        await starting
        assert seat.pc.localDescription is not None  # the real offer went out untouched
    finally:
        await seat.close()
