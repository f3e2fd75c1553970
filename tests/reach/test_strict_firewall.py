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
import re
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Playwright, async_playwright

from signaling.turn import credential
from tests.e2e.browser import open_page, take_seat
from tests.netns import Lab, Namespace
from tests.reach.deployment import (
    CONNECT_MS,
    MIN_AUDIO_PACKETS,
    MIN_VIDEO_FRAMES,
    SECRET,
    TURNS_PORT,
    Deployment,
    Network,
    deploy,
    firewall_only_https_and_turns,
    lab_missing,
    launch,
    receives,
    stats,
)

SERVER, TRAINEE = "10.71.1.1", "10.71.1.2"
SERVER_SIDE_B, OTHER = "10.71.2.1", "10.71.2.2"
#: how long a seat with a dead credential is watched for media that must not come
DEAD_CREDENTIAL_MS = 12_000


@pytest.fixture
def network() -> Iterator[Network]:
    why = lab_missing()
    if why:
        pytest.skip(why)
    with Lab("ttfw") as lab:
        server, trainee, other = lab.namespace("srv"), lab.namespace("trn"), lab.namespace("oth")
        lab.link(server, f"{SERVER}/24", trainee, f"{TRAINEE}/24")
        lab.link(server, f"{SERVER_SIDE_B}/24", other, f"{OTHER}/24")
        other.route("default", "via", SERVER_SIDE_B)
        trainee.nft(firewall_only_https_and_turns(SERVER))
        yield Network(lab, server, trainee, other)


@pytest.fixture
def deployment(network: Network, tmp_path: Path) -> Iterator[Deployment]:
    with deploy(network.server, SERVER, tmp_path) as deployed:
        yield deployed


@pytest.fixture
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as p:
        yield p


async def test_a_trainee_behind_a_strict_firewall_gets_media_through_turn_over_tls(
    network: Network, deployment: Deployment, playwright: Playwright
) -> None:
    trainee_browser = await launch(playwright, network.trainee, network.lab)
    other_browser = await launch(playwright, network.other, network.lab)
    try:
        mediator = await open_page(other_browser, "mediator", deployment.link("mediator"))
        trainee = await open_page(trainee_browser, "party_a", deployment.link("party_a"))
        assert await trainee.page.evaluate("isSecureContext")
        joined = time.monotonic()
        await take_seat(mediator)
        await take_seat(trainee)

        at_trainee = await receives(trainee, "mediator")
        trainee_ms = (time.monotonic() - joined) * 1000
        at_mediator = await receives(mediator, "party_a")
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
    seen = await stats(party_b)
    assert "relay" not in (seen.get("types") or []), seen
    await party_b.page.wait_for_timeout(DEAD_CREDENTIAL_MS)  # the behaviour: nothing comes
    seen = await stats(party_b)
    assert seen["local"] is None and not seen["inbound"].get("mediator"), seen
    assert seen["state"] != "connected", seen
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
