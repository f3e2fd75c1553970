"""The server on PostgreSQL (CAUCUS_DATABASE_URL): a session's timeline, notes and review
are stored and read back as on the embedded SQLite (the same code, the other engine)."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from sessions.ids import RoomId
from tests.live_server import seat_participants, start_server
from tests.postgres_server import fresh_database
from web.keys import FEEDBACK


async def test_a_session_on_postgresql_is_stored_and_reviewed(
    tmp_path: Path, postgres_base_url: str
) -> None:
    server = await start_server(tmp_path, database_url=await fresh_database(postgres_base_url))
    try:
        room = await server.simulation()
        people = await seat_participants(server, room, ["mediator", "coach"])
        assert (await people["coach"].call("phase", {"to": "joint"}))["ok"]
        note = await people["coach"].call("annotate", {"text": "good open question"})
        assert note["ok"], note
        for person in people.values():
            await person.close()
        kinds = [e["kind"] for e in await server.catalogue.events(RoomId(room))]
        assert kinds[:3] == ["join", "join", "phase"], kinds
        notes = await server.app[FEEDBACK].store.for_session(RoomId(room))
        assert [n["text"] for n in notes] == ["good open question"]
        token = server.token(room, "mediator", identity=f"{room}:mediator")
        assert await server.catalogue.seats_of(f"{room}:mediator") == {room: "mediator"}
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {token}"}
            async with http.get(f"{server.url}/api/recordings", headers=headers) as r:
                assert r.status == 200, await r.text()
                (summary,) = await r.json()
        assert summary["id"] == room and summary["your_seat"] == "mediator"
    finally:
        await server.stop()
