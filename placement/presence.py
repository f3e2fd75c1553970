"""A node's presence: register, then report its load every `REPORT_EVERY_S`.

An outage of the placement (Redis away) is logged once when it starts and once
when it ends; the rooms on the node go on meanwhile (they never ask the placement
while they are live), and the next report after it returns makes the node live
again and re-claims its rooms.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from placement.nodes import REPORT_EVERY_S, NodeInfo, NodeLoad, Placement, PlacementUnavailable

logger = logging.getLogger(__name__)


class Presence:
    def __init__(
        self,
        placement: Placement,
        node: NodeInfo,
        load: Callable[[], NodeLoad],
        every_s: float = REPORT_EVERY_S,
    ) -> None:
        self._placement = placement
        self._node = node
        self._load = load
        self._every_s = every_s
        self._task: asyncio.Task[None] | None = None
        #: the placement could not be reached at the latest report
        self.unreachable = False

    async def start(self) -> None:
        """Register (an unreachable placement is retried by the reports) and report on."""
        try:
            await self._placement.register(self._node)
        except PlacementUnavailable as exc:
            self._lost(exc)
        self._task = asyncio.get_running_loop().create_task(self._reports())

    async def _reports(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)  # the report period itself
            try:
                await self._placement.report(self._load())
            except PlacementUnavailable as exc:
                self._lost(exc)
            else:
                if self.unreachable:
                    self.unreachable = False
                    logger.warning("placement reachable again: node %s is live", self._node.id)

    def _lost(self, exc: PlacementUnavailable) -> None:
        if not self.unreachable:
            self.unreachable = True
            logger.warning(
                "placement unreachable (%s); rooms here go on, new rooms wait", exc.message
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self._placement.close()
