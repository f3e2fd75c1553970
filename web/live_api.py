"""The live rooms, as the console shows them: phase, who sits where, each seat's link,
the recording. An admin sees every room; a coach those of the cohorts they coach.

The console page polls this every 2 s (a room's state changes on people's actions,
a link sample every 2 s: polling at that pace shows the same as a push would).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from rooms.directory import LiveRoom
from rooms.media_port import MediaPort
from sessions.ids import RoomId, SeatId
from sessions.link_trouble import LinkSample
from sessions.roles import ADMIN_SEAT
from sessions.schedule import seat_label
from sessions.views import recording_for
from storage.simulations import Simulation
from web.callers import SIMULATIONS, staff_of
from web.keys import DIRECTORY

routes = web.RouteTableDef()

#: a seat's latest link sample (media.link_stats.LinkWatch.latest); absent without media
LinkReadings = Callable[[RoomId, SeatId], LinkSample | None]
LINK_READINGS: web.AppKey[LinkReadings] = web.AppKey("link_readings")
#: the media port, for each seat's media connection status
MEDIA: web.AppKey[MediaPort] = web.AppKey("media_port")


def link_view(sample: LinkSample | None) -> dict[str, Any] | None:
    if sample is None:
        return None
    return {
        "at_ms": sample.t_ms,
        "loss_pct": round(100 * sample.loss, 1),
        "rtt_ms": sample.rtt_ms,
        "jitter_ms": sample.jitter_ms,
        "kbps": sample.kbps,
        "frozen": bool(sample.freezes),
        # the thresholds the timeline's trouble stretches use (sessions/link_trouble.py)
        "quality": "poor" if sample.troubled or sample.freezes else "good",
    }


def room_view(
    request: web.Request, live: LiveRoom, simulation: Simulation | None
) -> dict[str, Any]:
    room = live.room
    readings = request.app.get(LINK_READINGS)
    media = request.app[MEDIA].media_status(room.id) if MEDIA in request.app else {}
    seats = []
    for seat in room.seats:
        sitting = room.participants.get(seat)
        assigned = simulation.person_in(seat) if simulation is not None else None
        if sitting is None and assigned is None and seat == ADMIN_SEAT:
            continue
        seats.append(
            {
                "seat": seat,
                "label": seat_label(room.scenario, seat),
                "assigned": None
                if assigned is None
                else {"id": assigned.person_id, "name": assigned.name},
                "occupant": None
                if sitting is None
                else {
                    "name": sitting.name,
                    "connected": sitting.connected,
                    "since_ms": sitting.since_ms,
                    "consent": sitting.consent.value,
                },
                "media": media.get(seat, "none"),
                "link": link_view(readings(room.id, seat))
                if readings is not None and sitting is not None
                else None,
            }
        )
    return {
        "id": room.id,
        "scenario": {"id": room.scenario.id, "title": room.scenario.title},
        "cohort_id": simulation.cohort_id if simulation is not None else None,
        "scheduled_ms": simulation.scheduled_ms if simulation is not None else None,
        "duration_min": simulation.duration_min if simulation is not None else None,
        "t0_ms": live.t0_ms,
        "phase": {
            "name": str(room.phase),
            "kind": room.phase.kind.value,
            "started_ms": room.timer.started_ms,
            "planned_ms": room.timer.planned_ms,
        },
        "connected": len(live.sockets),
        "recording": recording_for(room, ADMIN_SEAT),
        "seats": seats,
    }


@routes.get("/api/live")
async def live_rooms(request: web.Request) -> web.Response:
    staff = await staff_of(request)
    store = request.app[SIMULATIONS]
    directory = request.app[DIRECTORY]
    rooms = directory.rooms()
    found = []
    for live in rooms:
        simulation = await store.get(live.id)
        if simulation is None or not staff.may_see(simulation):
            if not staff.admin:
                continue
        view = room_view(request, live, simulation)
        view["now_ms"] = directory.now_ms(live)
        found.append(view)
    found.sort(key=lambda r: (r["phase"]["kind"] == "ended", -r["connected"], r["id"]))
    return web.json_response({"rooms": found})
