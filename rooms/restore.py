"""A room as its stored timeline left it: what a node that opens a room that was live
elsewhere (or before a restart) starts from.

Everything a room is lives in its timeline (storage): the phase and its timer, who
held each seat (identity and name) and each holder's recording consent. Nobody is
connected to a restored room: every holder is held as dropped, so the same person
coming back resumes their seat with their consent (`Room.join`); the room service
releases a held seat after the grace period as for any drop.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

from sessions.ids import Identity, SeatId
from sessions.phases import ENDED, Phase, PhaseKind, PhaseState
from sessions.rooms import Consent, Participant, Room, Timer
from sessions.timeline import EventKind

_SEATED = frozenset((EventKind.JOIN, EventKind.RESUME, EventKind.REPLACE))


def restored(room: Room, events: list[dict[str, Any]]) -> Room:
    """`room` in the phase its stored timeline last reached, its holders held (dropped)."""
    phases, timer = PhaseState(), Timer()
    held: dict[SeatId, Participant] = {}
    for event in events:
        kind = event["kind"]
        if kind == EventKind.ENDED:
            phases, timer = PhaseState(ENDED), Timer(int(event["t_ms"]))
        elif kind == EventKind.PHASE:
            phase = Phase.parse(str(event["phase"]))
            resume_to = Phase.parse(str(event["from"])) if phase.kind is PhaseKind.TIMEOUT else None
            phases = PhaseState(phase, resume_to)
            timer = Timer(int(event["t_ms"]), event.get("planned_ms"))
        elif kind in _SEATED and event.get("seat") in room.seats and event.get("identity"):
            seat = SeatId(str(event["seat"]))
            identity = Identity(str(event["identity"]))
            before = held.get(seat)
            consent = (
                before.consent
                if before is not None and before.identity == identity
                else Consent.PENDING
            )
            name = str(event.get("name") or identity)
            held[seat] = Participant(identity, name, seat, False, int(event["t_ms"]), consent)
        elif kind == EventKind.LEAVE:
            held.pop(SeatId(str(event.get("seat"))), None)
        elif kind == EventKind.CONSENT and event.get("seat") in held:
            seat = SeatId(str(event["seat"]))
            held[seat] = replace(held[seat], consent=Consent(str(event["consent"])))
    if phases.phase.kind is PhaseKind.ENDED:
        held = {}
    return replace(room, phases=phases, timer=timer, participants=MappingProxyType(held))
