"""Deactivating a person ends their seats on every node (web/every_node.py): two nodes
in this process on one real redis-server and one database; the person sits in a room
that runs on one node, and an admin deactivates them at the other."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from placement.nodes import NodeInfo, NodeLoad
from placement.redis_placement import RedisPlacement
from sessions.ids import RoomId
from sessions.people import Role
from tests.live_server import WAIT_S, LiveServer, Participant
from tests.people import SignedIn, sign_in
from tests.placement.two_nodes import preview, silent_origin, two_nodes
from tests.redis_server import RedisServer
from tests.server_process import free_port
from tests.web.console_client import Caller
from web.auth import PEOPLE
from web.every_node import FAN_OUT_TIMEOUT_S, PLACEMENT_UNKNOWN
from web.keys import DIRECTORY
from web.room_owner import FORWARDED_BY


@dataclass
class Seated:
    redis: RedisServer
    #: the node the room runs on, and the other one
    holder: LiveServer
    other: LiveServer
    room: RoomId
    admin: SignedIn
    #: a trainee (a person) in party_a, and a guest coach, both on `holder`
    trainee: SignedIn
    person: Participant
    coach: Participant
    #: set when the person's socket is disconnected by the server
    disconnected: asyncio.Event

    @property
    def deactivate(self) -> str:
        return f"/api/people/{self.trainee.person.id}/deactivate"


@pytest.fixture
async def seated(tmp_path: Path) -> AsyncIterator[Seated]:
    async with two_nodes(tmp_path) as (redis, a, b):
        room = await a.simulation()
        _, asked = await preview(a, room)  # places the room
        holder, other = (a, b) if asked["origin"] == "" else (b, a)
        admin = await sign_in(other.app, Role.ADMIN)  # one database: known on both
        trainee = await sign_in(holder.app, Role.TRAINEE)
        token = holder.token(room, "party_a", identity=trainee.person.id)
        person = Participant("party_a", token, room)
        person.rejoin = False
        disconnected = asyncio.Event()

        def on_disconnect(reason: Any = None) -> None:
            disconnected.set()

        person.client.on("disconnect", on_disconnect)
        coach = Participant("coach", holder.token(room, "coach"), room)
        try:
            for participant in (coach, person):
                await participant.connect(holder.url)
                assert (await participant.join())["ok"]
            await coach.wait_for_state(
                lambda s: {p["seat"] for p in s["roster"]} == {"coach", "party_a"}
            )
            yield Seated(redis, holder, other, room, admin, trainee, person, coach, disconnected)
        finally:
            for participant in (person, coach):
                await participant.close()


async def joins_again(seated: Seated) -> dict[str, Any]:
    again = Participant("party_a", seated.person.token, seated.room)
    again.rejoin = False
    try:
        await again.connect(seated.holder.url)
        return await again.join()
    finally:
        await again.close()


async def test_deactivation_at_the_other_node_ends_the_seat_where_the_room_runs(
    seated: Seated,
) -> None:
    answer = await Caller(seated.other, seated.admin).post(seated.deactivate)
    assert answer.status == 200, answer
    assert answer.body["person"]["active"] is False
    assert (answer.body["seats_ended"], answer.body["nodes_unreached"]) == (1, [])
    # the seat on the node that was not asked is left, and its connection closed
    await asyncio.wait_for(seated.disconnected.wait(), WAIT_S)
    await seated.coach.wait_for_state(lambda s: {p["seat"] for p in s["roster"]} == {"coach"})
    reply = await joins_again(seated)
    assert (reply["ok"], reply["code"]) == (False, "token_revoked")
    # asked again (the admin token this time): nothing left anywhere, still 200
    again = await Caller(seated.other, token=seated.other.config.admin_token).post(
        seated.deactivate
    )
    assert again.status == 200, again
    assert (again.body["seats_ended"], again.body["nodes_unreached"]) == (0, [])


async def test_a_forwarded_deactivation_ends_only_this_node_s_seats(seated: Seated) -> None:
    # what another node sends: it asks every node itself, so this one sends it on nowhere
    answer = await Caller(seated.other, seated.admin).post(
        seated.deactivate, headers={FORWARDED_BY: "some-node"}
    )
    assert answer.status == 200, answer
    assert (answer.body["seats_ended"], answer.body["nodes_unreached"]) == (0, [])
    assert answer.body["person"]["active"] is False
    live = seated.holder.app[DIRECTORY].peek(seated.room)
    assert live is not None and "party_a" in live.sockets  # still seated on the holder
    assert not seated.disconnected.is_set()


async def test_nodes_that_do_not_answer_are_named_and_the_person_is_deactivated(
    seated: Seated,
) -> None:
    # two nodes live in the placement (they reported) whose HTTP is gone or silent
    ghosts = [RedisPlacement(seated.redis.url) for _ in range(2)]
    async with silent_origin() as silent:
        await ghosts[0].register(NodeInfo("gone", f"http://127.0.0.1:{free_port()}"))
        await ghosts[1].register(NodeInfo("silent", silent.origin))
        try:
            for ghost in ghosts:
                await ghost.report(NodeLoad())
            asked = time.monotonic()
            answer = await Caller(seated.other, seated.admin).post(seated.deactivate)
            took = time.monotonic() - asked
        finally:
            for ghost in ghosts:
                await ghost.close()
    assert silent.taken.is_set()
    assert answer.status == 200, answer
    assert answer.body["seats_ended"] == 1  # the holder answered
    assert sorted(answer.body["nodes_unreached"]) == ["gone", "silent"]
    assert took < FAN_OUT_TIMEOUT_S + 5, took
    assert await seated.other.app[PEOPLE].is_deactivated(seated.trainee.person.id)
    await asyncio.wait_for(seated.disconnected.wait(), WAIT_S)


async def test_without_redis_the_nodes_not_asked_are_said_to_be_unknown(
    seated: Seated,
) -> None:
    seated.redis.stop()
    answer = await Caller(seated.other, seated.admin).post(seated.deactivate)
    assert answer.status == 200, answer
    assert (answer.body["seats_ended"], answer.body["nodes_unreached"]) == (
        0,
        [PLACEMENT_UNKNOWN],
    )
    assert await seated.other.app[PEOPLE].is_deactivated(seated.trainee.person.id)
    # the seat on the holder stays until asked there; its joins are refused meanwhile
    assert not seated.disconnected.is_set()
    answer = await Caller(seated.holder, seated.admin).post(seated.deactivate)
    assert (answer.status, answer.body["seats_ended"]) == (200, 1), answer
    await asyncio.wait_for(seated.disconnected.wait(), WAIT_S)
