"""The Sfu calls a media_harness ClientParticipant makes, sent over its Socket.IO seat."""

from __future__ import annotations

from typing import Any

from tests.live_server import Participant


class SocketSignal:
    """What ClientParticipant calls on an Sfu, sent over the participant's socket instead."""

    def __init__(self, participant: Participant) -> None:
        self.participant = participant

    async def answer(self, room: str, seat: str, description: dict[str, Any]) -> None:
        reply = await self.participant.call("media_answer", description)
        assert reply["ok"], reply

    async def add_ice_candidate(
        self, room: str, seat: str, candidate: dict[str, Any] | None
    ) -> None:
        reply = await self.participant.call("media_ice", candidate or {"candidate": ""})
        assert reply["ok"], reply
