"""Four seats, a sequence of audiences: every subscriber gets exactly what is allowed."""

from __future__ import annotations

import asyncio
import functools
import time

from sessions.audience import Route
from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.media.media_harness import MediaRoom, media_room
from tests.media.synthetic import PARTY_A, PARTY_B, ROOM, SEATS, caucus, joint, timeout

PHASES = [
    ("joint", joint()),
    ("caucus:party_a", caucus(PARTY_A)),
    ("joint", joint()),
    ("timeout", timeout()),
    ("caucus:party_b", caucus(PARTY_B)),
    ("joint", joint()),
]
# A frame the publisher emitted this close before a switch may fall on either side of it.
AMBIGUOUS = 0.02
HOLD = 0.6


def _open_latencies(
    room: MediaRoom, routes: frozenset[Route], before: frozenset[Route]
) -> list[tuple[MediaKind, float]]:
    """Server side: gate opened -> first frame of that route handed to the transport."""
    out = []
    for route in routes - before:
        participant = room.sfu.participant(ROOM, route.subscriber)
        latency = participant.consumers[(route.publisher, route.kind)].open_latency
        assert latency is not None
        out.append((route.kind, latency))
    return out


def _flowing(room: MediaRoom, routes: frozenset[Route], since: float) -> bool:
    for route in routes:
        client = room.clients[route.subscriber]
        mid = client.mid_of(route.publisher, route.kind)
        if mid is None:
            return False
        if route.kind is MediaKind.VIDEO:
            if sum(1 for t, _ in client.decoded[mid] if t > since) < 5:
                return False
        elif sum(1 for a in client.arrivals[mid] if a.time > since) < 10:
            return False
    return True


async def test_each_subscriber_receives_exactly_the_allowed_seats_across_phase_changes() -> None:
    async with media_room() as room:
        await room.wait_connected(15)
        await room.wait_until(
            lambda: all(len(c.tracks) == 2 * (len(SEATS) - 1) for c in room.clients.values()),
            timeout=10,
        )
        switches: list[tuple[float, str, frozenset[Route]]] = []
        server_open: list[tuple[MediaKind, float]] = []
        for name, routes in PHASES:
            started = time.monotonic()
            await room.sfu.apply_audience(ROOM, routes)
            switches.append((started, name, routes))
            await room.wait_until(functools.partial(_flowing, room, routes, started), timeout=8)
            server_open += _open_latencies(
                room, routes, switches[-2][2] if len(switches) > 1 else frozenset()
            )
            await asyncio.sleep(HOLD)  # let media run in this phase
        finished = time.monotonic()

    def phase_at(sent: float, arrived: float) -> frozenset[Route] | None:
        """The audience the SFU applied to a frame; None if a switch happened while it
        was in flight (sent before, arrived after: the SFU saw it on either side)."""
        current = None
        for started, _, routes in switches:
            if sent - AMBIGUOUS <= started <= arrived:
                return None
            if sent >= started:
                current = routes
        return current

    checked = ambiguous = 0
    for seat, client in room.clients.items():
        for mid, arrivals in client.arrivals.items():
            mapped_seat, mapped_kind = client.tracks[mid]
            for arrival in arrivals:
                if arrival.publisher is None:
                    ambiguous += 1  # identical bytes from two tracks: cannot attribute
                    continue
                assert arrival.publisher == mapped_seat and arrival.kind is mapped_kind
                assert arrival.publisher != seat
                assert arrival.sent is not None
                applied = phase_at(arrival.sent, arrival.time)
                if applied is not None and arrival.sent < finished:
                    assert Route(mapped_seat, seat, mapped_kind) in applied, (
                        f"{seat} got {mapped_seat}'s {mapped_kind.value} sent at "
                        f"{arrival.sent - switches[0][0]:.3f}s, arrived "
                        f"{arrival.time - switches[0][0]:.3f}s; switches at "
                        f"{[round(s[0] - switches[0][0], 3) for s in switches]}"
                    )
                    checked += 1
            identified = [s for _, s in client.decoded[mid]]
            assert set(identified) <= {mapped_seat, None}, (seat, mid, set(identified))
            if identified:
                assert identified.count(mapped_seat) >= 0.8 * len(identified)
    assert checked > 1000
    assert ambiguous < 0.01 * checked

    # every allowed route delivered in every phase, and how fast it started
    opened_audio: list[float] = []
    opened_video: list[float] = []
    closed_after: list[float] = []
    for index, (started, name, routes) in enumerate(switches):
        ends = switches[index + 1][0] if index + 1 < len(switches) else finished
        before = switches[index - 1][2] if index else frozenset()
        for subscriber in SEATS:
            client = room.clients[subscriber]
            for publisher in SEATS:
                if publisher == subscriber:
                    continue
                for kind in MediaKind:
                    route = Route(SeatId(publisher), SeatId(subscriber), kind)
                    track = client.mid_of(publisher, kind)
                    assert track is not None
                    times = [a.time for a in client.arrivals[track] if started <= a.time < ends]
                    if route in routes:
                        assert len(times) >= 5, (name, route)
                        if route not in before:
                            if kind is MediaKind.AUDIO:
                                opened_audio.append(times[0] - started)
                            else:
                                shown = [t for t, _ in client.decoded[track] if t >= started]
                                opened_video.append(shown[0] - started)
                    elif route in before and times:
                        closed_after.append(max(times) - started)
    server_audio = [t for k, t in server_open if k is MediaKind.AUDIO]
    server_video = [t for k, t in server_open if k is MediaKind.VIDEO]
    mean_audio = sum(server_audio) / len(server_audio)
    print(
        f"\nSFU: route opened -> first audio frame forwarded: max "
        f"{max(server_audio) * 1000:.1f} ms, mean {mean_audio * 1000:.1f} ms;"
        f" first video keyframe forwarded: max {max(server_video) * 1000:.0f} ms"
    )
    print(
        f"client: route opened -> first audio frame: max {max(opened_audio) * 1000:.1f} ms"
        f" (n={len(opened_audio)}, audio frame interval 20 ms)"
        f"\nroute opened -> first decoded picture: max {max(opened_video) * 1000:.0f} ms"
        f"\nroute closed -> last frame still arriving: "
        f"max {max(closed_after, default=0) * 1000:.1f} ms (n={len(closed_after)})"
    )
    # The gate flips at once; the next frame the publisher sends goes through.
    # Bounds are loose because the machine is shared (2 cores, other test runs).
    assert mean_audio < 0.05 and max(server_audio) < 0.3
    assert max(opened_video) < 1.0
