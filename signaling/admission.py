"""Join links: a signed token per seat, carried in the link's fragment."""

from __future__ import annotations

from sessions.ids import RoomId, SeatId
from sessions.roles import Role, role_of
from sessions.scenarios import Scenario
from signaling.tokens import claims_for, issue

DEFAULT_TTL_S = 7 * 24 * 3600


def default_name(scenario: Scenario, seat: SeatId) -> str:
    """The name a seat is shown under until the participant says otherwise."""
    for party in scenario.parties:
        if party.seat == seat:
            return party.name
    role = role_of(seat)
    if role is Role.OBSERVER:
        return f"Observer {seat.rsplit('_', 1)[-1]}"
    return role.value.capitalize()


def join_link(base_url: str, room: RoomId, token: str) -> str:
    # The token rides in the fragment, which browsers never send to servers or
    # put in Referer headers, so it stays out of access logs.
    return f"{base_url}/join/{room}#token={token}"


def seat_token(
    secret: str,
    room: RoomId,
    seat: SeatId,
    name: str,
    identity: str | None = None,
    ttl_s: int = DEFAULT_TTL_S,
) -> tuple[str, int]:
    claims = claims_for(room, identity or f"{room}:{seat}", name, seat, ttl_s)
    return issue(secret, claims), claims.expires_at


def seat_links(
    secret: str,
    base_url: str,
    room: RoomId,
    scenario: Scenario,
    seats: tuple[SeatId, ...],
    ttl_s: int = DEFAULT_TTL_S,
) -> dict[SeatId, str]:
    links = {}
    for seat in seats:
        token, _ = seat_token(secret, room, seat, default_name(scenario, seat), ttl_s=ttl_s)
        links[seat] = join_link(base_url, room, token)
    return links
