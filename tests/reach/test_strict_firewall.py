"""Strict firewall: a trainee whose only way out is TCP to HTTPS and to TURN over TLS.

Three network namespaces, built here and torn down by the Lab::

    trainee 10.71.1.2 ──── 10.71.1.1 server ──── 10.71.2.1 │ 10.71.2.2 other
    (nft: out only TCP to          (caucus serve over HTTPS :8443,
     :8443 and :5349)               coturn from `caucus turn-config`, TLS :5349)

Real Chromium in the trainee namespace joins over HTTPS and publishes and
receives audio and video with the mediator (Chromium in an unfiltered
namespace) through coturn: getStats shows the selected pair's local candidate
is `relay`.  Then a seat whose TURN credential has expired gets no media
(coturn answers 401), and coturn, asked from inside the firewall, refuses
relays toward 127.0.0.1 and the server's private range (403) while allowing the
media server's own address.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Playwright, async_playwright

from caucus.config import Config
from recordings.catalogue import Catalogue
from sessions.ids import RoomId, ScenarioId, SeatId
from signaling.admission import join_link, seat_token
from signaling.turn import credential
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS, SeatPage, open_page, take_seat
from tests.netns import Lab, Namespace, lab_available
from tests.reach.certs import self_signed
from tests.reach.coturn import Coturn, turn_config, turnserver_missing

ROOT = Path(__file__).resolve().parents[2]
SERVER, TRAINEE = "10.71.1.1", "10.71.1.2"
SERVER_SIDE_B, OTHER = "10.71.2.1", "10.71.2.2"
HTTPS_PORT, TURN_PORT, TURNS_PORT = 8443, 3478, 5349
SECRET = "strict-firewall-turn-secret"
START_S = 30.0
#: first media through TURN/TLS: ICE, the relay allocation, DTLS
CONNECT_MS = 45_000
#: how long a seat with a dead credential is watched for media that must not come
DEAD_CREDENTIAL_MS = 12_000
MIN_AUDIO_PACKETS, MIN_VIDEO_FRAMES = 25, 10

TRAINEE_FIREWALL = f"""
table inet strict {{
  chain out {{
    type filter hook output priority 0; policy drop;
    oif "lo" accept
    ip daddr {SERVER} tcp dport {{ {HTTPS_PORT}, {TURNS_PORT} }} accept
    counter comment "dropped"
  }}
  chain in {{
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ip saddr {SERVER} tcp sport {{ {HTTPS_PORT}, {TURNS_PORT} }} ct state established accept
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
class Network:
    lab: Lab
    server: Namespace
    trainee: Namespace
    other: Namespace


@pytest.fixture
def network() -> Iterator[Network]:
    why = lab_available() or turnserver_missing()
    if why:
        pytest.skip(why)
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium)")
    with Lab("ttfw") as lab:
        server, trainee, other = lab.namespace("srv"), lab.namespace("trn"), lab.namespace("oth")
        lab.link(server, f"{SERVER}/24", trainee, f"{TRAINEE}/24")
        lab.link(server, f"{SERVER_SIDE_B}/24", other, f"{OTHER}/24")
        other.route("default", "via", SERVER_SIDE_B)
        trainee.nft(TRAINEE_FIREWALL)
        yield Network(lab, server, trainee, other)


@dataclass
class Deployment:
    """caucus serve + coturn inside the server namespace, both on TLS."""

    config: Config
    room: RoomId
    coturn: Coturn
    serve: subprocess.Popen[bytes]
    log: Path

    def link(self, seat: str, ttl_s: int = 3600) -> str:
        token, _ = seat_token(
            self.config.secret, self.room, SeatId(seat), f"Person {seat}", ttl_s=ttl_s
        )
        return join_link(f"https://{SERVER}:{HTTPS_PORT}", self.room, token)


def _wait_https(ns: Namespace, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited {proc.returncode}:\n{log.read_text()}")
        probe = ns.run(
            "curl", "-skf", "-m", "2", f"https://{SERVER}:{HTTPS_PORT}/healthz", check=False
        )
        if probe.returncode == 0:
            return
        time.sleep(0.1)  # polling a starting process
    raise RuntimeError(f"serve never answered over HTTPS:\n{log.read_text()}")


@pytest.fixture
def deployment(network: Network, tmp_path: Path) -> Iterator[Deployment]:
    cert, key = self_signed(tmp_path, SERVER)
    data = tmp_path / "data"
    config = Config(data_dir=data).with_secrets()
    catalogue = Catalogue(config.database_path)
    try:
        room = catalogue.create_simulation(ScenarioId("boundary-fence"), 0).id
    finally:
        catalogue.close()
    coturn_text = turn_config(
        SECRET,
        "--data-dir",
        str(data),
        "--realm",
        "caucus.test",
        "--listening-ip",
        SERVER,
        "--port",
        str(TURN_PORT),
        "--tls-port",
        str(TURNS_PORT),
        "--turn-cert",
        str(cert),
        "--turn-key",
        str(key),
        "--media-address",
        SERVER,
        "--relay-ports",
        "50000-50199",
    )
    coturn = Coturn(tmp_path, coturn_text, prefix=network.server.prefix)
    log = tmp_path / "serve.log"
    serve = network.server.popen(
        [sys.executable, "-m", "caucus", "serve", "--host", "0.0.0.0", "--port", str(HTTPS_PORT)]
        + ["--data-dir", str(data), "--tls-cert", str(cert), "--tls-key", str(key)],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        cwd=ROOT,
        env={
            **os.environ,
            "CAUCUS_ICE_ADDRESSES": SERVER,
            "CAUCUS_TURN_SECRET": SECRET,
            "CAUCUS_TURN_URLS": f"turns:{SERVER}:{TURNS_PORT}?transport=tcp",
            "CAUCUS_PING_INTERVAL_S": "2",
            "CAUCUS_PING_TIMEOUT_S": "4",
        },
    )
    try:
        coturn.wait_ready(
            lambda: (
                network.server.run(
                    "bash", "-c", f"exec 3<>/dev/tcp/{SERVER}/{TURNS_PORT}", check=False
                ).returncode
                == 0
            )
        )
        _wait_https(network.server, serve, log)
        yield Deployment(config, room, coturn, serve, log)
    finally:
        serve.terminate()
        try:
            serve.wait(10)
        except subprocess.TimeoutExpired:
            serve.kill()
        coturn.stop()


@pytest.fixture
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as p:
        yield p


async def _browser(playwright: Playwright, ns: Namespace, lab: Lab) -> Browser:
    args = [a for a in CHROMIUM_ARGS if a != "--allow-loopback-in-peer-connection"]
    return await playwright.chromium.launch(
        executable_path=ns.wrap(CHROMIUM, lab.dir),
        args=[*args, "--ignore-certificate-errors"],
        headless=True,
    )


async def _stats(page: SeatPage) -> dict[str, Any]:
    stats: dict[str, Any] = await page.page.evaluate(STATS)
    return stats


async def _receives(page: SeatPage, seat: str) -> dict[str, Any]:
    handle = await page.page.wait_for_function(
        RECEIVES, arg=[seat, MIN_AUDIO_PACKETS, MIN_VIDEO_FRAMES], timeout=CONNECT_MS, polling=100
    )
    result: dict[str, Any] = await handle.json_value()
    return result


async def test_a_trainee_behind_a_strict_firewall_gets_media_through_turn_over_tls(
    network: Network, deployment: Deployment, playwright: Playwright
) -> None:
    trainee_browser = await _browser(playwright, network.trainee, network.lab)
    other_browser = await _browser(playwright, network.other, network.lab)
    try:
        mediator = await open_page(other_browser, "mediator", deployment.link("mediator"))
        trainee = await open_page(trainee_browser, "party_a", deployment.link("party_a"))
        assert await trainee.page.evaluate("isSecureContext")
        joined = time.monotonic()
        await take_seat(mediator)
        await take_seat(trainee)

        at_trainee = await _receives(trainee, "mediator")
        trainee_ms = (time.monotonic() - joined) * 1000
        at_mediator = await _receives(mediator, "party_a")
        assert at_trainee["local"] == "relay", at_trainee
        assert at_trainee["outbound"]["audio"] > 0 and at_trainee["outbound"]["video"] > 0
        assert at_mediator["local"] != "relay", at_mediator  # the mediator is direct
        print(
            f"\nstrict firewall: both seats' audio and video flow; trainee pair"
            f" {at_trainee['local']}->{at_trainee['remote']}, mediator pair"
            f" {at_mediator['local']}->{at_mediator['remote']};"
            f" join -> {MIN_AUDIO_PACKETS} audio packets and {MIN_VIDEO_FRAMES} frames"
            f" from the mediator via TURN/TLS: {trainee_ms:.0f} ms"
        )
        # the firewall really was in the way: UDP toward the server was dropped
        listed = network.trainee.run("nft", "list", "chain", "inet", "strict", "out").stdout
        dropped = re.search(r"counter packets (\d+)", listed)
        assert dropped and int(dropped.group(1)) > 0, listed

        await _expired_credential_gets_no_media(trainee_browser, deployment)
    finally:
        await trainee_browser.close()
        await other_browser.close()

    _coturn_refuses_internal_peers(network.trainee)


async def _expired_credential_gets_no_media(browser: Browser, deployment: Deployment) -> None:
    """A token 5 s past its expiry still joins (30 s clock-skew leeway), but its TURN
    credential, which never outlives the token, is dead: coturn says 401, no relay, no media."""
    party_b = await open_page(browser, "party_b", deployment.link("party_b", ttl_s=-5))
    await take_seat(party_b)
    await party_b.page.wait_for_function(
        "() => window.__caucusPc && window.__caucusPc.iceGatheringState === 'complete'",
        timeout=CONNECT_MS,
    )
    stats = await _stats(party_b)
    assert "relay" not in (stats.get("types") or []), stats
    await party_b.page.wait_for_timeout(DEAD_CREDENTIAL_MS)  # the behaviour: nothing comes
    stats = await _stats(party_b)
    assert stats["local"] is None and not stats["inbound"].get("mediator"), stats
    assert stats["state"] != "connected", stats
    # coturn recomputed the password, found the expiry passed and refused (401)
    refused = [
        line
        for line in deployment.coturn.text().splitlines()
        if "Cannot find credentials of user" in line and f":{deployment.room}:party_b>" in line
    ]
    assert refused, deployment.coturn.text()[-3000:]


def _coturn_refuses_internal_peers(trainee: Namespace) -> None:
    now = time.time()
    c = credential(SECRET, "probe:party_a", int(now) + 600, now)
    result = trainee.run(
        sys.executable,
        "-m",
        "tests.reach.turn_probe",
        SERVER,
        str(TURNS_PORT),
        c.username,
        c.password,
        "--transport",
        "tls",
        "--peer",
        "127.0.0.1",
        "--peer",
        "10.71.1.7",
        "--peer",
        "10.71.2.2",
        "--peer",
        SERVER,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["allocate"] == 0, answer
    assert answer["permissions"] == {
        "127.0.0.1": 403,
        "10.71.1.7": 403,
        "10.71.2.2": 403,
        SERVER: 0,  # the media server itself
    }, answer
