"""REST calls that change a live room, made at a node that does not run it, reach the
node that does (web/room_owner.py): two nodes in this process on one real
redis-server and one database, a room placed on one of them with its seats taken
there, and the console's calls sent to the other."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from placement.nodes import NodeInfo, NodeLoad
from placement.redis_placement import RedisPlacement
from sessions.ids import RoomId
from sessions.people import Role
from sessions.phases import PhaseKind
from tests.live_server import LiveServer, Participant
from tests.people import sign_in
from tests.placement.two_nodes import preview, silent_origin, two_nodes
from tests.redis_server import RedisServer
from tests.server_process import free_port
from tests.web.console_client import Caller
from web.keys import DIRECTORY
from web.room_owner import FORWARD_TIMEOUT_S, FORWARDED_BY


@dataclass
class TwoNodes:
    redis: RedisServer
    #: the node the room runs on, and the other one
    holder: LiveServer
    other: LiveServer
    room: RoomId
    #: the room's mediator and coach, seated on `holder`
    seated: list[Participant]


@pytest.fixture
async def nodes(tmp_path: Path) -> AsyncIterator[TwoNodes]:
    seated: list[Participant] = []
    async with two_nodes(tmp_path) as (redis, a, b):
        try:
            room = await a.simulation()
            _, asked = await preview(a, room)  # places the room
            holder, other = (a, b) if asked["origin"] == "" else (b, a)
            for seat in ("mediator", "coach"):
                person = Participant(seat, holder.token(room, seat), room)
                seated.append(person)
                await person.connect(holder.url)
                assert (await person.join())["ok"]
            yield TwoNodes(redis, holder, other, room, seated)
        finally:
            for person in seated:
                await person.close()


def phase_at(node: LiveServer, room: RoomId) -> PhaseKind | None:
    live = node.app[DIRECTORY].peek(room)
    return None if live is None else live.room.phase.kind


async def test_the_console_s_end_at_the_other_node_ends_the_room_where_it_runs(
    nodes: TwoNodes,
) -> None:
    admin = await sign_in(nodes.other.app, Role.ADMIN)  # one database: known on both
    # a signed-in admin (cookie + CSRF token), at the node that does not run the room
    ended = await Caller(nodes.other, admin).post(f"/api/simulations/{nodes.room}/end")
    assert ended.status == 200 and ended.body["ok"], ended
    assert ended.body["id"] == nodes.room and isinstance(ended.body["t_ms"], int)
    for person in nodes.seated:  # the seats are told, by the node they sit on
        state = await person.wait_for_state(lambda s: s["phase"]["kind"] == "ended")
        assert state["phase"]["name"] == "ended"
    assert phase_at(nodes.holder, nodes.room) is PhaseKind.ENDED
    assert phase_at(nodes.other, nodes.room) is None  # never opened where it does not run
    events = await nodes.holder.catalogue.events(nodes.room)
    assert [e for e in events if e["kind"] == "phase"][-1]["phase"] == "ended"
    # asked again (the admin token this time), the holder's answer comes back
    token = Caller(nodes.other, token=nodes.other.config.admin_token)
    again = await token.post(f"/api/simulations/{nodes.room}/end")
    assert (again.status, again.code) == (409, "ended")


async def test_a_forwarded_request_is_never_sent_on(nodes: TwoNodes) -> None:
    bounced = await Caller(nodes.other, token=nodes.other.config.admin_token).post(
        f"/api/simulations/{nodes.room}/end", headers={FORWARDED_BY: "some-node"}
    )
    assert (bounced.status, bounced.code) == (409, "wrong_node")
    assert bounced.body["origin"] == nodes.holder.url
    assert phase_at(nodes.holder, nodes.room) is PhaseKind.LOBBY  # nothing changed


async def test_deleting_a_live_room_s_recording_at_the_other_node_is_refused_there(
    nodes: TwoNodes,
) -> None:
    # the other node has no room live: on its own it would have deleted everything
    admin = Caller(nodes.other, token=nodes.other.config.admin_token)
    refused = await admin.delete(f"/api/recordings/{nodes.room}")
    assert (refused.status, refused.code) == (409, "recording_in_progress"), refused
    assert await nodes.holder.catalogue.simulation(nodes.room) is not None


@asynccontextmanager
async def room_on_a_ghost(nodes: TwoNodes, origin: str) -> AsyncIterator[RoomId]:
    """A new room placed on a node that is live in the placement (it reported less
    than 5 s ago) but whose HTTP at `origin` is gone or silent: it died just now."""
    ghost = RedisPlacement(nodes.redis.url)
    await ghost.register(NodeInfo("ghost", origin))
    try:
        room = await nodes.other.simulation()
        await ghost.report(NodeLoad(frozenset({room})))  # claims the unplaced room
        yield room
    finally:
        await ghost.close()


async def test_an_owner_that_cannot_be_reached_gets_node_unavailable(nodes: TwoNodes) -> None:
    async with room_on_a_ghost(nodes, f"http://127.0.0.1:{free_port()}") as room:
        admin = Caller(nodes.other, token=nodes.other.config.admin_token)
        for method, path in (
            ("POST", f"/api/simulations/{room}/end"),
            ("DELETE", f"/api/recordings/{room}"),
        ):
            answer = await admin.call(method, path)
            assert (answer.status, answer.code) == (503, "node_unavailable"), answer
            assert "did not answer; nothing changed" in answer.body["message"]
        assert phase_at(nodes.other, room) is None
        assert await nodes.other.catalogue.simulation(room) is not None  # nothing deleted


async def test_a_room_s_node_behind_this_node_s_own_origin_is_not_asked(
    nodes: TwoNodes,
) -> None:
    # several nodes that share one public origin (a front): sending the request there
    # could only come back here
    async with room_on_a_ghost(nodes, nodes.other.url) as room:
        admin = Caller(nodes.other, token=nodes.other.config.admin_token)
        answer = await admin.post(f"/api/simulations/{room}/end")
    assert (answer.status, answer.code) == (409, "wrong_node"), answer
    assert answer.body["origin"] == nodes.other.url


async def test_an_owner_that_goes_silent_is_given_up_after_the_timeout(nodes: TwoNodes) -> None:
    async with silent_origin() as silent, room_on_a_ghost(nodes, silent.origin) as room:
        admin = Caller(nodes.other, token=nodes.other.config.admin_token)
        asked = time.monotonic()
        answer = await admin.post(f"/api/simulations/{room}/end")
        took = time.monotonic() - asked
    assert silent.taken.is_set()
    assert (answer.status, answer.code) == (503, "node_unavailable"), answer
    assert "says whether it was done" in answer.body["message"]
    assert FORWARD_TIMEOUT_S <= took < FORWARD_TIMEOUT_S + 5, took


async def test_the_join_preview_at_the_other_node_knows_the_holder_s_consent(
    nodes: TwoNodes,
) -> None:
    mediator = nodes.seated[0]
    assert await mediator.call("consent", {"recording": False}) == {
        "ok": True,
        "consent": "declined",
    }
    # a reload at the node that does not run the room: it is not asked again
    status, asked = await preview(nodes.other, nodes.room)
    assert status == 200, asked
    assert (asked["origin"], asked["consent"]) == (nodes.holder.url, "declined")
    # the holder's own answer; a forwarded ask is never sent on
    status, at_holder = await preview(nodes.holder, nodes.room)
    assert (status, at_holder["origin"], at_holder["consent"]) == (200, "", "declined")


async def test_the_join_preview_says_pending_when_the_owner_cannot_be_reached(
    nodes: TwoNodes,
) -> None:
    async with room_on_a_ghost(nodes, f"http://127.0.0.1:{free_port()}") as room:
        status, asked = await preview(nodes.other, room)
    assert status == 200, asked
    assert asked["consent"] == "pending" and asked["origin"].startswith("http://127.0.0.1:")


async def test_my_seat_at_the_other_node_sees_who_sits_in_the_coach_s_seat(
    nodes: TwoNodes,
) -> None:
    # an admin coaches every simulation; the coach's seat is taken on the holder
    admin = await sign_in(nodes.other.app, Role.ADMIN)
    refused = await Caller(nodes.other, admin).post(f"/api/simulations/{nodes.room}/my-seat")
    assert (refused.status, refused.code) == (403, "forbidden"), refused
    assert "coach's seat" in refused.body["message"]
    assert nodes.other.app[DIRECTORY].peek(nodes.room) is None  # asked where it runs
