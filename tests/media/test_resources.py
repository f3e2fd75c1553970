"""100 join/leave cycles release every peer connection, task, thread and socket.

Cycles mix the ways a participant goes away: leaves before answering, answers
but never completes ICE (released by the connect timeout), connects fully and
leaves, connects and closes its own connection (the SFU notices), and leaves
while ICE is still checking.  A publishing participant stays in the room the
whole time, so every cycle also creates and releases consumers and
renegotiates the one who stays.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
from collections import Counter
from typing import Any

from aiortc import RTCPeerConnection

from media.seat_connection import SeatConnection
from media.sfu import Sfu, SfuConfig
from sessions.ids import RoomId, SeatId
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import PARTY_A, ROOM, SentLog, joint
from tests.red_sdp import without_red

CONNECT_TIMEOUT = 1.5


def _live(cls: type) -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, cls))


async def _quiesce() -> None:
    """Let finished work finish: wait (bounded) for every other task to end."""
    current = asyncio.current_task()
    others = [t for t in asyncio.all_tasks() if t is not current]
    if others:
        await asyncio.wait(others, timeout=2)
    gc.collect()


def _census() -> dict[str, int]:
    return {
        "peer connections": _live(RTCPeerConnection),
        "participants": _live(SeatConnection),
        "tasks": len(asyncio.all_tasks()),
        "threads": threading.active_count(),
        "fds": len(os.listdir("/proc/self/fd")),
    }


class Signals:
    def __init__(self) -> None:
        self.clients: dict[SeatId, ClientParticipant] = {}
        self.lost: dict[SeatId, asyncio.Event] = {}
        self.reasons: Counter[str] = Counter()
        self.pending: set[asyncio.Task[None]] = set()

    async def send(self, room: RoomId, seat: SeatId, event: str, payload: dict[str, Any]) -> None:
        client = self.clients.get(seat)
        if client is not None:
            task = asyncio.ensure_future(client.on_offer(payload))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)

    async def on_lost(self, room: RoomId, seat: SeatId, reason: str) -> None:
        self.reasons[reason.split(" in ")[0]] += 1
        self.lost.setdefault(seat, asyncio.Event()).set()

    def lost_event(self, seat: SeatId) -> asyncio.Event:
        return self.lost.setdefault(seat, asyncio.Event())


async def _answer_without_candidates(
    sfu: Sfu, seat: SeatId, offer: dict[str, Any]
) -> RTCPeerConnection:
    """A client that answers and then vanishes: no candidate ever reaches the SFU."""
    from aiortc import RTCConfiguration, RTCSessionDescription
    from aiortc.rtcconfiguration import RTCBundlePolicy

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    await pc.setRemoteDescription(RTCSessionDescription(without_red(offer["sdp"]), "offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    lines = [
        line
        for line in pc.localDescription.sdp.splitlines()
        if not line.startswith("a=candidate:") and line != "a=end-of-candidates"
    ]
    await sfu.answer(ROOM, seat, {"type": "answer", "sdp": "\r\n".join(lines) + "\r\n"})
    await pc.close()
    return pc


async def test_a_hundred_join_leave_cycles_leak_nothing() -> None:
    signals = Signals()
    sfu = Sfu(
        signals.send,
        config=SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=CONNECT_TIMEOUT),
        on_lost=signals.on_lost,
    )
    sent = SentLog()
    stayer = ClientParticipant(PARTY_A, sfu, sent, decode=False)
    signals.clients[PARTY_A] = stayer
    await stayer.join()
    await asyncio.wait_for(stayer.connected.wait(), 10)

    async def cycle(index: int) -> None:
        seat = SeatId(f"observer_{index}")
        await sfu.apply_audience(ROOM, joint([PARTY_A, seat]))
        kind = index % 10
        if kind < 4:  # leaves before answering
            await sfu.join(ROOM, seat)
            await sfu.leave(ROOM, seat)
        elif kind < 6:  # answers, never completes ICE: the connect timeout releases it
            lost = signals.lost_event(seat)
            await _answer_without_candidates(sfu, seat, await sfu.join(ROOM, seat))
            await asyncio.wait_for(lost.wait(), CONNECT_TIMEOUT + 10)
        elif kind < 8:  # connects, then leaves
            client = ClientParticipant(seat, sfu, sent, decode=False)
            signals.clients[seat] = client
            await client.join()
            await asyncio.wait_for(client.connected.wait(), 10)
            await sfu.leave(ROOM, seat)
            await client.close()
        elif kind < 9:  # connects, then closes its own connection
            lost = signals.lost_event(seat)
            client = ClientParticipant(seat, sfu, sent, decode=False)
            signals.clients[seat] = client
            await client.join()
            await asyncio.wait_for(client.connected.wait(), 10)
            await client.close()
            await asyncio.wait_for(lost.wait(), 10)
        else:  # leaves while ICE is still checking
            client = ClientParticipant(seat, sfu, sent, decode=False)
            signals.clients[seat] = client
            await client.join()
            await sfu.leave(ROOM, seat)
            await client.close()
        signals.clients.pop(seat, None)
        signals.lost.pop(seat, None)

    async def cycles(first: int, count: int) -> None:
        for index in range(first, first + count):
            if index % 10 == 5:
                continue  # ran together with the previous one
            if index % 10 == 4:  # the two ICE timeouts overlap, to save time
                await asyncio.gather(cycle(index), cycle(index + 1))
            else:
                await cycle(index)

    try:
        # warm up (imports, caches) and fill the stayer's pool of recyclable
        # m-sections: two observers overlap at most
        await cycles(0, 10)
        await _quiesce()
        before = _census()
        await cycles(10, 100)
        while signals.pending:
            await asyncio.gather(*signals.pending, return_exceptions=True)
        await _quiesce()
        after = _census()
        print(f"\nbefore {before}\nafter  {after}")
        print(f"released by the SFU itself: {dict(signals.reasons)}")
        assert after == before
        assert list(sfu.router(ROOM).participants) == [PARTY_A]
        assert signals.reasons["not connected"] >= 20 and signals.reasons["connection closed"] >= 10
    finally:
        await stayer.close()
        await sfu.close()
