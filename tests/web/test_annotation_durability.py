"""Nothing acknowledged is lost: 5 coaches post 1,000 notes while the server is SIGKILLed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from caucus.config import Config
from sessions.ids import SeatId
from sessions.timeline import Event, EventKind
from signaling.admission import seat_token
from tests.server_process import ServerProcess
from tests.stored import create_simulation
from tests.stored import stored as in_catalogue

COACHES, NOTES_EACH, IN_FLIGHT = 5, 200, 10
KILL_AFTER_ACKS = 300


async def test_every_acknowledged_annotation_survives_a_sigkill(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path).with_secrets()
    room = await create_simulation(config, observers=0)
    ended = Event(600_000, EventKind.PHASE, SeatId("coach"), {"phase": "ended", "from": "joint"})
    await in_catalogue(config, lambda catalogue: catalogue.append_event(room, ended))
    tokens = [
        seat_token(config.secret, room, SeatId("coach"), f"Coach {i}", f"coach-{i}")[0]
        for i in range(COACHES)
    ]

    server = ServerProcess(tmp_path)
    await server.start()
    acked: set[str] = set()
    enough = asyncio.Event()
    back_up = asyncio.Event()
    back_up.set()

    async def coach(i: int, http: aiohttp.ClientSession) -> None:
        headers = {"Authorization": f"Bearer {tokens[i]}"}
        queue = list(range(NOTES_EACH))

        async def post(n: int) -> None:
            while True:
                await back_up.wait()
                try:
                    async with http.post(
                        f"{server.url}/api/recordings/{room}/annotations",
                        json={"t_ms": n * 1000, "text": f"coach {i} note {n}"},
                        headers=headers,
                    ) as r:
                        if r.status == 201:
                            acked.add((await r.json())["id"])
                            if len(acked) >= KILL_AFTER_ACKS:
                                enough.set()
                            return
                except (TimeoutError, aiohttp.ClientError):
                    pass  # not acknowledged: may or may not be stored; post it again

        async def worker() -> None:
            while queue:
                await post(queue.pop())

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        coaches = asyncio.gather(*(coach(i, http) for i in range(COACHES)))
        await asyncio.wait_for(enough.wait(), 60)
        back_up.clear()
        server.kill()
        killed_with = len(acked)
        back_up.set()  # clients see refused connections and retry until the restart
        await server.start()
        await asyncio.wait_for(coaches, 120)
        async with http.get(
            f"{server.url}/api/recordings/{room}/annotations",
            headers={"Authorization": f"Bearer {config.admin_token}"},
        ) as r:
            stored = {n["id"] for n in await r.json()}
    server.stop()
    print(f"acknowledged {len(acked)} ({killed_with} before the kill); stored {len(stored)}")
    assert KILL_AFTER_ACKS <= killed_with < COACHES * NOTES_EACH
    assert len(acked) >= COACHES * NOTES_EACH
    assert acked <= stored
