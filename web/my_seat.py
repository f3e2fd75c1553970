"""A signed-in person's own seat: no link needed (docs/protocol.md, "my-seat")."""

from __future__ import annotations

from aiohttp import web

from sessions.errors import NotPermitted
from sessions.people import Person
from sessions.roles import COACH_SEAT
from sessions.schedule import opens_ms
from signaling.admission import join_link, seat_token
from signaling.tokens import MAX_NAME_CHARS
from storage.people import now_ms
from storage.simulations import Simulation
from web.api import base_url, body
from web.auth import person_of
from web.callers import SIMULATIONS
from web.errors import Unauthorized
from web.keys import DIRECTORY, SECRET
from web.room_owner import check_runs_here, sent_to_its_node
from web.simulations_api import conflict, ended, simulation_of, token_ttl_s

routes = web.RouteTableDef()


def _coach_seat_free(request: web.Request, simulation: Simulation, person: Person) -> bool:
    held = simulation.person_in(COACH_SEAT)
    if held is not None and held.person_id != person.id:
        return False
    live = request.app[DIRECTORY].peek(simulation.id)
    sitting = live.room.participants.get(COACH_SEAT) if live is not None else None
    return sitting is None or sitting.identity == person.id


@routes.post("/api/simulations/{room}/my-seat")
@sent_to_its_node
async def my_seat(request: web.Request) -> web.Response:
    """A signed-in person's seat token: no link needed (docs/protocol.md, "my-seat").
    Who sits in the coach's seat, and whether the room has ended, only the node running
    the room knows: a room placed on another node is asked there (web/room_owner.py)."""
    await body(request, set())  # none expected; a broken one is refused first, as everywhere
    person = person_of(request)
    if person is None:
        raise Unauthorized("sign in first")
    simulation = await simulation_of(request)
    if request.app[DIRECTORY].peek(simulation.id) is None:
        await check_runs_here(request, simulation.id)
    seat = simulation.seat_of(person.id)
    if seat is None:
        coaches = person.is_admin or (
            simulation.cohort_id is not None
            and simulation.cohort_id in await request.app[SIMULATIONS].coached_cohorts(person.id)
        )
        if not coaches:
            raise NotPermitted("you have no seat in this simulation")
        if not _coach_seat_free(request, simulation, person):
            raise NotPermitted("someone else sits in the coach's seat")
        seat = COACH_SEAT
    if ended(request.app[DIRECTORY], simulation):
        return conflict("ended", "this simulation has ended")
    now = now_ms()
    start = simulation.scheduled_ms
    if start is not None and now < opens_ms(start):
        return conflict(
            "not_yet_open",
            "this simulation opens 15 minutes before it starts",
            opens_ms=opens_ms(start),
            scheduled_ms=start,
        )
    ttl_s = token_ttl_s(simulation, now)
    if ttl_s <= 0:
        return conflict("ended", "this simulation's time is over")
    token, expires_at = seat_token(
        request.app[SECRET],
        simulation.id,
        seat,
        person.name[:MAX_NAME_CHARS],
        person.id,
        ttl_s,
    )
    return web.json_response(
        {
            "token": token,
            "seat": seat,
            "link": join_link(base_url(request), simulation.id, token),
            "expires_at": expires_at,
        }
    )
