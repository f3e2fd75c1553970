"""Chromium publishes simulcast; two Chromium subscribers, one behind a capped link,
each get the layer their own link carries (getStats ``frameWidth``).

    mediator, party_a 10.73.7.2 ── 10.73.7.1 server 10.73.6.2 ── router ── 10.73.5.2 party_b
                                                        (party_b's downlink: CAP_KBIT)

The mediator's page (Chromium, 640×360 camera) answers the server's offer with
simulcast (``a=rid … send``): from a 640×360 picture Chromium sends two layers,
320 and 640 pixels wide (the third RID stays off).  The parties send audio only.  party_a
sits on a clear link, party_b behind a router whose bottleneck lets CAP_KBIT
kbit/s through toward it (tests/reach/delay_router.py: a token bucket in user
space, drop-tail queue, since this kernel has no netem).  The server picks each
subscriber's layer from that subscriber's REMB and loss (media/layers.py): party_a
must be shown the mediator's top layer, party_b the lowest, with its audio still
arriving.  Polling getStats is bounded; the page cannot push its frame sizes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Playwright, async_playwright

from tests.e2e.browser import open_page, take_seat
from tests.netns import Lab
from tests.reach.deployment import ROOT, Deployment, Network, deploy, lab_missing, launch

CAPPED, ROUTER_A, ROUTER_B, SERVER = "10.73.5.2", "10.73.5.1", "10.73.6.1", "10.73.6.2"
SERVER_C, OTHER = "10.73.7.1", "10.73.7.2"
CAP_KBIT = 300
QUEUE_MS = 500  # a last mile's buffer: a keyframe of the lowest layer fits
#: how long each subscriber is watched once settled (the shares on each layer are printed)
WATCH_S = 15.0
#: how long the layers may take to settle: a REMB round, a keyframe, the hold times
SETTLE_MS = 60_000

#: the mediator's video as this page receives it: frame width, frames, audio packets
RECEIVED = """
async ([seat]) => {
  const pc = window.__caucusPc, tracks = window.__caucusTracks || {};
  const out = {width: null, frames: 0, audio: 0, keyframes: 0, plis: 0, freezes: 0};
  if (!pc) return out;
  (await pc.getStats()).forEach((s) => {
    if (s.type !== "inbound-rtp" || !tracks[s.mid] || tracks[s.mid].seat !== seat) return;
    if (s.kind === "video") {
      out.width = s.frameWidth || null; out.frames = s.framesDecoded || 0;
      out.keyframes = s.keyFramesDecoded || 0; out.plis = s.pliCount || 0;
      out.freezes = s.freezeCount || 0;
    }
    else out.audio = s.packetsReceived || 0;
  });
  return out;
}
"""
#: the mediator's sending layers: rid -> frameWidth (0 while a layer sends nothing)
SENT = """
async (_) => {
  const out = {};
  (await window.__caucusPc.getStats()).forEach((s) => {
    if (s.type === "outbound-rtp" && s.kind === "video") out[s.rid || "-"] = s.frameWidth || 0;
  });
  return out;
}
"""
#: why the publisher sends what it sends: its estimate of its uplink, each layer's limit
PUBLISHER = """
async (_) => {
  const out = {layers: {}, available: null};
  (await window.__caucusPc.getStats()).forEach((s) => {
    if (s.type === "outbound-rtp" && s.kind === "video") {
      out.layers[s.rid || "-"] = [s.frameWidth || 0, s.qualityLimitationReason, s.targetBitrate];
    }
    if (s.type === "candidate-pair" && s.nominated && s.availableOutgoingBitrate) {
      out.available = s.availableOutgoingBitrate;
    }
  });
  return out;
}
"""
#: the latest media_video the page received
TOLD = """
() => {
  const told = window.__caucusLog.filter((e) => e.event === "media_video");
  return told.length ? told[told.length - 1].data : {paused: [], layers: {}};
}
"""
#: the seats whose tile shows "video paused — weak connection"
LABELLED = """
() => [...document.querySelectorAll(".tile")]
  .filter((t) => !t.querySelector(".tile-paused-note").hidden).map((t) => t.dataset.seat)
"""


@dataclass
class Capped(Network):
    bottleneck: subprocess.Popen[bytes]

    def narrow(self) -> None:
        """From now on party_b's downlink carries CAP_KBIT kbit/s (its page loaded first)."""
        os.kill(self.bottleneck.pid, signal.SIGUSR1)


@pytest.fixture
def network() -> Iterator[Capped]:
    why = lab_missing()
    if why:
        pytest.skip(why)
    with Lab("simlay") as lab:
        capped, router = lab.namespace("cap"), lab.namespace("rtr")
        server, other = lab.namespace("srv"), lab.namespace("oth")
        lab.link(capped, f"{CAPPED}/24", router, f"{ROUTER_A}/24")
        lab.link(router, f"{ROUTER_B}/24", server, f"{SERVER}/24")
        lab.link(server, f"{SERVER_C}/24", other, f"{OTHER}/24")
        capped.route("default", "via", ROUTER_A)
        server.route(f"{CAPPED.rsplit('.', 1)[0]}.0/24", "via", ROUTER_B)
        other.route("default", "via", SERVER_C)
        bottleneck = router.popen(
            [sys.executable, "-m", "tests.reach.delay_router", "--delay-ms", "0"]
            + ["--rate-kbit", str(CAP_KBIT), "--rate-to", f"{CAPPED}/32", "--cap-on-signal"]
            + ["--queue-ms", str(QUEUE_MS)],
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        try:
            assert bottleneck.stdout is not None
            assert bottleneck.stdout.readline() == b"ready\n", "the router did not start"
            yield Capped(lab, server, capped, other, bottleneck)
        finally:
            bottleneck.kill()
            bottleneck.wait(10)
            assert bottleneck.stdout is not None
            bottleneck.stdout.close()


@pytest.fixture
def deployment(network: Capped, tmp_path: Path) -> Iterator[Deployment]:
    # three browsers and the server on a busy 2-core host: the reach tests' 4 s
    # heartbeat would take a starved moment for a dead socket
    slow = {"CAUCUS_PING_INTERVAL_S": "5", "CAUCUS_PING_TIMEOUT_S": "20"}
    with deploy(network.server, SERVER, tmp_path, slow) as deployed:
        yield deployed


@pytest.fixture
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as p:
        yield p


async def _poll(page: Any, script: str, arg: Any, done: Callable[[Any], bool]) -> Any:
    """Evaluate ``script`` every 0.5 s until ``done`` says so (getStats is async and the
    page cannot push its stats: bounded polling of the browser), or fail with the last."""
    last = None
    for _ in range(SETTLE_MS // 500):
        last = await page.evaluate(script, arg)
        if done(last):
            return last
        await page.wait_for_timeout(500)
    raise AssertionError(f"not settled in {SETTLE_MS} ms: {last}")


async def test_each_subscriber_gets_the_layer_its_link_carries(
    network: Capped, deployment: Deployment, playwright: Playwright, tmp_path: Path
) -> None:
    other_browser = await launch(playwright, network.other, network.lab)
    capped_browser = await launch(playwright, network.trainee, network.lab)
    try:
        mediator = await open_page(other_browser, "mediator", deployment.link("mediator"))
        await take_seat(mediator)
        party_a = await open_page(other_browser, "party_a", deployment.link("party_a"))
        await take_seat(party_a)
        party_b = await open_page(capped_browser, "party_b", deployment.link("party_b"))
        await take_seat(party_b)
        for party in (party_a, party_b):  # the subscribers send their voices only
            # the button's own click (no pointer checks: a busy page may still be laying out)
            await party.page.locator("#video-off").dispatch_event("click", timeout=30_000)
        network.narrow()
        # the mediator's browser sends every layer (its own link is clear)
        try:
            sent: dict[str, int] = await _poll(
                mediator.page, SENT, None, lambda s: sum(1 for w in s.values() if w > 0) >= 2
            )
        except AssertionError:
            print("publisher:", await mediator.page.evaluate(PUBLISHER, None))
            raise
        assert set(sent) == {"l", "m", "h"}, sent
        top, lowest = max(sent.values()), min(w for w in sent.values() if w > 0)
        clear = await _poll(
            party_a.page, RECEIVED, ["mediator"], lambda r: r["width"] == top and r["frames"] > 0
        )
        weak = await _poll(
            party_b.page, RECEIVED, ["mediator"], lambda r: r["width"] == lowest and r["frames"] > 0
        )
        # and they keep to it: sampled every 0.5 s for WATCH_S (getStats: polling)
        widths: dict[str, list[int | None]] = {"party_a": [], "party_b": []}
        for _ in range(int(WATCH_S * 2)):
            for name, party in (("party_a", party_a), ("party_b", party_b)):
                widths[name].append((await party.page.evaluate(RECEIVED, ["mediator"]))["width"])
            await mediator.page.wait_for_timeout(500)
        weak_after = await party_b.page.evaluate(RECEIVED, ["mediator"])
        at_top = sum(w == top for w in widths["party_a"]) / len(widths["party_a"])
        at_lowest = sum(w == lowest for w in widths["party_b"]) / len(widths["party_b"])
        above = sum(w is not None and w > lowest for w in widths["party_b"])
        told = await party_b.page.evaluate(TOLD)
        labelled = await party_b.page.evaluate(LABELLED)
        print(
            f"\nsent layers {sent}; party_a (clear) {clear}; party_b ({CAP_KBIT} kbit/s) {weak}"
            f"\nover {WATCH_S:.0f} s: party_a at the top layer {at_top:.0%} of samples,"
            f" party_b at the lowest {at_lowest:.0%} (above it {above} of"
            f" {len(widths['party_b'])}); party_b then {weak_after}"
            f"\nparty_b was told {told}; tiles labelled paused: {labelled}"
        )
        # Not asserted: on this 2-core host with three browsers (load average 10-17)
        # the pages' connections drop and restart now and then, and a restarted
        # subscriber climbs again from its lowest layer; the shares are printed.
        assert weak_after["audio"] > 0, "the capped subscriber lost its audio"
        # the page says what the server told it: a paused video is labelled on its tile
        assert sorted(labelled) == sorted(told["paused"]), (told, labelled)
    finally:
        await other_browser.close()
        await capped_browser.close()
        log = tmp_path / "serve.log"
        for line in log.read_text().splitlines() if log.exists() else []:
            if "video layers" in line or "DEBUG" in line:
                print(line)
