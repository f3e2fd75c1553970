"""What the NAT tests share: `caucus serve` inside a namespace, Chromium inside
another, and the page's view of its selected ICE pair.

The server is a real subprocess (as tests/server_process.py, but run through
``ip netns exec`` and reached only from inside the lab).  Its log goes to
``data_dir/server.log``: the SFU logs each participant's selected pair there
(``media path ROOM/SEAT: local host A:P <-> remote prflx B:Q``), which is how a
test sees what the *server* learnt about a browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Error, Playwright

from caucus.config import Config
from sessions.ids import RoomId, SeatId
from signaling.admission import seat_token
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, VIDEO_PLAYING, SeatPage, join_link
from tests.netns import Namespace
from tests.stored import create_simulation
from tests.yielding import yielding_executable

ROOT = Path(__file__).resolve().parents[2]
HTTP_PORT = 8080
SECRET = "reach-ice-lab-secret-not-for-production-0123456789"
#: first media over a fresh path: ICE, DTLS, one renegotiation per later publisher
MEDIA_MS = 30_000
#: audio that flows: 2 s of 20 ms Opus packets
AUDIO_PACKETS = 100

#: the page's selected ICE pair (getStats), and how much it has received per kind
PATH_STATS = """
async () => {
  const pc = window.__caucusPc;
  if (!pc) return null;
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId)
      pair = stats.get(s.selectedCandidatePairId);
  });
  const side = (id) => {
    const c = id && stats.get(id);
    if (!c) return null;
    return { type: c.candidateType, address: c.address, port: c.port, protocol: c.protocol };
  };
  const received = { audio: 0, video: 0 }, sent = { audio: 0, video: 0 };
  stats.forEach((s) => {
    if (s.type === "inbound-rtp") received[s.kind] += s.packetsReceived || 0;
    if (s.type === "outbound-rtp") sent[s.kind] += s.packetsSent || 0;
  });
  return { state: pc.connectionState, local: side(pair && pair.localCandidateId),
           remote: side(pair && pair.remoteCandidateId), received, sent };
}
"""

#: true once the seat's inbound audio (by the offer's mid -> seat map) has this many
#: packets.  wait_for_function does not await a promise, so each poll starts one
#: getStats() (if none is running) and answers from the last one.
AUDIO_FROM = """
([seat, packets]) => {
  const counts = window.__audioFrom || (window.__audioFrom = {});
  const c = counts[seat] || (counts[seat] = { n: 0, busy: false });
  const pc = window.__caucusPc;
  if (pc && !c.busy) {
    c.busy = true;
    pc.getStats().then((stats) => {
      const tracks = window.__caucusTracks || {};
      let n = 0;
      stats.forEach((s) => {
        const from = tracks[s.mid] && tracks[s.mid].seat;
        if (s.type === "inbound-rtp" && s.kind === "audio" && from === seat)
          n += s.packetsReceived || 0;
      });
      c.n = n;
    }).finally(() => { c.busy = false; });
  }
  return c.n >= packets;
}
"""


class LabServer:
    """`caucus serve` on 0.0.0.0:8080 inside ``ns``, with its own data directory."""

    def __init__(self, ns: Namespace, data_dir: Path, **env: str) -> None:
        self.ns = ns
        self.data_dir = data_dir
        self.env = {"CAUCUS_SECRET": SECRET, **env}
        self.proc: subprocess.Popen[bytes] | None = None
        data_dir.mkdir(parents=True, exist_ok=True)

    async def simulation(self) -> RoomId:
        """A simulation in the server's catalogue (written before or while it runs)."""
        return await create_simulation(Config(data_dir=self.data_dir))

    def link(self, base_url: str, room: RoomId, seat: str) -> str:
        token, _ = seat_token(SECRET, room, SeatId(seat), f"Person {seat}")
        return join_link(base_url, room, token)

    async def start(self) -> None:
        command = [sys.executable, "-m", "caucus", "serve", "--workers", "1", "--host", "0.0.0.0"]
        command += ["--port", str(HTTP_PORT), "--data-dir", str(self.data_dir)]
        with open(self.data_dir / "server.log", "ab") as log:  # noqa: ASYNC230 - at start
            self.proc = self.ns.popen(
                command,
                stdout=subprocess.DEVNULL,
                stderr=log,
                env={**os.environ, **self.env},
                cwd=ROOT,
            )
        health = [*self.ns.prefix, "curl", "-sf", "-o", "/dev/null", "-m", "1"]
        health.append(f"http://127.0.0.1:{HTTP_PORT}/healthz")
        for _ in range(150):
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.log()}")
            probe = await asyncio.create_subprocess_exec(*health)
            if await probe.wait() == 0:
                return
            await asyncio.sleep(0.1)  # polling a starting process: nothing to await
        raise RuntimeError(f"server did not become healthy:\n{self.log()}")

    def log(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def media_paths(self, room: RoomId, seat: str) -> list[str]:
        """The selected pairs the server logged for a seat: 'local host A:P <-> remote T B:Q'."""
        marker = f"media path {room}/{seat}: "
        return [line.split(marker, 1)[1] for line in self.log().splitlines() if marker in line]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


async def launch_chromium(
    playwright: Playwright, ns: Namespace, lab_dir: Path, origin: str
) -> Browser:
    """Chromium whose whole network is ``ns``; plain-http ``origin`` may use the camera."""
    return await playwright.chromium.launch(
        executable_path=ns.wrap(yielding_executable(CHROMIUM), lab_dir),
        args=[*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={origin}"],
        headless=True,
    )


async def path_stats(page: SeatPage) -> dict[str, Any]:
    stats: dict[str, Any] | None = await page.page.evaluate(PATH_STATS)
    assert stats is not None, f"{page.seat} has no peer connection"
    return stats


async def expect_media_from(page: SeatPage, other: str) -> dict[str, Any]:
    """``page`` plays ``other``'s video and receives its audio; returns the page's path."""
    try:
        await page.page.wait_for_function(
            "() => window.__caucusPc && window.__caucusPc.connectionState === 'connected'",
            timeout=MEDIA_MS,
        )
        await page.page.wait_for_function(VIDEO_PLAYING, arg=[other], timeout=MEDIA_MS)
        await page.page.wait_for_function(
            AUDIO_FROM, arg=[other, AUDIO_PACKETS], polling=100, timeout=MEDIA_MS
        )
    except Error as exc:
        stats = await page.page.evaluate(PATH_STATS)
        raise AssertionError(f"{page.seat} gets no media from {other}: {stats}") from exc
    return await path_stats(page)


@contextlib.asynccontextmanager
async def stun_server(ns: Namespace, address: str, directory: Path) -> AsyncIterator[str]:
    """coturn as a plain STUN server on ``address``:3478 in ``ns``; yields its stun: URL."""
    log = directory / f"coturn-{ns.name}.log"
    command = ["turnserver", "-n", "-v", "--stun-only", "--no-cli", "--no-tls", "--no-dtls"]
    command += [f"--listening-ip={address}", "--listening-port=3478", f"--log-file={log}"]
    command += ["--simple-log", f"--pidfile={directory / f'coturn-{ns.name}.pid'}"]
    proc = ns.popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = f"UDP listener opened on: {address}:3478"
        for _ in range(100):
            if log.exists() and ready in log.read_text(errors="replace"):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"coturn exited ({proc.returncode})")
            await asyncio.sleep(0.05)  # polling a starting process's log: nothing to await
        else:
            raise RuntimeError(f"coturn did not listen on {address}:3478")
        yield f"stun:{address}:3478"
    finally:
        proc.terminate()
        proc.wait(10)


def direct(candidate: dict[str, Any] | None) -> bool:
    """A candidate of a direct path: anything but a TURN relay."""
    return candidate is not None and candidate["type"] in ("host", "srflx", "prflx")
