"""Two nodes on one Redis (in this process, real redis-server, one database): a room
lives on the node it is placed on, a join at the other node is sent there (`wrong_node`
with its origin), the join preview names that origin; with Redis stopped the room's
own signalling goes on, a new room waits (`unavailable`), and is placed once Redis
is back."""

from __future__ import annotations

from pathlib import Path

from tests.live_server import Participant
from tests.placement.two_nodes import preview, two_nodes


async def test_a_room_lives_on_its_node_and_survives_a_redis_outage(tmp_path: Path) -> None:
    people: list[Participant] = []
    async with two_nodes(tmp_path) as (redis, a, b):
        try:
            room = await a.simulation()
            status, asked_a = await preview(a, room)
            assert status == 200
            _, asked_b = await preview(b, room)
            # one of them holds it ("" = here); the other names the holder's origin
            assert sorted([asked_a["origin"], asked_b["origin"]]) in (["", b.url], ["", a.url])
            holder, other = (a, b) if asked_a["origin"] == "" else (b, a)

            wrong = Participant("mediator", holder.token(room, "mediator"), room)
            await wrong.connect(other.url)
            refused = await wrong.join()
            assert refused["code"] == "wrong_node" and refused["origin"] == holder.url
            await wrong.close()

            for seat in ("mediator", "coach"):
                person = Participant(seat, holder.token(room, seat), room)
                await person.connect(holder.url)
                assert (await person.join())["ok"]
                people.append(person)
            mediator, coach = people

            redis.stop()
            # the room's own signalling goes on without Redis
            assert (await coach.call("phase", {"to": "joint"}))["ok"]
            await mediator.wait_for_state(lambda s: s["phase"]["name"] == "joint")
            # a new room cannot be placed meanwhile: a clear code, nothing changed
            new = await holder.simulation()
            newcomer = Participant("mediator", holder.token(new, "mediator"), new)
            await newcomer.connect(holder.url)
            waiting = await newcomer.join()
            assert waiting["ok"] is False and waiting["code"] == "unavailable", waiting
            assert (await preview(holder, new))[0] == 503

            await redis.start()  # empty, as after a crash
            # the nodes' next reports make them live again and re-claim the live room: a
            # place waits for them (placement/redis_placement.py SETTLE_MS)
            _, again = await preview(other, room)
            assert again["origin"] == holder.url  # the live room stayed where it runs
            status, placed = await preview(holder, new)
            assert status == 200  # a new room is placed again
            target = holder.url if placed["origin"] == "" else placed["origin"]
            await newcomer.close()
            newcomer = Participant("mediator", holder.token(new, "mediator"), new)
            await newcomer.connect(str(target))
            assert (await newcomer.join())["ok"]
            await newcomer.close()
        finally:
            for person in people:
                await person.close()
