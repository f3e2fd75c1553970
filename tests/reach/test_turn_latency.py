"""Join → first remote audio on a 400 ms round trip: direct, and through TURN over TLS.

    trainee 10.71.5.2 ── router (200 ms each way) ── 10.71.6.2 server ── 10.71.7.2 mediator

The router namespace holds every packet for 200 ms in each direction in user
space (tests/reach/delay_router.py; this kernel has no netem), so signalling,
TLS, TURN and media all cross a 400 ms round trip.  The mediator (Chromium,
on a short link) is seated and publishing; the trainee's Chromium clicks
"Join the session" and the time to its first audio packet from the mediator is
measured in the page.  First with UDP open (the pair is direct), then behind
the strict firewall (only TCP to HTTPS and TURN/TLS: the pair is relayed).
The figures are printed (docs/PERFORMANCE.md); the test asserts only what
must hold: the pair types, and that the link really had a 400 ms round trip.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Playwright, async_playwright, expect

from tests.e2e.browser import open_page, take_seat
from tests.netns import Lab
from tests.reach.deployment import (
    CONNECT_MS,
    ROOT,
    Deployment,
    Network,
    deploy,
    firewall_only_https_and_turns,
    lab_missing,
    launch,
    receives,
)

TRAINEE, ROUTER_A, ROUTER_B, SERVER = "10.71.5.2", "10.71.5.1", "10.71.6.1", "10.71.6.2"
SERVER_C, OTHER = "10.71.7.1", "10.71.7.2"
ONE_WAY_MS = 200
#: joins measured per path: one in the suite; CAUCUS_REACH_RUNS=5 for docs/PERFORMANCE.md
RUNS = int(os.environ.get("CAUCUS_REACH_RUNS", "1"))

#: performance.now() at the first audio packet from `seat` (polled; getStats is async)
FIRST_AUDIO = """
([seat]) => {
  const f = window.__firstAudio || (window.__firstAudio = {busy: false, at: null});
  const pc = window.__caucusPc, tracks = window.__caucusTracks || {};
  if (pc && !f.busy && f.at === null) {
    f.busy = true;
    pc.getStats().then((report) => {
      report.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "audio" && tracks[s.mid]
            && tracks[s.mid].seat === seat && s.packetsReceived > 0 && f.at === null) {
          f.at = performance.now();
        }
      });
    }).finally(() => { f.busy = false; });
  }
  return f.at;
}
"""
#: the selected pair's candidate types and round trip
PAIR = """
async () => {
  const report = await window.__caucusPc.getStats();
  let pair = null;
  report.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) {
      pair = report.get(s.selectedCandidatePairId);
    }
  });
  return {local: report.get(pair.localCandidateId).candidateType,
          remote: report.get(pair.remoteCandidateId).candidateType,
          rtt_ms: Math.round(1000 * (pair.currentRoundTripTime || 0))};
}
"""


@pytest.fixture
def network() -> Iterator[Network]:
    why = lab_missing()
    if why:
        pytest.skip(why)
    with Lab("ttlat") as lab:
        trainee, router = lab.namespace("trn"), lab.namespace("rtr")
        server, other = lab.namespace("srv"), lab.namespace("oth")
        lab.link(trainee, f"{TRAINEE}/24", router, f"{ROUTER_A}/24")
        lab.link(router, f"{ROUTER_B}/24", server, f"{SERVER}/24")
        lab.link(server, f"{SERVER_C}/24", other, f"{OTHER}/24")
        trainee.route("default", "via", ROUTER_A)
        server.route(f"{TRAINEE.rsplit('.', 1)[0]}.0/24", "via", ROUTER_B)
        other.route("default", "via", SERVER_C)
        delay = router.popen(
            [sys.executable, "-m", "tests.reach.delay_router", "--delay-ms", str(ONE_WAY_MS)],
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        try:
            assert delay.stdout is not None
            assert delay.stdout.readline() == b"ready\n", "the delay router did not start"
            yield Network(lab, server, trainee, other)
        finally:
            delay.kill()
            delay.wait(10)
            assert delay.stdout is not None
            delay.stdout.close()


@pytest.fixture
def deployment(network: Network, tmp_path: Path) -> Iterator[Deployment]:
    with deploy(network.server, SERVER, tmp_path) as deployed:
        yield deployed


@pytest.fixture
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as p:
        yield p


async def _join_to_first_audio(browser: Browser, deployment: Deployment) -> tuple[float, Any]:
    """One join: ms from the click on "Join the session" to the mediator's first audio."""
    trainee = await open_page(browser, "party_a", deployment.link("party_a"))
    try:
        page = trainee.page
        # the page first asks the server what this seat must answer (the join preview)
        await expect(page.locator("#setup")).to_have_attribute(
            "data-preview", "done", timeout=CONNECT_MS
        )
        # the same seat joins once per path: after its first answer it is not asked again
        if await page.locator("#consent-box").is_visible():
            await page.get_by_label("I agree to this session being recorded").check()
        join = page.get_by_role("button", name="Join the session")
        await expect(join).to_be_enabled(timeout=CONNECT_MS)
        clicked: float = await page.evaluate("performance.now()")
        await join.click()
        handle = await page.wait_for_function(
            FIRST_AUDIO, arg=["mediator"], timeout=CONNECT_MS, polling=20
        )
        first: float = await handle.json_value()
        await receives(trainee, "mediator")  # media keeps flowing: the pair is settled
        pair = await page.evaluate(PAIR)
        return first - clicked, pair
    finally:
        await trainee.close()


async def test_join_to_first_audio_on_a_400_ms_link_direct_and_through_turn_over_tls(
    network: Network, deployment: Deployment, playwright: Playwright
) -> None:
    trainee_browser = await launch(playwright, network.trainee, network.lab)
    other_browser = await launch(playwright, network.other, network.lab)
    figures: dict[str, list[float]] = {"direct": [], "TURN/TLS": []}
    try:
        mediator = await open_page(other_browser, "mediator", deployment.link("mediator"))
        await take_seat(mediator)
        for path in figures:
            if path == "TURN/TLS":
                network.trainee.nft(firewall_only_https_and_turns(SERVER))
            for _ in range(RUNS):
                ms, pair = await _join_to_first_audio(trainee_browser, deployment)
                assert (pair["local"] == "relay") == (path == "TURN/TLS"), (path, pair)
                # the link really is long: TURN/TLS adds coturn's hop on the same machine only
                assert pair["rtt_ms"] >= 2 * ONE_WAY_MS * 0.95, pair
                figures[path].append(ms)
    finally:
        await trainee_browser.close()
        await other_browser.close()
    print(f"\njoin -> first remote audio, {2 * ONE_WAY_MS} ms RTT, {RUNS} joins per path:")
    for path, values in figures.items():
        print(
            f"  {path:<9} median {statistics.median(values):.0f} ms"
            f" (runs: {', '.join(f'{v:.0f}' for v in values)})"
        )
