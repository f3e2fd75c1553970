"""A recorded session for review tests: joint, a caucus with party_a, joint again."""

from __future__ import annotations

from dataclasses import dataclass

from caucus.app import RECORDINGS
from recordings.recorder import SessionRecorder
from sessions.ids import Identity, RoomId, ScenarioId, SeatId
from sessions.media_kinds import MediaKind
from sessions.rooms import Room
from sessions.timeline import Event, EventKind
from tests.encoded_media import opus_frames, vp8_frames
from tests.live_server import LiveServer
from web.keys import SCENARIOS

SEATS = ("mediator", "party_a", "party_b", "coach")
AUDIO = list(opus_frames(200))
VIDEO = list(vp8_frames(100, keyframe_every=30))


@dataclass
class Recorded:
    server: LiveServer
    room: RoomId
    other_room: RoomId

    def token(self, seat: str, room: RoomId | None = None) -> str:
        room = room or self.room
        return self.server.token(room, seat, identity=f"{room}:{seat}")


async def seated_and_recording(
    server: LiveServer,
    room_id: RoomId,
    scenario: str,
    names: dict[str, str],
    coach_identity: str,
) -> tuple[Room, SessionRecorder]:
    """Every seat of ``names`` joined (trainees as ``{room}:{seat}``) and every
    trainee consenting, each event catalogued; and a recorder for the room, writing
    through the server's catalogue write queue (`await written(server)` to read back)."""
    catalogue = server.catalogue
    room = Room.create(room_id, server.app[SCENARIOS][ScenarioId(scenario)], 0)
    for seat, name in names.items():
        identity = Identity(coach_identity if seat == "coach" else f"{room_id}:{seat}")
        room, _, event = room.join(identity, name, SeatId(seat), 0)
        await catalogue.append_event(room_id, event)
        if seat != "coach":
            room, event = room.answer_consent(SeatId(seat), True, 0)
            await catalogue.append_event(room_id, event)
    recorder = SessionRecorder(
        room_id,
        server.config.recordings_dir / room_id,
        server.app[RECORDINGS].writes,
        lambda seat: None,
    )
    return room, recorder


async def written(server: LiveServer) -> None:
    """Every catalogue write a recorder queued so far is stored."""
    await server.app[RECORDINGS].writes.flush()


async def record_session(server: LiveServer, coach_identity: str) -> RoomId:
    """A session with a joint stretch, a caucus with party_a and a whisper, recorded."""
    room_id = await server.simulation()
    catalogue = server.catalogue
    room, recorder = await seated_and_recording(
        server, room_id, "boundary-fence", {seat: seat for seat in SEATS}, coach_identity
    )
    audio, video = iter(AUDIO), iter(VIDEO)
    t = 0
    for request in ("joint", "caucus:party_a", "joint"):
        room, event = room.change_phase(SeatId("coach"), request, t)
        await catalogue.append_event(room_id, event)
        recorder.update(room, t)
        if request.startswith("caucus"):
            await catalogue.append_event(
                room_id,
                Event(
                    t + 10,
                    EventKind.WHISPER,
                    SeatId("coach"),
                    {"to": "mediator", "text": "probe interests"},
                ),
            )
        for step in range(0, 1000, 20):
            data, ts = next(audio)
            recorder.record_frame(
                SeatId("party_a"), MediaKind.AUDIO, "opus", 48000, data, ts, t + step
            )
            if step % 40 == 0:
                data, ts = next(video)
                recorder.record_frame(
                    SeatId("mediator"), MediaKind.VIDEO, "vp8", 90000, data, ts, t + step
                )
        t += 1000
    recorder.close(t)
    await written(server)
    return room_id
