"""Nodes, their load, and the `Placement` protocol every placement implements.

A node is one Caucus process that holds live rooms: its signalling, its media and
its recorder. A room lives on exactly one node at a time. `place` is sticky: a
room stays on the node it was placed on while that node is live, and is placed
anew (on the least-loaded live node) when it is not. A node is live while its
latest report is younger than `LIVE_FOR_S`; it reports every `REPORT_EVERY_S`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sessions.errors import DomainError
from sessions.ids import RoomId

#: a node tells its load this often (placement/presence.py)
REPORT_EVERY_S = 2.0
#: a node is live while its latest report is younger than this
LIVE_FOR_S = 5.0


@dataclass(frozen=True)
class NodeInfo:
    """A node as clients reach it."""

    #: unique for the life of one process (a restarted process is a new node)
    id: str
    #: scheme://host[:port] where the node's pages, Socket.IO and media signalling are
    origin: str


@dataclass(frozen=True)
class NodeLoad:
    """What a node tells in each report."""

    #: the rooms live on it now (a report also re-claims them, see RedisPlacement)
    rooms: frozenset[RoomId] = frozenset()
    #: seats with a connection
    seats: int = 0


@dataclass(frozen=True)
class NodeStatus:
    """A live node and its latest report."""

    node: NodeInfo
    #: rooms placed on it (placed, not only reported: a burst of new rooms spreads)
    rooms: int
    seats: int


class PlacementUnavailable(DomainError):
    """The placement cannot be asked now (Redis unreachable); nothing changed, try again."""

    code = "unavailable"


class PlacedElsewhere(DomainError):
    """The room is (or was just) placed on another node: go there."""

    code = "wrong_node"

    def __init__(self, node: NodeInfo) -> None:
        super().__init__(f"this simulation runs on {node.origin}")
        self.node = node


class Placement(Protocol):
    """Where live rooms run. Every method may raise `PlacementUnavailable`."""

    @property
    def here(self) -> NodeInfo:
        """This process's node (set by `register`)."""
        ...

    async def register(self, node: NodeInfo) -> None:
        """Make `node` this process's node and announce it (live from now on)."""
        ...

    async def report(self, load: NodeLoad) -> None:
        """Tell this node's load; keeps it live for `LIVE_FOR_S`."""
        ...

    async def live_nodes(self) -> list[NodeStatus]:
        """Every live node, with its latest load."""
        ...

    async def place(self, room_id: RoomId) -> NodeInfo:
        """The node that holds `room_id`: where it is placed if that node is live,
        else (placed now, atomically) the least-loaded live node."""
        ...

    async def node_of(self, room_id: RoomId) -> NodeInfo | None:
        """The live node `room_id` is placed on; None if unplaced or its node is not live.
        Never places."""
        ...

    async def release(self, room_id: RoomId) -> None:
        """`room_id` ended or was forgotten here: unplace it if it is still placed here."""
        ...

    async def close(self) -> None:
        """Stop reporting; this node's rooms are placed elsewhere once it is not live."""
        ...
