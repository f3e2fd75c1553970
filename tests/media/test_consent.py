"""ICE consent freshness (``media.aiortc_internals.consent``): a peer that answers
every check, late, keeps its connection; one that stops answering loses it.

Two real aiortc peer connections on loopback, one behind a user-space link
(``tests.impairment``) that delays everything it sends and receives by 0.4 s:
a 0.8 s round trip, the same lateness as an answer that waited behind a
backlog of RTP in a busy server's socket.  Consent is checked every ~0.5 s and
expires after 3 failures (``set_consent_timing``), so what takes 30 s in
production takes ~2 s here.  The waits are bounded waits for a state change
that must (or must not) happen within several consent lifetimes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import aioice.ice
import pytest
from aiortc import RTCPeerConnection

from media import aiortc_internals
from media.aiortc_internals import consent
from tests.impairment import Impairment, LinkProfile, impair

SLOW = LinkProfile(delay=0.4)
CONSENT_INTERVAL, CONSENT_FAILURES = 0.5, 3
# several consent lifetimes (0.5 s x 3), plus a check's 3.5 s of retransmissions
WATCH_S = 6.0


@pytest.fixture(autouse=True)
def fast_consent() -> Iterator[None]:
    before = aioice.ice.CONSENT_INTERVAL, aioice.ice.CONSENT_FAILURES
    aiortc_internals.set_consent_timing(CONSENT_INTERVAL, CONSENT_FAILURES)
    yield
    aiortc_internals.set_consent_timing(*before)


class Pair:
    def __init__(self) -> None:
        self.near = RTCPeerConnection()
        self.far = RTCPeerConnection()
        self.ended = asyncio.Event()
        self.link: Impairment | None = None
        for pc in (self.near, self.far):
            pc.on("connectionstatechange", self._state_changed)
            pc.on("iceconnectionstatechange", self._state_changed)

    def _state_changed(self) -> None:
        states = {self.near.connectionState, self.far.connectionState}
        states |= {self.near.iceConnectionState, self.far.iceConnectionState}
        if states & {"failed", "closed"}:
            self.ended.set()

    async def connect(self, link: LinkProfile) -> None:
        self.near.addTransceiver("audio", direction="recvonly")  # the impaired link needs one
        await self.near.setLocalDescription(await self.near.createOffer())
        await self.far.setRemoteDescription(self.near.localDescription)
        await self.far.setLocalDescription(await self.far.createAnswer())
        self.link = impair(self.far, outbound=link, inbound=link, seed=7)
        await self.near.setRemoteDescription(self.far.localDescription)
        for _ in range(300):  # bounded: DTLS over a 0.8 s round trip takes a few seconds
            if self.near.connectionState == self.far.connectionState == "connected":
                return
            await asyncio.sleep(0.05)
        states = f"{self.near.connectionState}/{self.far.connectionState}"
        raise AssertionError(f"not connected: {states}")

    async def ends_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self.ended.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        if self.link is not None:
            self.link.close()
        await self.near.close()
        await self.far.close()


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    made = Pair()
    yield made
    await made.close()


async def test_a_peer_that_answers_every_check_late_keeps_its_connection(pair: Pair) -> None:
    assert aioice.ice.Connection.query_consent is consent.query_consent
    await pair.connect(SLOW)
    assert not await pair.ends_within(WATCH_S)
    assert pair.near.connectionState == pair.far.connectionState == "connected"
    assert pair.near.iceConnectionState == pair.far.iceConnectionState == "completed"


async def test_stock_aioice_drops_that_peer_which_is_what_consent_fixes(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(aioice.ice.Connection, "query_consent", consent._original_query_consent)
    await pair.connect(SLOW)
    assert await pair.ends_within(WATCH_S)


async def test_a_peer_that_stops_answering_still_loses_consent(pair: Pair) -> None:
    await pair.connect(LinkProfile())
    assert pair.link is not None
    pair.link.close()  # a closed link drops everything, both ways
    assert await pair.ends_within(WATCH_S)
