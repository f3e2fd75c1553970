"""Rooms spread over the nodes that report to one Redis (CAUCUS_REDIS_URL).

Keys (all under `caucus:`), presence only, nothing durable:

- `node:{id}`: the node's origin and latest load, JSON, expiring `LIVE_FOR_S` after
  each report: the node is live exactly while this key exists;
- `nodes`: the ids of the nodes that have reported (dead ones are dropped when met);
- `room:{room}`: the id of the node the room is placed on;
- `rooms_of:{id}`: the rooms placed on a node (how loaded it is for `place`);
- `since`: when this Redis first heard a report (its server time, ms).

`place` is one Lua script, so two nodes asked for the same new room at once agree.
A node's report also re-claims every room live on it, so after Redis itself is
restarted empty every live room is placed where it runs again within one report;
so that no room is placed anew before its node re-claimed it, `place` places no
room during the first `SETTLE_MS` after `since` (it waits, as for an outage).
Every call that cannot reach Redis raises `PlacementUnavailable`; `place` first
waits and retries for up to `PLACE_WAIT_S`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from placement.nodes import (
    LIVE_FOR_S,
    REPORT_EVERY_S,
    NodeInfo,
    NodeLoad,
    NodeStatus,
    PlacementUnavailable,
)
from sessions.ids import RoomId

logger = logging.getLogger(__name__)

PREFIX = "caucus:"
#: how long `place` keeps trying while Redis is unreachable or no node is live
PLACE_WAIT_S = 4.0
#: after Redis first hears a report (a fresh or restarted Redis), every live node has
#: reported (and re-claimed its rooms) within one report period and a margin
SETTLE_MS = int(REPORT_EVERY_S * 1000) + 1000
_RETRY_S = 0.25
#: a Redis call that takes longer than this counts as an outage
CALL_TIMEOUT_S = 2.0

# ARGV: prefix, room id, settle ms. The room's node if that node is live; else the live
# node with the fewest placed rooms (dead nodes met on the way are dropped), placed now;
# 0 while Redis is settling (see SETTLE_MS), false when no node is live.
_PLACE = """
local p, room = ARGV[1], ARGV[2]
local key = p .. 'room:' .. room
local cur = redis.call('GET', key)
if cur and redis.call('EXISTS', p .. 'node:' .. cur) == 1 then return cur end
local since = redis.call('GET', p .. 'since')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if not since or now - tonumber(since) < tonumber(ARGV[3]) then return 0 end
local best, fewest = false, nil
for _, id in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
  if redis.call('EXISTS', p .. 'node:' .. id) == 1 then
    local n = redis.call('SCARD', p .. 'rooms_of:' .. id)
    if fewest == nil or n < fewest or (n == fewest and id < best) then
      best, fewest = id, n
    end
  elseif id ~= cur then
    redis.call('SREM', p .. 'nodes', id)
    redis.call('DEL', p .. 'rooms_of:' .. id)
  end
end
if not best then return false end
if cur then redis.call('SREM', p .. 'rooms_of:' .. cur, room) end
redis.call('SET', key, best)
redis.call('SADD', p .. 'rooms_of:' .. best, room)
return best
"""

# ARGV: prefix, node id, node JSON, ttl ms, room ids... Keeps the node live and
# re-claims its rooms that are unplaced or placed on a node that is not live.
# Returns the rooms placed on another live node (a conflict the caller logs).
_REPORT = """
local p, me = ARGV[1], ARGV[2]
local t = redis.call('TIME')
redis.call('SET', p .. 'since', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), 'NX')
redis.call('SET', p .. 'node:' .. me, ARGV[3], 'PX', ARGV[4])
redis.call('SADD', p .. 'nodes', me)
local taken = {}
for i = 5, #ARGV do
  local room = ARGV[i]
  local key = p .. 'room:' .. room
  local cur = redis.call('GET', key)
  if cur ~= me then
    if cur and redis.call('EXISTS', p .. 'node:' .. cur) == 1 then
      table.insert(taken, room)
    else
      if cur then redis.call('SREM', p .. 'rooms_of:' .. cur, room) end
      redis.call('SET', key, me)
      redis.call('SADD', p .. 'rooms_of:' .. me, room)
    end
  end
end
return taken
"""

# ARGV: prefix, node id, room id. Unplaces the room if it is placed on this node.
_RELEASE = """
local p, me, room = ARGV[1], ARGV[2], ARGV[3]
local key = p .. 'room:' .. room
if redis.call('GET', key) == me then
  redis.call('DEL', key)
  redis.call('SREM', p .. 'rooms_of:' .. me, room)
  return 1
end
return 0
"""


class RedisPlacement:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = PREFIX,
        place_wait_s: float = PLACE_WAIT_S,
        live_for_s: float = LIVE_FOR_S,
        settle_ms: int = SETTLE_MS,
    ) -> None:
        self._redis = aioredis.from_url(
            url,
            socket_timeout=CALL_TIMEOUT_S,
            socket_connect_timeout=CALL_TIMEOUT_S,
            decode_responses=True,
        )
        self._prefix = prefix
        self._place_wait_s = place_wait_s
        self._live_for_ms = int(live_for_s * 1000)
        self._settle_ms = settle_ms
        self._node: NodeInfo | None = None
        self._place = self._redis.register_script(_PLACE)
        self._report = self._redis.register_script(_REPORT)
        self._release = self._redis.register_script(_RELEASE)

    @property
    def here(self) -> NodeInfo:
        if self._node is None:
            raise RuntimeError("register this node first")
        return self._node

    async def register(self, node: NodeInfo) -> None:
        self._node = node
        await self.report(NodeLoad())

    async def report(self, load: NodeLoad) -> None:
        node = self.here
        record = json.dumps({"origin": node.origin, "rooms": len(load.rooms), "seats": load.seats})
        taken = await self._call(
            self._report(
                args=[
                    self._prefix,
                    node.id,
                    record,
                    self._live_for_ms,
                    *sorted(load.rooms),
                ]
            )
        )
        for room in taken:
            logger.warning("room %s is live here but placed on another live node", room)

    async def live_nodes(self) -> list[NodeStatus]:
        ids = sorted(await self._call(self._redis.smembers(self._prefix + "nodes")))
        if not ids:
            return []
        records = await self._call(self._redis.mget([self._prefix + f"node:{i}" for i in ids]))
        counts = [await self._call(self._redis.scard(self._prefix + f"rooms_of:{i}")) for i in ids]
        live = []
        for node_id, record, count in zip(ids, records, counts, strict=True):
            if record is not None:
                fields = json.loads(record)
                node = NodeInfo(node_id, str(fields["origin"]))
                live.append(NodeStatus(node, count, int(fields["seats"])))
        return live

    async def place(self, room_id: RoomId) -> NodeInfo:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._place_wait_s
        while True:
            try:
                args: list[str | int] = [self._prefix, room_id, self._settle_ms]
                node_id = await self._call(self._place(args=args))
                if node_id:
                    node = await self._node_info(str(node_id))
                    if node is not None:
                        return node
                why = "the nodes are reporting again" if node_id == 0 else "no node is live"
            except PlacementUnavailable as exc:
                why = exc.message
            if loop.time() >= deadline:
                raise PlacementUnavailable(f"no node can take this simulation now ({why})")
            await asyncio.sleep(_RETRY_S)  # Redis is away or no node reported: wait, retry

    async def node_of(self, room_id: RoomId) -> NodeInfo | None:
        node_id = await self._call(self._redis.get(self._prefix + f"room:{room_id}"))
        return None if node_id is None else await self._node_info(str(node_id))

    async def release(self, room_id: RoomId) -> None:
        await self._call(self._release(args=[self._prefix, self.here.id, room_id]))

    async def close(self) -> None:
        """Leave at once (rooms here may be placed elsewhere now), then disconnect."""
        if self._node is not None:
            try:
                await self._call(self._redis.delete(self._prefix + f"node:{self._node.id}"))
            except PlacementUnavailable:
                pass  # the key expires by itself
        await self._redis.aclose()

    async def _node_info(self, node_id: str) -> NodeInfo | None:
        record = await self._call(self._redis.get(self._prefix + f"node:{node_id}"))
        if record is None:
            return None
        return NodeInfo(node_id, str(json.loads(record)["origin"]))

    async def _call(self, pending: Any) -> Any:
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S * 2):
                return await pending
        except (RedisError, OSError, TimeoutError) as exc:
            raise PlacementUnavailable(f"placement is unreachable: {type(exc).__name__}") from None
