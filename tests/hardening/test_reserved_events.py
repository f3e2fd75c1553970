"""A client event named like Socket.IO's own (connect, disconnect, ...) is refused, not run."""

from __future__ import annotations

import pytest

from sessions.ids import SeatId
from signaling.protocol import RESERVED_EVENTS
from tests.hardening.conftest import LogWatch
from tests.live_server import LiveServer, seat_participants
from web.keys import DIRECTORY


@pytest.mark.parametrize("event", sorted(RESERVED_EVENTS))
async def test_a_reserved_event_name_gets_an_error_and_the_seat_stays(
    server: LiveServer, log: LogWatch, event: str
) -> None:
    room = await server.simulation()
    people = await seat_participants(server, room, ["mediator", "coach"])
    live = await server.app[DIRECTORY].open(room)
    before = (live.room, dict(live.sockets), await server.catalogue.events(room))
    for payload in (None, {}, "transport close", {"reason": "x"}):
        reply = await people["mediator"].call(event, payload)
        assert reply["ok"] is False and reply["code"] == "bad_request", reply
        assert "reserved" in reply["message"]
    assert (live.room, dict(live.sockets), await server.catalogue.events(room)) == before
    assert not any(e["kind"] == "drop" for e in await server.catalogue.events(room))
    assert live.room.participants[SeatId("mediator")].connected
    # The socket still works, and a real disconnect is still a drop.
    assert (await people["coach"].call("phase", {"to": "joint"}))["ok"]
    await people["mediator"].close()
    await people["coach"].wait_for(
        lambda s: any(p["seat"] == "mediator" and not p["connected"] for p in s["roster"])
    )
    assert any(e["kind"] == "drop" for e in await server.catalogue.events(room))
    await people["coach"].close()
    log.assert_clean()
