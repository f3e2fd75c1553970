"""A client of a real server for the fuzz tests: Socket.IO signalling and an aiortc answerer."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from sessions.ids import SeatId
from sessions.media_kinds import MediaKind
from tests.live_server import WAIT_S, LiveServer
from tests.media.synthetic import COLOUR, SPEED, TONE_HZ, ColourSource, EncodedTrack, ToneSource
from tests.red_sdp import without_red


class SignalledClient:
    """One seat: joins over Socket.IO, answers each media_offer with a real aiortc answer."""

    def __init__(self, server: LiveServer, room: str, seat: str) -> None:
        self.server = server
        self.room = room
        self.seat = SeatId(seat)
        self.token = server.token(room, seat)  # type: ignore[arg-type]
        self.sio = socketio.AsyncClient(reconnection=False)
        self.offers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sio.on("media_offer", self.offers.put)
        self.pc: RTCPeerConnection | None = None
        self.candidates: list[str] = []

    async def call(self, event: str, data: Any) -> dict[str, Any]:
        reply: dict[str, Any] = await self.sio.call(event, data, timeout=WAIT_S)
        return reply

    async def connect(self) -> None:
        await self.sio.connect(self.server.url, transports=["websocket"], wait_timeout=WAIT_S)

    async def join(self, *, connect: bool = False) -> str:
        """Take the seat with a fresh peer connection; the answer to the server's first offer.

        Without `connect` the answer is only created, never set locally: the
        client gathers nothing and starts no ICE, so it can be dropped at once
        (aiortc fails a never-retrieved task if a connection is closed while
        its ICE is checking, on either side).
        """
        reply = await self.call("join", {"token": self.token, "room": self.room})
        assert reply["ok"], reply
        await self._new_pc()
        return await self.next_answer(connect=connect)

    async def rejoin(self, *, connect: bool = False) -> str:
        assert (await self.call("leave", {}))["ok"]
        return await self.join(connect=connect)

    async def _new_pc(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )

    async def next_answer(self, *, connect: bool = False) -> str:
        """Answer the next offer (publishing tone and picture); the SDP without candidates."""
        offer = await asyncio.wait_for(self.offers.get(), WAIT_S)
        pc = self.pc
        assert pc is not None
        await pc.setRemoteDescription(RTCSessionDescription(without_red(offer["sdp"]), "offer"))
        publish = offer["publish"]
        for transceiver in pc.getTransceivers():
            if transceiver.mid in (publish["audio"], publish["video"]) and (
                transceiver.sender.track is None
            ):
                kind = MediaKind(transceiver.kind)
                source: ToneSource | ColourSource = (
                    ToneSource(TONE_HZ[self.seat], 1)
                    if kind is MediaKind.AUDIO
                    else ColourSource(COLOUR[self.seat], SPEED[self.seat])
                )
                transceiver.sender.replaceTrack(EncodedTrack(kind, source, lambda _: None))
                transceiver.direction = "sendonly"
        answer = await pc.createAnswer()
        if connect:
            await pc.setLocalDescription(answer)
            answer = pc.localDescription
        lines = answer.sdp.rstrip("\r\n").split("\r\n")
        self.candidates = [line[2:] for line in lines if line.startswith("a=candidate:")]
        kept = [
            line
            for line in lines
            if not line.startswith("a=candidate:") and line != "a=end-of-candidates"
        ]
        return "\r\n".join(kept) + "\r\n"

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        await self.sio.disconnect()
