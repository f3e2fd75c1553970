"""Caucus and coturn deployed inside a test's server namespace, both on TLS, and the
browsers and getStats probes the reach tests drive against them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Playwright

from caucus.config import Config
from sessions.ids import RoomId, SeatId
from signaling.admission import join_link, seat_token
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, SeatPage
from tests.netns import Lab, Namespace, lab_available
from tests.reach.certs import self_signed
from tests.reach.coturn import Coturn, turn_config, turnserver_missing
from tests.stored import create_simulation_now
from tests.yielding import yielding_executable

ROOT = Path(__file__).resolve().parents[2]
HTTPS_PORT, TURN_PORT, TURNS_PORT = 8443, 3478, 5349
SECRET = "reach-test-turn-secret"
START_S = 30.0
#: first media through TURN/TLS: ICE, the relay allocation, DTLS
CONNECT_MS = 45_000
MIN_AUDIO_PACKETS, MIN_VIDEO_FRAMES = 25, 10


def lab_missing() -> str | None:
    """Why the namespace tests cannot run here (they skip with it), or None."""
    why = lab_available() or turnserver_missing()
    if why is None and not Path(CHROMIUM).exists():
        why = f"no Chromium at {CHROMIUM} (apt install chromium)"
    return why


def firewall_only_https_and_turns(server: str) -> str:
    """nft rules: out only TCP to the server's HTTPS and TURN-over-TLS ports; in only replies."""
    return f"""
table inet strict {{
  chain out {{
    type filter hook output priority 0; policy drop;
    oif "lo" accept
    ip daddr {server} tcp dport {{ {HTTPS_PORT}, {TURNS_PORT} }} accept
    counter comment "dropped"
  }}
  chain in {{
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ip saddr {server} tcp sport {{ {HTTPS_PORT}, {TURNS_PORT} }} ct state established accept
  }}
}}
"""


#: {seat: {audio packets, decoded video frames}} inbound, and the selected pair's candidate types
STATS = """
async () => {
  const pc = window.__caucusPc, tracks = window.__caucusTracks || {};
  const out = {inbound: {}, outbound: {audio: 0, video: 0}, local: null, remote: null,
               state: pc ? pc.connectionState : "none"};
  if (!pc) return out;
  const report = await pc.getStats();
  let pairId = null;
  report.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  report.forEach((s) => {
    if (s.type === "inbound-rtp" && tracks[s.mid]) {
      const seat = tracks[s.mid].seat;
      const c = out.inbound[seat] || (out.inbound[seat] = {audio: 0, video: 0});
      if (s.kind === "audio") c.audio += s.packetsReceived || 0;
      else c.video += s.framesDecoded || 0;
    }
    if (s.type === "outbound-rtp") out.outbound[s.kind] += s.packetsSent || 0;
    if (s.type === "local-candidate") out.types = (out.types || []).concat(s.candidateType);
  });
  const pair = pairId && report.get(pairId);
  if (pair) {
    out.local = report.get(pair.localCandidateId).candidateType;
    out.remote = report.get(pair.remoteCandidateId).candidateType;
  }
  return out;
}
"""

#: true once the page receives `seat`'s audio and video (polled; getStats is async)
RECEIVES = """
([seat, audio, video]) => {
  if (!window.__flow) window.__flow = {busy: false, ok: false};
  const f = window.__flow;
  if (!f.busy && !f.ok) {
    f.busy = true;
    (STATS)().then((s) => {
      const c = s.inbound[seat];
      f.ok = Boolean(c && c.audio >= audio && c.video >= video) && s.local !== null;
      f.last = s;
    }).finally(() => { f.busy = false; });
  }
  return f.ok ? f.last : false;
}
""".replace("(STATS)", f"({STATS.strip()})")


@dataclass
class Deployment:
    """caucus serve (HTTPS :8443) and coturn (TURN :3478, TURN/TLS :5349) on one address."""

    address: str
    config: Config
    room: RoomId
    coturn: Coturn

    def link(self, seat: str, ttl_s: int = 3600) -> str:
        token, _ = seat_token(
            self.config.secret, self.room, SeatId(seat), f"Person {seat}", ttl_s=ttl_s
        )
        return join_link(f"https://{self.address}:{HTTPS_PORT}", self.room, token)


def _wait_https(ns: Namespace, address: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited {proc.returncode}:\n{log.read_text()}")
        url = f"https://{address}:{HTTPS_PORT}/healthz"
        if ns.run("curl", "-skf", "-m", "2", url, check=False).returncode == 0:
            return
        time.sleep(0.1)  # polling a starting process
    raise RuntimeError(f"serve never answered over HTTPS:\n{log.read_text()}")


@contextmanager
def deploy(
    ns: Namespace, address: str, directory: Path, env: dict[str, str] | None = None
) -> Iterator[Deployment]:
    """Start both in ``ns``; the media server announces ``address`` only (``env``: more
    of the server's settings)."""
    cert, key = self_signed(directory, address)
    data = directory / "data"
    config = Config(data_dir=data).with_secrets()
    room = create_simulation_now(config, observers=0)
    coturn_text = turn_config(
        SECRET,
        *("--data-dir", str(data), "--realm", "caucus.test", "--listening-ip", address),
        *("--port", str(TURN_PORT), "--tls-port", str(TURNS_PORT)),
        *("--turn-cert", str(cert), "--turn-key", str(key), "--media-address", address),
        *("--relay-ports", "50000-50199"),
    )
    coturn = Coturn(directory, coturn_text, prefix=ns.prefix)
    log = directory / "serve.log"
    serve = ns.popen(
        [sys.executable, "-m", "caucus", "serve", "--workers", "1", "--host", "0.0.0.0"]
        + ["--port", str(HTTPS_PORT)]
        + ["--data-dir", str(data), "--tls-cert", str(cert), "--tls-key", str(key)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        cwd=ROOT,
        env={
            **os.environ,
            "CAUCUS_ICE_ADDRESSES": address,
            "CAUCUS_TURN_SECRET": SECRET,
            "CAUCUS_TURN_URLS": f"turns:{address}:{TURNS_PORT}?transport=tcp",
            "CAUCUS_PING_INTERVAL_S": "2",
            "CAUCUS_PING_TIMEOUT_S": "4",
            **(env or {}),
        },
    )
    try:
        coturn.wait_ready(
            lambda: (
                ns.run(
                    "bash", "-c", f"exec 3<>/dev/tcp/{address}/{TURNS_PORT}", check=False
                ).returncode
                == 0
            )
        )
        _wait_https(ns, address, serve, log)
        yield Deployment(address, config, room, coturn)
    finally:
        serve.terminate()
        try:
            serve.wait(10)
        except subprocess.TimeoutExpired:
            serve.kill()
            serve.wait(10)
        coturn.stop()


async def launch(playwright: Playwright, ns: Namespace, lab: Lab) -> Browser:
    """Chromium whose every packet leaves from inside ``ns`` (self-signed certificates accepted)."""
    args = [a for a in CHROMIUM_ARGS if a != "--allow-loopback-in-peer-connection"]
    return await playwright.chromium.launch(
        executable_path=ns.wrap(yielding_executable(CHROMIUM), lab.dir),
        args=[*args, "--ignore-certificate-errors"],
        headless=True,
    )


async def stats(page: SeatPage) -> dict[str, Any]:
    found: dict[str, Any] = await page.page.evaluate(STATS)
    return found


async def receives(page: SeatPage, seat: str) -> dict[str, Any]:
    """Wait until ``page`` receives ``seat``'s audio and video; its stats then."""
    handle = await page.page.wait_for_function(
        RECEIVES, arg=[seat, MIN_AUDIO_PACKETS, MIN_VIDEO_FRAMES], timeout=CONNECT_MS, polling=100
    )
    result: dict[str, Any] = await handle.json_value()
    return result


@dataclass
class Network:
    """A TLS deployment's namespaces: the server (with coturn), a trainee, another seat."""

    lab: Lab
    server: Namespace
    trainee: Namespace
    other: Namespace
