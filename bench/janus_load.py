"""The Janus half of the side-by-side bench: the same participants against Janus VideoRoom.

    ip netns exec NS python bench/janus_load.py --rooms 5 --seconds 30 --address 10.76.0.1

Run by ``bench/janus_side_by_side.py`` inside a network namespace whose only
non-loopback interface holds ``--address``: Janus 1.1.2 skips loopback
interfaces when it gathers candidates (``src/ice.c``: "Skip loopback
interfaces", no setting changes it), so it needs an address of its own, and
the namespace keeps that address off the machine's real network.

This process configures and starts Janus (its own config directory, only the
VideoRoom plugin and the HTTP transport on 127.0.0.1), creates R rooms over
the HTTP API and puts 4 participants in each, with the media and counting of
``bench/forwarding_load.py``: each publishes Opus + VP8 (the aiortc client
offers), then subscribes to the other three with one subscriber handle and a
stream per feed (Janus 1.x multistream).  It prints one ``RESULT {json}`` line
with the same figures as ``bench/forwarding.py`` (Janus's CPU and RSS from
/proc: all its threads).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription, sdp
from aiortc.rtcconfiguration import RTCBundlePolicy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.forwarding_load import (  # noqa: E402
    ReplayTrack,
    Tally,
    _pack,
    cached,
    encode_audio,
    encode_video,
    sink_media,
)
from bench.janus_server import JanusApi, write_config  # noqa: E402
from bench.process_figures import cpu_seconds, rss_bytes  # noqa: E402
from caucus import event_loop  # noqa: E402
from media import aiortc_internals  # noqa: E402
from media.packetizer import packer_for  # noqa: E402
from sessions.media_kinds import MediaKind  # noqa: E402
from tests.forward_sender import forward_sender  # noqa: E402


def new_pc() -> RTCPeerConnection:
    return RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )


class JanusParticipant:
    """A seat: one publishing peer connection, one subscribing (all other feeds)."""

    def __init__(self, room: int, feed: int, video: list[bytes], audio: list[bytes]) -> None:
        self.room, self.feed = room, feed
        self.tracks = {
            MediaKind.AUDIO: ReplayTrack(MediaKind.AUDIO, audio),
            MediaKind.VIDEO: ReplayTrack(MediaKind.VIDEO, video),
        }
        self.publisher, self.subscriber = new_pc(), new_pc()
        self.tally = Tally()
        self.connected = asyncio.Event()
        self.published = asyncio.Event()
        self.subscriber.on("connectionstatechange", self._on_state)
        self.publisher.on("connectionstatechange", self._on_publisher_state)

    def _on_publisher_state(self) -> None:
        if self.publisher.connectionState == "connected":
            self.published.set()

    def _on_state(self) -> None:
        if self.subscriber.connectionState == "connected":
            self.connected.set()

    async def publish(self, api: JanusApi) -> None:
        handle = await api.attach()
        await api.message(
            handle, {"request": "join", "ptype": "publisher", "room": self.room, "id": self.feed}
        )
        for kind, track in self.tracks.items():
            transceiver = self.publisher.addTransceiver(track, direction="sendonly")
            packer = packer_for("audio/opus" if kind is MediaKind.AUDIO else "video/vp8")
            forward_sender(
                transceiver.sender,
                pack=functools.partial(_pack, packer),
                on_keyframe_request=track.restart_at_keyframe,
                on_remb=lambda bitrate: None,
            )
        await self.publisher.setLocalDescription(await self.publisher.createOffer())
        offer = self.publisher.localDescription
        event = await api.message(
            handle,
            {"request": "publish", "audio": True, "video": True},
            {"type": "offer", "sdp": offer.sdp},
        )
        await api.no_more_candidates(handle)
        await self.publisher.setRemoteDescription(
            RTCSessionDescription(event["jsep"]["sdp"], event["jsep"]["type"])
        )
        await asyncio.wait_for(self.published.wait(), 30)  # a feed is subscribable once up

    async def subscribe(self, api: JanusApi, feeds: list[int]) -> None:
        handle = await api.attach()
        event = await api.message(
            handle,
            {
                "request": "join",
                "ptype": "subscriber",
                "room": self.room,
                "streams": [{"feed": feed} for feed in feeds],
            },
        )
        mids = {
            s["mid"]: (str(s["feed_id"]), s["type"]) for s in event["plugindata"]["data"]["streams"]
        }
        offer = event["jsep"]["sdp"]
        ssrcs = {
            media.ssrc[0].ssrc: mids[media.rtp.muxId]
            for media in sdp.SessionDescription.parse(offer).media
            if media.ssrc and media.rtp.muxId in mids
        }
        await self.subscriber.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await self.subscriber.setLocalDescription(await self.subscriber.createAnswer())
        sink_media(self.subscriber, ssrcs, self.tally)
        answer = self.subscriber.localDescription
        await api.message(handle, {"request": "start"}, {"type": "answer", "sdp": answer.sdp})
        await api.no_more_candidates(handle)

    async def close(self) -> None:
        await self.publisher.close()
        await self.subscriber.close()


async def run(
    rooms: int, seconds: float, warmup: float, address: str, client_address: str, netns: str
) -> dict[str, Any]:
    aiortc_internals.install()
    video, audio = cached("vp8", encode_video), cached("opus", encode_audio)
    directory = Path(tempfile.mkdtemp(prefix="caucus-bench-janus-"))
    janus = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            netns,
            "janus",
            "-C",
            str(write_config(directory, address)),
            "-F",
            str(directory),
        ],
        stdout=(directory / "janus.log").open("w"),
        stderr=subprocess.STDOUT,
        # Janus 1.1.2 sometimes crashes on its way out after SIGTERM; its core (~400 MB)
        # would land in the working directory
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (0, 0)),
    )
    participants: list[JanusParticipant] = []
    try:
        async with aiohttp.ClientSession() as http:
            api = JanusApi(http, address)
            for _ in range(100):  # Janus takes a moment to open its HTTP port
                try:
                    await api.start()
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"Janus did not start; see {directory / 'janus.log'}")
            poller = asyncio.ensure_future(api.poll())
            admin = await api.attach()
            rss_start = rss_bytes(janus.pid)
            for r in range(rooms):
                room = 1000 + r
                await api.request(
                    admin,
                    {
                        "request": "create",
                        "room": room,
                        "publishers": 6,
                        "videocodec": "vp8",
                        "audiocodec": "opus",
                        "bitrate": 0,
                    },
                )
                seats = [JanusParticipant(room, room * 10 + n, video, audio) for n in range(4)]
                await asyncio.gather(*(s.publish(api) for s in seats))
                await asyncio.gather(
                    *(s.subscribe(api, [o.feed for o in seats if o is not s]) for s in seats)
                )
                participants += seats
            await asyncio.wait_for(
                asyncio.gather(*(p.connected.wait() for p in participants)), 60 + 5 * rooms
            )
            print(
                f"{len(participants)} participants connected to Janus; warming up {warmup:.0f} s",
                flush=True,
            )
            await asyncio.sleep(warmup)
            sent_before = {id(t): t.sent for p in participants for t in p.tracks.values()}
            for p in participants:
                p.tally.counting = True
            cpu_mark, t0 = cpu_seconds(janus.pid), time.monotonic()
            await asyncio.sleep(seconds)
            for p in participants:
                for track in p.tracks.values():
                    track.paused.set()
            cpu = cpu_seconds(janus.pid) - cpu_mark
            elapsed = time.monotonic() - t0
            packets_received = sum(p.tally.packets for p in participants)
            rss = rss_bytes(janus.pid)
            sent = sum(t.sent - sent_before[id(t)] for p in participants for t in p.tracks.values())
            await asyncio.sleep(1.0)  # frames in flight when the publishers stopped
            for p in participants:
                p.tally.counting = False
            received = sum(sum(p.tally.frames.values()) for p in participants)
            poller.cancel()
    finally:
        for p in participants:
            await p.close()
        janus.terminate()
        janus.wait(timeout=10)
    shutil.rmtree(directory, ignore_errors=True)  # kept (with janus.log) when the run failed
    return {
        "server": "janus",
        "rooms": rooms,
        "participants": len(participants),
        "seconds": elapsed,
        "cpu": cpu,
        "packets_received": packets_received,
        "frames_sent": sent,
        "frames_received": received,
        "delivery": received / (sent * 3) if sent else 0.0,
        "rss_start": rss_start,
        "rss": rss,
        "delay_p99_ms": None,
        "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rooms", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--address", required=True, help="Janus's address (not loopback)")
    parser.add_argument("--client-address", required=True, help="the participants' address")
    parser.add_argument("--janus-netns", required=True, help="the namespace Janus runs in")
    args = parser.parse_args()
    # the participants gather on their own address only
    with aiortc_internals.gather_policy(
        aiortc_internals.GatherPolicy(host_addresses=(args.client_address,))
    ):
        # the same loop as the Caucus runs' load generator (bench/forwarding.py)
        result = event_loop.run(
            run(
                args.rooms,
                args.seconds,
                args.warmup,
                args.address,
                args.client_address,
                args.janus_netns,
            )
        )
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
