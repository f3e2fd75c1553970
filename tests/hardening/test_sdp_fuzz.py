"""Mutated SDP answers and ICE candidates against a real server's real peer connection.

Each case is either applied (a mutant that is still a valid answer to the offer)
or refused with `bad_request`/`too_large`; never `internal`, never a traceback,
and a refused answer leaves the server's peer connection exactly as it was.
At the end the genuine answer still connects, and after leaving, the server's
peer connections and tasks are back to where they started.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter

from aiortc import RTCPeerConnection

from media.seat_connection import SeatConnection as MediaParticipant
from sessions.ids import RoomId, SeatId
from tests.hardening.conftest import LogWatch, settled_task_count
from tests.hardening.media_client import SignalledClient
from tests.hardening.mutations import mutate_candidate, mutate_sdp
from tests.live_server import LiveServer

SEED = 20261202
SCALE = float(os.environ.get("CAUCUS_FUZZ_SCALE", "1"))
ANSWERS = int(2000 * SCALE)
CANDIDATES = int(1000 * SCALE)
CLIENT_ERRORS = {"bad_request", "too_large"}
#: the server's connect timeout is 30 s: take a fresh seat well before it
FRESH_SEAT_S = 15.0


async def connected(pc: RTCPeerConnection) -> None:
    changed = asyncio.Event()
    pc.on("connectionstatechange", changed.set)
    while pc.connectionState != "connected":
        assert pc.connectionState not in ("failed", "closed"), pc.connectionState
        changed.clear()
        await changed.wait()


def server_side(server: LiveServer, room: str, seat: str) -> MediaParticipant:
    return server.sfu.participant(RoomId(room), SeatId(seat))


async def test_mutated_answers_and_candidates_are_client_errors_and_change_nothing(
    media_server: LiveServer, log: LogWatch
) -> None:
    server = media_server
    # + engine.io's service task (and the wait it sleeps in), which start with the
    # first connection and stay
    baseline_tasks = len(asyncio.all_tasks()) + 2
    room = await server.simulation()
    client = SignalledClient(server, room, "party_a")
    await client.connect()
    answer = await client.join()
    loop = asyncio.get_running_loop()
    seated_at = loop.time()
    rng = random.Random(SEED)
    outcomes: Counter[str] = Counter()
    for case in range(ANSWERS):
        if loop.time() - seated_at > FRESH_SEAT_S:
            answer, seated_at = await client.rejoin(), loop.time()
        mutant = mutate_sdp(answer, rng)
        pc = server_side(server, room, "party_a").pc
        before = (pc.signalingState, pc.remoteDescription, pc.localDescription.sdp)
        reply = await client.call("media_answer", {"type": "answer", "sdp": mutant})
        if reply["ok"]:
            # Still a valid answer: the server renegotiates, the client answers anew.
            outcomes["applied"] += 1
            server_side(server, room, "party_a").request_offer()
            answer = await client.next_answer()
            continue
        assert reply["code"] in CLIENT_ERRORS, (case, reply, mutant)
        assert reply["message"], (case, reply)
        outcomes[reply["code"]] += 1
        after = (pc.signalingState, pc.remoteDescription, pc.localDescription.sdp)
        assert after == before, (case, reply)  # the same offer still waits for its answer

    # Candidates, trickled after a genuine answer, before end-of-candidates.
    answer = await client.rejoin(connect=True)
    assert (await client.call("media_answer", {"type": "answer", "sdp": answer}))["ok"]
    genuine = [c for c in client.candidates if " udp " in c] or client.candidates
    for case in range(CANDIDATES):
        line = mutate_candidate(rng.choice(genuine), rng)
        mid = rng.choice(["0", "1", None, "x" * 65, 7])
        reply = await client.call(
            "media_ice", {"candidate": "candidate:" + line, "sdpMid": mid, "sdpMLineIndex": 0}
        )
        if reply["ok"]:
            outcomes["candidate applied"] += 1
            continue
        assert reply["code"] in CLIENT_ERRORS, (case, reply, line)
        outcomes["candidate " + reply["code"]] += 1

    # The genuine candidates still connect the seat.
    for candidate in client.candidates:
        reply = await client.call("media_ice", {"candidate": candidate, "sdpMid": "0"})
        assert reply["ok"], reply
    assert (await client.call("media_ice", {"candidate": ""}))["ok"]
    await asyncio.wait_for(connected(server_side(server, room, "party_a").pc), 15)

    print(f"\nSDP/candidate fuzz ({ANSWERS} answers, {CANDIDATES} candidates): {dict(outcomes)}")
    assert outcomes["bad_request"] > ANSWERS // 2
    assert outcomes["candidate bad_request"] > CANDIDATES // 3
    assert (await client.call("leave", {}))["ok"]  # leaving: no seat held for a grace period
    await client.close()
    assert server.sfu.rooms == {}
    remaining = await settled_task_count(baseline_tasks)
    assert remaining <= baseline_tasks, [t.get_name() for t in asyncio.all_tasks()]
    log.assert_clean()
    # Rate-limited: one line per kind per interval, however many were refused.
    assert len(log.warnings_from("signaling.namespace")) < 20
