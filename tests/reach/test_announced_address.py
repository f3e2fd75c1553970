"""The announced address on loopback: real aiortc peer connections around a real Sfu.

The server binds on 127.0.0.1 and announces 127.0.0.2 (loopback too, so no
packet leaves this machine).  What must hold: the offer carries the host
candidate *and* its announced twin on the same port; ICE still completes; a
browser the server never heard of (no trickled candidates, as behind a NAT) is
learnt as peer-reflexive; consent checks keep the connection alive.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterator

import aioice.ice
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcconfiguration import RTCBundlePolicy

from media import aiortc_internals
from media.announce import announced_address, resolve_address
from media.sfu import Sfu, SfuConfig
from sessions.ids import RoomId, SeatId
from sessions.media_kinds import MediaKind
from tests.media.media_harness import ClientParticipant, media_room
from tests.media.synthetic import MEDIATOR, PARTY_A, joint
from tests.media.synthetic import ROOM as MEDIA_ROOM
from tests.red_sdp import without_red

ANNOUNCED = "127.0.0.2"
ROOM = RoomId("room-announce")


def candidates(sdp: str) -> list[list[str]]:
    """Each a=candidate line, split: [foundation, component, transport, priority, ip, port,
    'typ', type, ...]."""
    return [
        line[len("a=candidate:") :].split()
        for line in sdp.splitlines()
        if line.startswith("a=candidate:")
    ]


def config(**kw: object) -> SfuConfig:
    return SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=10, **kw)  # type: ignore[arg-type]


def _hears(client: ClientParticipant, publisher: SeatId) -> bool:
    return {(publisher, MediaKind.AUDIO), (publisher, MediaKind.VIDEO)} <= client.received_from()


async def test_the_offer_carries_the_host_candidate_and_its_announced_twin_on_the_same_port() -> (
    None
):
    async with media_room(
        [MEDIATOR, PARTY_A], sfu_config=config(announced_address=ANNOUNCED)
    ) as room:
        await room.wait_connected(10)
        offer = room.clients[MEDIATOR].pc.remoteDescription.sdp
        found = {(c[7], c[4], int(c[5])) for c in candidates(offer)}
        hosts = [port for kind, ip, port in found if kind == "host" and ip == "127.0.0.1"]
        assert len(hosts) == 1, found
        twin = next(c for c in candidates(offer) if c[7] == "srflx")
        assert (twin[4], int(twin[5])) == (ANNOUNCED, hosts[0])
        assert twin[twin.index("raddr") + 1] == "127.0.0.1"
        # media flows both ways through the server while it announces elsewhere
        await room.sfu.apply_audience(MEDIA_ROOM, joint([MEDIATOR, PARTY_A]))
        for subscriber, publisher in ((MEDIATOR, PARTY_A), (PARTY_A, MEDIATOR)):
            client = room.clients[subscriber]
            await client.wait_until(functools.partial(_hears, client, publisher), 10)


async def test_without_an_announced_address_the_offer_has_host_candidates_only() -> None:
    async with media_room([MEDIATOR], sfu_config=config()) as room:
        offer = room.clients[MEDIATOR].pc.remoteDescription.sdp
        assert {c[7] for c in candidates(offer)} == {"host"}


async def test_in_process_clients_do_not_follow_the_servers_policy() -> None:
    """The policy is the server's: an aiortc client in the same process gathers as stock."""
    async with media_room([MEDIATOR], sfu_config=config(announced_address=ANNOUNCED)) as room:
        answer = room.clients[MEDIATOR].pc.localDescription.sdp
        assert {c[7] for c in candidates(answer)} == {"host"}


#: the latest a peer that answers no check loses consent under fast_consent
EXPIRY_S = 0.2 * 1.2 * 3 + 3.5


@pytest.fixture
def fast_consent() -> Iterator[None]:
    interval, failures = aioice.ice.CONSENT_INTERVAL, aioice.ice.CONSENT_FAILURES
    aiortc_internals.set_consent_timing(0.2, 3)
    yield
    aiortc_internals.set_consent_timing(interval, failures)


async def test_a_peer_that_trickles_nothing_is_learnt_as_peer_reflexive_and_keeps_consent(
    fast_consent: None, caplog: pytest.LogCaptureFixture
) -> None:
    async def ignore(*_: object) -> None:
        return None

    sfu = Sfu(ignore, config=config(announced_address=ANNOUNCED))
    browser = RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )
    connected = asyncio.Event()

    @browser.on("connectionstatechange")
    def on_state() -> None:
        if browser.connectionState == "connected":
            connected.set()

    try:
        with caplog.at_level(logging.INFO, logger="media.sfu"):
            offer = await sfu.join(ROOM, SeatId("party_a"))
            await browser.setRemoteDescription(
                RTCSessionDescription(without_red(offer["sdp"]), "offer")
            )
            await browser.setLocalDescription(await browser.createAnswer())
            # the server hears of no candidate at all: only the browser's checks reach it
            stripped = [
                line
                for line in browser.localDescription.sdp.splitlines()
                if not line.startswith("a=candidate:") and line != "a=end-of-candidates"
            ]
            await sfu.answer(
                ROOM, SeatId("party_a"), {"type": "answer", "sdp": "\r\n".join(stripped) + "\r\n"}
            )
            await asyncio.wait_for(connected.wait(), 10)
            server_pc = sfu.participant(ROOM, SeatId("party_a")).pc
            pair = aiortc_internals.selected_pair(server_pc)
            assert pair is not None
            local, remote = pair
            assert (local.type, local.host, remote.type, remote.host) == (
                "host",
                "127.0.0.1",
                "prflx",
                "127.0.0.1",
            )
            # consent rounds every ~0.2 s; a peer answering none of them loses consent
            # once 3 checks went unanswered, each after its 3.5 s of retransmissions
            # (media/aiortc_internals/consent.py): ~4.2 s at most. The announced twin
            # must not make the server check or answer from the wrong place.
            await asyncio.sleep(EXPIRY_S + 0.8)  # the behaviour under test is a timer
            assert server_pc.connectionState == "connected"
            assert browser.connectionState == "connected"
        logged = (
            f"media path {ROOM}/party_a: local host 127.0.0.1:{local.port}"
            f" <-> remote prflx 127.0.0.1:{remote.port}"
        )
        assert logged in [r.getMessage() for r in caplog.records]
    finally:
        await browser.close()
        await sfu.close()


def test_an_announced_hostname_is_resolved_once_and_an_ip_is_kept() -> None:
    assert resolve_address("localhost") == "127.0.0.1"
    assert resolve_address(" 203.0.113.7 ") == "203.0.113.7"
    assert announced_address("localhost", "stun:unused.invalid") == "127.0.0.1"
    assert announced_address("", "") is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0.0.0.0", "cannot be announced"),
        ("224.0.0.1", "cannot be announced"),
        ("no-such-host.invalid", "cannot resolve 'no-such-host.invalid'"),
        ("bad name!", "cannot resolve"),
    ],
)
def test_a_bad_announced_address_is_refused_with_the_setting_named(
    value: str, message: str
) -> None:
    with pytest.raises(ValueError, match="CAUCUS_ANNOUNCED_ADDRESS") as caught:
        resolve_address(value)
    assert message in str(caught.value)


def test_the_sfu_config_takes_only_an_ip_to_announce() -> None:
    with pytest.raises(ValueError, match="is not an IP address"):
        SfuConfig(announced_address="caucus.example")
    assert SfuConfig(
        announced_address="2001:db8::7"
    ).gather_policy == aiortc_internals.GatherPolicy("2001:db8::7", None)
    assert SfuConfig().gather_policy is None
