"""One process holds every room: the default, without Redis."""

from __future__ import annotations

from placement.nodes import NodeInfo, NodeLoad, NodeStatus
from sessions.ids import RoomId


class LocalPlacement:
    """Every room is placed on this process's node; it is always live."""

    def __init__(self, node: NodeInfo | None = None) -> None:
        self._node = node or NodeInfo("local", "")
        self._load = NodeLoad()

    @property
    def here(self) -> NodeInfo:
        return self._node

    async def register(self, node: NodeInfo) -> None:
        self._node = node

    async def report(self, load: NodeLoad) -> None:
        self._load = load

    async def live_nodes(self) -> list[NodeStatus]:
        return [NodeStatus(self._node, len(self._load.rooms), self._load.seats)]

    async def place(self, room_id: RoomId) -> NodeInfo:
        return self._node

    async def node_of(self, room_id: RoomId) -> NodeInfo | None:
        return self._node

    async def release(self, room_id: RoomId) -> None:
        return None

    async def close(self) -> None:
        return None
