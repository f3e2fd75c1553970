"""A recorded session as a real one leaves it: a lobby (never recorded) before the joint
session, the "ended" phase, and the seats released a grace period after the end."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sessions.ids import RoomId, ScenarioId, SeatId
from sessions.media_kinds import MediaKind
from sessions.timeline import Event, EventKind
from tests.e2e.browser import WAIT_MS
from tests.e2e.recorded import COLOURS, NAMES, VIDEO_STEP_MS, colour_frames
from tests.live_server import LiveServer
from tests.media.synthetic import Predicate, holds
from tests.recorded_session import seated_and_recording, written

SCENARIO = ScenarioId("boundary-fence")
SEATS = ("mediator", "party_a", "party_b", "coach")
LOBBY_END_MS = 3000
END_MS = 9000
#: the seats' held places expire one grace period (60 s) after the end
GRACE_MS = 60_000


@dataclass
class LobbySession:
    server: LiveServer
    room: RoomId

    def token(self, seat: str) -> str:
        identity = "coach-ana" if seat == "coach" else f"{self.room}:{seat}"
        return self.server.token(self.room, seat, identity=identity)


async def record_with_lobby(
    server: LiveServer, names: dict[str, str] | None = None, t0_ms: int | None = None
) -> LobbySession:
    """Lobby 0–3 s (media flows, nothing is recorded), joint 3–9 s, ended at 9 s, and
    every seat released a grace period later, as the live server writes it. `t0_ms`:
    the wall-clock moment the session's clock started."""
    room_id = await server.simulation(SCENARIO)
    catalogue = server.catalogue
    if t0_ms is not None:
        await catalogue.start_clock(room_id, t0_ms)
    room, recorder = await seated_and_recording(
        server, room_id, SCENARIO, {s: (names or NAMES)[s] for s in SEATS}, "coach-ana"
    )
    recorder.update(room, 0)
    for start, end in ((0, LOBBY_END_MS), (LOBBY_END_MS, END_MS)):
        if start == LOBBY_END_MS:
            room, event = room.change_phase(SeatId("coach"), "joint", start)
            await catalogue.append_event(room_id, event)
            recorder.update(room, start)
        frames = []
        for seat in SEATS:
            video = colour_frames(COLOURS[seat], start, (end - start) // VIDEO_STEP_MS)
            for i, (data, ts) in enumerate(video):
                frames.append((start + i * VIDEO_STEP_MS, seat, data, ts + start * 90))
        for at, seat, data, ts in sorted(frames, key=lambda f: f[0]):
            recorder.record_frame(SeatId(seat), MediaKind.VIDEO, "vp8", 90_000, data, ts, at)
    room, event = room.change_phase(SeatId("coach"), "ended", END_MS)
    await catalogue.append_event(room_id, event)
    recorder.update(room, END_MS)
    recorder.close(END_MS)
    await written(server)  # the recording's events first, then the releases
    for seat in SEATS:
        release = Event(
            END_MS + GRACE_MS, EventKind.LEAVE, SeatId(seat), {"reason": "grace_expired"}
        )
        await catalogue.append_event(room_id, release)
    return LobbySession(server, room_id)


async def wait_until(check: Predicate, what: str, timeout_s: float = WAIT_MS / 1000) -> None:
    """Poll a server-side condition (the catalogue and counters have no event to await)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await holds(check):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)  # polling another component's state, bounded above
