"""The load side of the forwarding benchmark: pre-encoded media, the synthetic
participants that publish it and count what they receive, and their end of
the control channel to the SFU process.  Driven by ``bench/forwarding.py``.
"""

from __future__ import annotations

import asyncio
import fractions
import functools
import json
import pickle
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, sdp
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcconfiguration import RTCBundlePolicy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media import aiortc_internals  # noqa: E402
from media.packetizer import Packer, packer_for  # noqa: E402
from sessions.ids import RoomId, SeatId  # noqa: E402
from sessions.media_kinds import MediaKind  # noqa: E402
from tests.forward_sender import forward_sender  # noqa: E402
from tests.red_sdp import without_red  # noqa: E402

VIDEO_FPS, VIDEO_BITRATE, WIDTH, HEIGHT = 30, 500_000, 640, 360
LOOP_SECONDS = 3


# -- pre-encoded media (load generator side) ---------------------------------------


def encode_video() -> list[bytes]:
    """A 3 s VP8 loop at ~500 kbit/s (aiortc's own encoder settings): a drifting
    gradient with a moving textured block; only the first frame is a keyframe."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    codec.bit_rate = VIDEO_BITRATE
    codec.time_base = fractions.Fraction(1, VIDEO_FPS)
    codec.framerate = fractions.Fraction(VIDEO_FPS, 1)
    codec.gop_size = 100_000
    codec.qmin, codec.qmax = 2, 56
    codec.options = {
        "bufsize": str(VIDEO_BITRATE),
        "cpu-used": "8",
        "deadline": "realtime",
        "lag-in-frames": "0",
        "minrate": str(VIDEO_BITRATE),
        "maxrate": str(VIDEO_BITRATE),
        "noise-sensitivity": "4",
        "overshoot-pct": "15",
        "partitions": "0",
        "static-thresh": "1",
        "undershoot-pct": "100",
    }
    noise = random.Random(7).randbytes(WIDTH * HEIGHT)
    chroma = bytes([128]) * (WIDTH * HEIGHT // 4)
    frames = []
    for n in range(LOOP_SECONDS * VIDEO_FPS):
        luma = bytearray(bytes((x + 2 * n) % 256 for x in range(WIDTH)) * HEIGHT)
        left = (n * 8) % (WIDTH - 80)
        for y in range(140, 220):
            start = (y * WIDTH + n * 37) % (WIDTH * HEIGHT - 80)
            luma[y * WIDTH + left : y * WIDTH + left + 80] = noise[start : start + 80]
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        frame.planes[0].update(bytes(luma))
        frame.planes[1].update(chroma)
        frame.planes[2].update(chroma)
        frame.pts = n
        frames += [bytes(p) for p in codec.encode(frame)]
    frames += [bytes(p) for p in codec.encode(None)]
    return frames


def cached(name: str, make: Callable[[], list[bytes]]) -> list[bytes]:
    """Pre-encoded loops are kept in the temp dir: encoding takes seconds."""
    path = Path(tempfile.gettempdir()) / f"caucus-bench-{name}-v1.pickle"
    if path.exists():
        frames: list[bytes] = pickle.loads(path.read_bytes())
        return frames
    frames = make()
    path.write_bytes(pickle.dumps(frames))
    return frames


def encode_audio() -> list[bytes]:
    import math

    codec = av.CodecContext.create("libopus", "w")
    codec.sample_rate, codec.format, codec.layout = 48000, "s16", "mono"
    codec.bit_rate = 32_000
    codec.time_base = fractions.Fraction(1, 48000)
    out = []
    for n in range(LOOP_SECONDS * 50):
        samples = b"".join(
            int(6000 * math.sin(2 * math.pi * 440 * (n * 960 + i) / 48000)).to_bytes(
                2, "little", signed=True
            )
            for i in range(960)
        )
        frame = av.AudioFrame(format="s16", layout="mono", samples=960)
        frame.planes[0].update(samples)
        frame.sample_rate, frame.pts = 48000, n * 960
        frame.time_base = fractions.Fraction(1, 48000)
        out += [bytes(p) for p in codec.encode(frame)]
    return out


class ReplayTrack(MediaStreamTrack):
    """Replays pre-encoded frames in real time as ``av.Packet``s."""

    def __init__(self, kind: MediaKind, frames: list[bytes]) -> None:
        super().__init__()
        self.kind = kind.value
        self._frames = frames
        self._interval = 0.02 if kind is MediaKind.AUDIO else 1 / VIDEO_FPS
        self._step = 960 if kind is MediaKind.AUDIO else 90000 // VIDEO_FPS
        self._time_base = fractions.Fraction(1, 48000 if kind is MediaKind.AUDIO else 90000)
        self._start: float | None = None
        self._count = 0
        self._index = 0
        self.sent = 0
        self.paused = asyncio.Event()

    def restart_at_keyframe(self) -> None:
        self._index = 0

    async def recv(self) -> av.Packet[Any]:
        if self.paused.is_set():
            await asyncio.Future()  # sends nothing more until the sender stops
        now = time.monotonic()
        if self._start is None:
            self._start = now
        due = self._start + self._count * self._interval
        if due > now:
            await asyncio.sleep(due - now)  # pacing
        packet = av.Packet(self._frames[self._index])
        packet.pts = self._count * self._step
        packet.time_base = self._time_base
        self._index = (self._index + 1) % len(self._frames)
        self._count += 1
        self.sent += 1
        return packet


class LoadParticipant:
    def __init__(
        self, room: RoomId, seat: SeatId, control: Control, video: list[bytes], audio: list[bytes]
    ) -> None:
        self.room, self.seat, self.control = room, seat, control
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
        )
        self.tracks = {
            MediaKind.AUDIO: ReplayTrack(MediaKind.AUDIO, audio),
            MediaKind.VIDEO: ReplayTrack(MediaKind.VIDEO, video),
        }
        self.tally = Tally()
        self.connected = asyncio.Event()
        self._prepared: set[str] = set()
        self._ssrcs: dict[int, tuple[str, str]] = {}  # media SSRC -> (seat, kind)
        self._sinking = False
        self._lock = asyncio.Lock()
        self.pc.on("connectionstatechange", self._on_state)

    def _on_state(self) -> None:
        if self.pc.connectionState == "connected":
            self.connected.set()

    async def on_offer(self, payload: dict[str, Any]) -> None:
        async with self._lock:
            await self.pc.setRemoteDescription(
                RTCSessionDescription(without_red(payload["sdp"]), "offer")
            )
            for media in sdp.SessionDescription.parse(payload["sdp"]).media:
                info = payload["tracks"].get(media.rtp.muxId)
                if info is not None and media.ssrc:
                    self._ssrcs[media.ssrc[0].ssrc] = (info["seat"], info["kind"])
            for transceiver in self.pc.getTransceivers():
                mid = transceiver.mid
                if mid is None or mid in self._prepared:
                    continue
                self._prepared.add(mid)
                if mid in payload["publish"].values():
                    kind = (
                        MediaKind.AUDIO if mid == payload["publish"]["audio"] else MediaKind.VIDEO
                    )
                    track = self.tracks[kind]
                    transceiver.sender.replaceTrack(track)
                    transceiver.direction = "sendonly"
                    packer = packer_for("audio/opus" if kind is MediaKind.AUDIO else "video/vp8")
                    forward_sender(
                        transceiver.sender,
                        pack=functools.partial(_pack, packer),
                        on_keyframe_request=track.restart_at_keyframe,
                        on_remb=lambda bitrate: None,
                    )
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            if not self._sinking:
                self._sink_media()
            description = self.pc.localDescription
            await self.control.send(
                {
                    "op": "answer",
                    "room": self.room,
                    "seat": self.seat,
                    "description": {"type": "answer", "sdp": description.sdp},
                }
            )

    def _sink_media(self) -> None:
        self._sinking = True
        sink_media(self.pc, self._ssrcs, self.tally)


class Tally:
    """What one participant received: frames per (seat, kind) and RTP packets."""

    def __init__(self) -> None:
        self.frames: dict[tuple[str, str], int] = defaultdict(int)
        self.packets = 0
        self.counting = False


def sink_media(pc: RTCPeerConnection, ssrcs: dict[int, tuple[str, str]], tally: Tally) -> None:
    """Count received frames and packets from the clear RTP header and drop the packets.

    Decrypting and parsing every forwarded packet in Python would make this
    process, not the server, the bottleneck.  The SSRC says whose track it is
    (``ssrcs``: media SSRC -> (seat, kind), filled from the offers), the marker
    bit ends a video frame, every Opus packet is a frame; RTX (other SSRCs) is
    not counted.  STUN, DTLS and RTCP go through.
    """
    for protocol in aiortc_internals.ice_datagram_protocols(pc):
        received = protocol.datagram_received

        def datagram_received(
            data: bytes, addr: Any, received: Callable[[bytes, Any], None] = received
        ) -> None:
            if len(data) >= 12 and 128 <= data[0] < 192 and not 192 <= data[1] <= 223:
                key = ssrcs.get(int.from_bytes(data[8:12], "big"))
                if key is not None and tally.counting:
                    tally.packets += 1
                    if key[1] == "audio" or data[1] & 0x80:
                        tally.frames[key] += 1
                return
            received(data, addr)

        protocol.datagram_received = datagram_received  # type: ignore[method-assign]


def _pack(packer: Packer, packet: av.Packet[Any]) -> tuple[list[bytes], int, int | None]:
    return packer.pack(bytes(packet)), int(packet.pts or 0), None


# -- control channel ------------------------------------------------------------------


class Control:
    """JSON lines over a loopback TCP connection to the SFU process."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.participants: dict[tuple[str, str], LoadParticipant] = {}
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()

    async def send(self, message: dict[str, Any]) -> None:
        self.writer.write(json.dumps(message).encode() + b"\n")
        await self.writer.drain()

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        await self.send(message)
        return await asyncio.wait_for(self.replies.get(), 60)

    async def run(self) -> None:
        while line := await self.reader.readline():
            message = json.loads(line)
            if message["op"] == "offer":
                participant = self.participants[(message["room"], message["seat"])]
                task = asyncio.ensure_future(participant.on_offer(message["payload"]))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                await self.replies.put(message)
