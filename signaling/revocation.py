"""Seat tokens of deactivated people: refused at join, and their live seats ended.

A signed-in person's seat token carries their person id as its identity, and
a token cannot be recalled once issued; so every join asks whether that
identity belongs to a deactivated person (`token_revoked`), and deactivating
someone ends the seats they hold now (`RoomService.end_seats_of`: each seat
is left as if its holder pressed Leave, then the connection is closed; the
page's rejoin is refused with `token_revoked`, and it says so and stops). A
guest's identity ("room:seat", or whatever the admin named) belongs to nobody
and is never refused here.

Only the seats in this process's rooms are ended; with Redis, a room held by
another process keeps its seat until that connection drops, and the rejoin is
refused there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from signaling.namespace import SimulationNamespace

#: whether a person id belongs to a deactivated person (storage.people.People.is_deactivated)
IsDeactivated = Callable[[str], Awaitable[bool]]


def guards_joins(namespace: SimulationNamespace, is_deactivated: IsDeactivated) -> None:
    """Make `namespace` refuse the seat tokens of deactivated people."""

    async def may_join(identity: str) -> bool:
        if ":" in identity:  # a guest's default identity; person ids never hold ":"
            return True
        return not await is_deactivated(identity)

    namespace.identity_check = may_join
