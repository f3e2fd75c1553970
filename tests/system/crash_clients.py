"""The four seats of a simulation in a process of their own, publishing until killed.

    python -m tests.system.crash_clients URL ROOM TOKENS_JSON [LIFETIME_S]

Joins the trainees, then the coach (so nobody is recorded alone while the others
arrive), over Socket.IO with real aiortc peer connections publishing the
synthetic tone and picture of tests/media/synthetic.py; the trainees consent
and the coach starts the joint session unless the room is already in it (after
a server restart the room comes back in its stored phase).  When every peer
connection is connected it prints ``ready {...JSON...}`` on stdout, and then
publishes until it is killed.  Every encoded frame it publishes (from the first,
before "ready") is also told on stdout as it goes to the peer connection:
``sent SEAT KIND WALL_S`` – so the test knows, after killing the server, what
each track had sent by then: media the clients never sent is not the server's
loss.

It never closes its peer connections: it is meant to be killed, like a
browser tab, together with the server it talks to.  (Closing an aiortc peer
connection whose remote end was SIGKILLed can block forever, which is why the
crash test keeps these clients out of its own process.)  It also exits by
itself, with ``os._exit``, when its stdin reaches end of file (the test that
started it is gone) or after LIFETIME_S, so it can never outlive its test.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.live_server import Participant
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import COACH, MEDIATOR, PARTY_A, PARTY_B, SentLog
from tests.system.socket_signal import SocketSignal

TRAINEES = (MEDIATOR, PARTY_A, PARTY_B)
JOIN_ORDER = (*TRAINEES, COACH)
CONNECT_TIMEOUT_S = 20.0
DEFAULT_LIFETIME_S = 120.0


def say(line: str) -> None:
    """One whole line to stdout, unbuffered (a line is far below PIPE_BUF: written whole)."""
    os.write(sys.stdout.fileno(), (line + "\n").encode())


class ReportingLog(SentLog):
    """A SentLog that also tells the test when each encoded frame was sent (wall clock)."""

    def add(self, seat: SeatId, kind: MediaKind, data: bytes) -> None:
        super().add(seat, kind, data)
        say(f"sent {seat} {kind.value} {time.time():.6f}")


class Seat:
    def __init__(self, seat: SeatId, token: str, room: str, sent: SentLog) -> None:
        self.socket = Participant(seat, token, room)
        self.socket.rejoin = False  # a lost server is the end of this process's work
        self.media = ClientParticipant(
            seat,
            SocketSignal(self.socket),
            sent,
            room=room,  # type: ignore[arg-type]
            decode=False,  # nobody looks at received media here; spare the CPU
        )
        self.socket.client.on("media_offer", self.media.on_offer)


async def run(url: str, room: str, tokens: dict[str, str]) -> dict[str, Any]:
    sent = ReportingLog()
    seats = {seat: Seat(seat, tokens[seat], room, sent) for seat in JOIN_ORDER}
    for seat in seats.values():
        await seat.socket.connect(url)
        reply = await seat.socket.join()
        if not reply.get("ok"):
            raise RuntimeError(f"{seat.socket.seat} could not join: {reply}")
    for trainee in TRAINEES:
        reply = await seats[trainee].socket.call("consent", {"recording": True})
        if not reply.get("ok"):
            raise RuntimeError(f"{trainee} could not consent: {reply}")
    coach = seats[COACH].socket
    phase = coach.state["phase"]["name"]
    if phase != "joint":
        reply = await coach.call("phase", {"to": "joint"})
        if not reply.get("ok"):
            raise RuntimeError(f"the coach could not start the joint session: {reply}")
    async with asyncio.timeout(CONNECT_TIMEOUT_S):
        for seat in seats.values():
            await seat.media.connected.wait()
    return {"ready": True, "phase_before": phase, "wall": time.time()}


async def main(url: str, room: str, tokens: dict[str, str], lifetime_s: float) -> None:
    try:
        say("ready " + json.dumps(await run(url, room, tokens)))
    except Exception as exc:  # told to the test, which fails on it
        say("ready " + json.dumps({"ready": False, "error": repr(exc)}))
        sys.stderr.flush()
        os._exit(1)
    # Publish until the parent kills us, closes our stdin, or the lifetime runs out.
    waiting = asyncio.ensure_future(asyncio.to_thread(sys.stdin.buffer.read))
    await asyncio.wait([waiting], timeout=lifetime_s)
    sys.stderr.flush()
    os._exit(0)  # no pc.close(): see the module docstring


if __name__ == "__main__":
    args = sys.argv[1:]
    asyncio.run(
        main(
            args[0],
            args[1],
            json.loads(args[2]),
            float(args[3]) if len(args) > 3 else DEFAULT_LIFETIME_S,
        )
    )
