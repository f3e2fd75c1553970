"""Synthetic participants for the media tests, and a room of them around an Sfu.

A :class:`ClientParticipant` is an aiortc peer connection playing a browser:
it answers the SFU's offers, trickles its ICE candidates separately, publishes
its seat's tone and picture (:mod:`tests.media.synthetic`) encoded with aiortc's
own Opus and VP8 *encoders* – client side only, honouring keyframe requests –
and *decodes* everything it receives (aiortc's decoders) to tell which seat it
came from.  Receiving uses the same NACK/frame-release logic as the SFU, as a
browser's would; encoding and decoding run on the event loop (no threads), which
keeps a whole room in one process within one core.

Every encoded frame a publisher sends is logged (hash of its bytes, seat, kind,
time) in a shared :class:`SentLog`; every encoded frame a subscriber's receiver
releases to its decoder is logged with its arrival time.  Because the SFU
forwards the bytes untouched, the hash identifies the very frame that was sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

import av
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.codecs.opus import OpusDecoder
from aiortc.codecs.vpx import Vp8Decoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcconfiguration import RTCBundlePolicy

from media import aiortc_internals
from media.assembler import AssembledFrame
from media.packetizer import packer_for
from media.receiving import forward_receiver
from media.sfu import Sfu, SfuConfig
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from tests.forward_sender import forward_sender
from tests.impairment import Impairment, LinkProfile, impair
from tests.media.client_packing import RedPack, pack_encoded
from tests.media.simulcast_publisher import SimulcastVideo, answer_simulcast
from tests.media.synthetic import (
    COLOUR,
    FPS,
    ROOM,
    SEATS,
    SPEED,
    TONE_HZ,
    Arrival,
    ColourSource,
    EncodedTrack,
    Predicate,
    SentLog,
    ToneSource,
    identify_audio,
    identify_video,
)
from tests.red_sdp import without_red

# -- the participant ---------------------------------------------------------------


class MediaSignal(Protocol):
    """The server side a client negotiates with: the Sfu in-process, or a socket to one."""

    async def answer(
        self, room_id: RoomId, seat: SeatId, description: dict[str, Any]
    ) -> object: ...

    async def add_ice_candidate(
        self, room_id: RoomId, seat: SeatId, candidate: dict[str, Any] | None
    ) -> object: ...


class ClientParticipant:
    def __init__(
        self,
        seat: SeatId,
        sfu: MediaSignal,
        sent: SentLog,
        *,
        room: RoomId = ROOM,
        link: tuple[LinkProfile, LinkProfile] | None = None,
        seed: int = 0,
        publish: bool = True,
        decode: bool = True,
        fps: int = FPS,
        red: bool = False,
        audio_bps: int | None = None,
        simulcast: bool = False,
    ) -> None:
        """``red``: answer RED as a browser does (send and receive it); otherwise
        play a stock aiortc client, which knows no RED (tests/red_sdp.py).
        ``audio_bps``: its Opus bitrate (None: aiortc's 96 kbit/s). ``simulcast``:
        publish video as three layers (tests/media/simulcast_publisher.py)."""
        self.seat = seat
        self.room = room
        self.sfu = sfu
        self.sent = sent
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.tracks: dict[str, tuple[SeatId, MediaKind]] = {}
        self.arrivals: dict[str, list[Arrival]] = defaultdict(list)
        self.decoded: dict[str, list[tuple[float, SeatId | None]]] = defaultdict(list)
        self.remb_seen: list[int] = []
        #: the server's `media_video` payloads to this seat (paused videos, layers)
        self.video_events: list[dict[str, Any]] = []
        self.video_event = asyncio.Event()
        self.controls: dict[str, aiortc_internals.ReceiverControl] = {}
        self.impairment: Impairment | None = None
        self._link = link
        self._seed = seed
        self._publish = publish
        self._decode = decode
        self.red = red
        self.sources = {
            MediaKind.AUDIO: EncodedTrack(
                MediaKind.AUDIO,
                ToneSource(TONE_HZ.get(seat, 1100), seed),
                lambda data: sent.add(seat, MediaKind.AUDIO, data),
                audio_bps,
            ),
            MediaKind.VIDEO: EncodedTrack(
                MediaKind.VIDEO,
                ColourSource(COLOUR.get(seat, (128, 128, 128)), SPEED.get(seat, 2), fps),
                lambda data: sent.add(seat, MediaKind.VIDEO, data),
            ),
        }
        self.simulcast = SimulcastVideo(seat, sent, fps) if simulcast else None
        self._prepared: set[str] = set()
        self._decoders: dict[str, OpusDecoder | Vp8Decoder] = {}
        self.decode_errors = 0
        self._offers = asyncio.Lock()
        self._answered_once = False
        self._closing = False
        self.connected = asyncio.Event()
        self.pc.on("connectionstatechange", self._on_state)

    def _on_state(self) -> None:
        if self.pc.connectionState == "connected":
            self.connected.set()

    async def join(self) -> None:
        """Ask the in-process Sfu for an offer (over a socket, joining the seat does that)."""
        if not isinstance(self.sfu, Sfu):
            raise TypeError("join() needs the Sfu itself")
        offer = await self.sfu.join(self.room, self.seat)
        await self.on_offer(offer)

    async def on_offer(self, payload: dict[str, Any]) -> None:
        async with self._offers:
            if self.pc.signalingState != "closed":
                await self._answer(payload)

    async def _answer(self, payload: dict[str, Any]) -> None:
        sdp = payload["sdp"] if self.red else without_red(payload["sdp"])
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        for mid, info in payload["tracks"].items():
            self.tracks[mid] = (SeatId(info["seat"]), MediaKind(info["kind"]))
        for transceiver in self.pc.getTransceivers():
            self._prepare(transceiver, payload)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        if self._link is not None and self.impairment is None:
            up, down = self._link
            self.impairment = impair(self.pc, outbound=up, inbound=down, seed=self._seed)
        sdp = self.pc.localDescription.sdp
        if self.simulcast is not None:
            sdp = answer_simulcast(sdp, payload["publish"]["video"])
        lines = sdp.splitlines()
        candidates = [line[2:] for line in lines if line.startswith("a=candidate:")]
        stripped = [
            line
            for line in lines
            if not line.startswith("a=candidate:") and line != "a=end-of-candidates"
        ]
        await self.sfu.answer(
            self.room, self.seat, {"type": "answer", "sdp": "\r\n".join(stripped) + "\r\n"}
        )
        if not self._answered_once:
            self._answered_once = True
            # trickle, as a browser would
            for candidate in dict.fromkeys(candidates):
                await self.sfu.add_ice_candidate(
                    self.room, self.seat, {"candidate": candidate, "sdpMid": "0"}
                )
            await self.sfu.add_ice_candidate(self.room, self.seat, {"candidate": ""})

    def _prepare(self, transceiver: RTCRtpTransceiver, payload: dict[str, Any]) -> None:
        mid = transceiver.mid
        if mid is None or mid in self._prepared:
            return
        self._prepared.add(mid)
        publish = payload["publish"]
        if mid in self.tracks:
            # received media: the same recovery as the SFU's receivers (re-NACK,
            # prompt frame release, keyframe wait), decoded here on the event loop
            _, kind = self.tracks[mid]
            self._decoders[mid] = OpusDecoder() if kind is MediaKind.AUDIO else Vp8Decoder()
            self.controls[mid] = forward_receiver(
                transceiver.receiver,
                kind.value,
                on_frame=functools.partial(self._on_frame, mid),
                on_end=lambda: None,
            )
        elif self._publish and mid in (publish["audio"], publish["video"]):
            kind = MediaKind.AUDIO if mid == publish["audio"] else MediaKind.VIDEO
            transceiver.direction = "sendonly"
            if kind is MediaKind.VIDEO and self.simulcast is not None:
                self.simulcast.publish(transceiver.sender, self.remb_seen.append)
                return
            track = self.sources[kind]
            transceiver.sender.replaceTrack(track)
            packer = packer_for(track._codec)
            red_audio = self.red and kind is MediaKind.AUDIO
            forward_sender(
                transceiver.sender,
                pack=RedPack() if red_audio else functools.partial(pack_encoded, packer),
                on_keyframe_request=track.request_keyframe,
                on_remb=self.remb_seen.append,
            )

    def _on_frame(self, mid: str, frame: AssembledFrame, clock_rate: int = 0) -> None:
        if self._closing:
            # aiortc stops receivers one by one while the transport still delivers:
            # a stopped receiver's SSRC then falls through to whichever receiver of
            # that payload type is left (RtpRouter.route_rtp), so nothing is logged
            return
        key = hash(frame.data)
        now = time.monotonic()
        origin = self.sent.origin(key, now)
        self.arrivals[mid].append(
            Arrival(
                time=now,
                key=key,
                publisher=origin[0] if origin else None,
                kind=origin[1] if origin else None,
                sent=origin[2] if origin else None,
                size=len(frame.data),
            )
        )
        if self._decode:
            self._decode_frame(mid, frame, now)
        self._notify()

    def _decode_frame(self, mid: str, frame: AssembledFrame, now: float) -> None:
        decoder = self._decoders[mid]
        try:
            decoded = decoder.decode(JitterFrame(frame.data, frame.timestamp))
        except av.FFmpegError:
            self.decode_errors += 1
            return
        for picture in decoded:
            if isinstance(picture, av.VideoFrame):
                self.decoded[mid].append((now, identify_video(picture)))
            elif isinstance(picture, av.AudioFrame) and len(self.arrivals[mid]) % 5 == 0:
                # one audio frame in five is plenty to identify the tone
                self.decoded[mid].append((now, identify_audio(picture)))

    def _notify(self) -> None:
        self.sent.changed.set()

    async def wait_until(self, predicate: Predicate, timeout: float) -> None:
        await self.sent.wait_until(predicate, timeout)

    def mid_of(self, publisher: SeatId, kind: MediaKind) -> str | None:
        for mid, (seat, k) in self.tracks.items():
            if seat == publisher and k is kind:
                return mid
        return None

    def received_from(self, since: float = 0.0) -> set[tuple[SeatId, MediaKind]]:
        """(publisher, kind) of frames that arrived after ``since``, by sent-log origin."""
        return {
            (a.publisher, a.kind)
            for arrivals in self.arrivals.values()
            for a in arrivals
            if a.time >= since and a.publisher is not None and a.kind is not None
        }

    async def close(self) -> None:
        self._closing = True
        if self.impairment is not None:
            self.impairment.close()
        if self.simulcast is not None:
            await self.simulcast.close()
        await self.pc.close()


# -- a room of them -------------------------------------------------------------------


class MediaRoom:
    """An Sfu on loopback plus one ClientParticipant per seat, wired together."""

    def __init__(self, sfu_config: SfuConfig | None = None) -> None:
        self.sent = SentLog()
        self.clients: dict[SeatId, ClientParticipant] = {}
        self._signals: set[asyncio.Task[None]] = set()
        self.sfu = Sfu(
            self._send_to_client,
            config=sfu_config or SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=10),
        )

    async def _send_to_client(
        self, room: RoomId, seat: SeatId, event: str, payload: dict[str, Any]
    ) -> None:
        assert event in ("media_offer", "media_video"), event
        client = self.clients.get(seat)
        if client is not None and event == "media_video":
            client.video_events.append(payload)
            client.video_event.set()
        elif client is not None:
            task = asyncio.ensure_future(client.on_offer(payload))
            self._signals.add(task)
            task.add_done_callback(self._signals.discard)

    async def add(
        self,
        seat: SeatId,
        *,
        link: tuple[LinkProfile, LinkProfile] | None = None,
        seed: int = 0,
        decode: bool = True,
        fps: int = FPS,
        red: bool = False,
        audio_bps: int | None = None,
        simulcast: bool = False,
    ) -> ClientParticipant:
        client = ClientParticipant(
            seat,
            self.sfu,
            self.sent,
            link=link,
            seed=seed,
            decode=decode,
            fps=fps,
            red=red,
            audio_bps=audio_bps,
            simulcast=simulcast,
        )
        self.clients[seat] = client
        await client.join()
        return client

    async def wait_until(self, predicate: Predicate, timeout: float) -> None:
        await self.sent.wait_until(predicate, timeout)

    async def wait_connected(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            for client in self.clients.values():
                await client.connected.wait()

    async def close(self) -> None:
        for client in self.clients.values():
            await client.close()
        await self.sfu.close()
        while self._signals:
            await asyncio.gather(*self._signals, return_exceptions=True)


@contextlib.asynccontextmanager
async def media_room(
    seats: Iterable[SeatId] = SEATS,
    *,
    link: tuple[LinkProfile, LinkProfile] | None = None,
    sfu_config: SfuConfig | None = None,
    decode: bool = True,
    fps: int = FPS,
) -> AsyncIterator[MediaRoom]:
    room = MediaRoom(sfu_config)
    try:
        for index, seat in enumerate(seats):
            await room.add(seat, link=link, seed=index + 1, decode=decode, fps=fps)
        yield room
    finally:
        await room.close()
