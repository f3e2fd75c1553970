"""Which of the supervisor's nodes holds which live room: embedded, in memory, no Redis.

`caucus serve --workers N` (caucus/workers.py) runs N nodes on one machine; the
front (caucus/front.py) asks this placement where each request about a room goes.
A new room goes to the least-loaded live node (fewest rooms placed; then fewest
seats reported); afterwards it is sticky. A placement ends when the node's report
of its live rooms no longer lists the room (ended, abandoned) – after a grace for
a room just placed whose first client has not connected yet – or when its node
dies (then the supervisor closes the node's recordings first, `node_down`).

The method names and their meaning follow `placement.nodes.Placement` (the
multi-machine protocol on Redis); this one is synchronous because it answers
from the supervisor's own memory, and it places over nodes it was given rather
than nodes that registered themselves.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sessions.errors import DomainError
from sessions.ids import RoomId

#: a room just placed stays placed this long even if its node does not list it yet
PENDING_S = 30.0


class NoLiveNode(DomainError):
    """Every node is down (restarting): nothing can be placed now; try again."""

    code = "unavailable"


@dataclass
class NodeLoad:
    live: bool = False
    seats: int = 0


class WorkerPlacement:
    """Room → node name, over a fixed set of node names."""

    def __init__(self, nodes: list[str]) -> None:
        self._nodes = {name: NodeLoad() for name in nodes}
        self._node_of: dict[RoomId, str] = {}
        self._placed_at: dict[RoomId, float] = {}

    # --- the front's questions ----------------------------------------------------

    def node_of(self, room_id: RoomId) -> str | None:
        """The live node `room_id` is placed on; None if unplaced or its node is down."""
        node = self._node_of.get(room_id)
        return node if node is not None and self._nodes[node].live else None

    def placed_on_dead_node(self, room_id: RoomId) -> bool:
        node = self._node_of.get(room_id)
        return node is not None and not self._nodes[node].live

    def place(self, room_id: RoomId) -> str:
        """Where `room_id` is placed if that node is live, else placed now on the
        least-loaded live node. `NoLiveNode` if every node is down."""
        node = self.node_of(room_id)
        if node is not None:
            return node
        node = self.least_loaded()
        self._node_of[room_id] = node
        self._placed_at[room_id] = time.monotonic()
        return node

    def least_loaded(self) -> str:
        live = [name for name, load in self._nodes.items() if load.live]
        if not live:
            raise NoLiveNode("every node is restarting; try again in a few seconds")
        return min(live, key=lambda name: (self.rooms_on(name), self._nodes[name].seats))

    def home(self) -> str:
        """Where requests about no room go: the first live node, so the console's
        reads follow its writes (scenarios, sign-in limits are held per process)."""
        for name, load in self._nodes.items():
            if load.live:
                return name
        raise NoLiveNode("every node is restarting; try again in a few seconds")

    def rooms_on(self, node: str) -> int:
        return sum(1 for placed in self._node_of.values() if placed == node)

    def rooms(self) -> dict[RoomId, str]:
        return dict(self._node_of)

    def seats_on(self, node: str) -> int:
        return self._nodes[node].seats

    def live(self, node: str) -> bool:
        return self._nodes[node].live

    # --- what the supervisor tells it ---------------------------------------------

    def node_up(self, node: str) -> None:
        self._nodes[node] = NodeLoad(live=True)

    def node_down(self, node: str) -> set[RoomId]:
        """`node` died: no request goes there; its rooms stay placed on it (so nobody
        re-places them) until `release_all` once its recordings are closed."""
        self._nodes[node].live = False
        return {room for room, placed in self._node_of.items() if placed == node}

    def release(self, room_id: RoomId) -> None:
        self._node_of.pop(room_id, None)
        self._placed_at.pop(room_id, None)

    def release_all(self, rooms: set[RoomId]) -> None:
        for room_id in rooms:
            self.release(room_id)

    def reported(self, node: str, live_rooms: set[RoomId], seats: int, asked_at: float) -> None:
        """`node`'s live rooms as of `asked_at` (monotonic): rooms placed there that it
        no longer holds are released, unless placed within `PENDING_S` of the report."""
        if not self._nodes[node].live:
            return
        self._nodes[node].seats = seats
        for room_id, placed in list(self._node_of.items()):
            if placed != node or room_id in live_rooms:
                continue
            if self._placed_at.get(room_id, 0.0) < asked_at - PENDING_S:
                self.release(room_id)
        for room_id in live_rooms:  # held there, e.g. from before a supervisor restart
            if room_id not in self._node_of:
                self._node_of[room_id] = node
                self._placed_at[room_id] = asked_at
