"""ICE consent freshness (RFC 7675) that a late answer does not fail.

aioice's ``Connection.query_consent`` sends one Binding request every ~5 s
(``CONSENT_INTERVAL``) and gives it 0.5 s: no retransmission, and an answer
that comes later is thrown away with its transaction.  Six such failures in a
row (``CONSENT_FAILURES``) close the connection.  So a peer whose answers take
more than half a second is dropped after ~30 s although it answers every
check: a round trip over 500 ms (a satellite or a congested mobile link), or an
event loop that runs behind, on either side (the SFU's own loop under load
reads a datagram that waited behind a backlog of RTP in the socket).  The
forwarding benchmark lost participants this way after 30–180 s whenever the
machine was busy (docs/PERFORMANCE.md, "Participants released under load").

:func:`query_consent` keeps aioice's timing and expiry (consent lasts
``CONSENT_INTERVAL * CONSENT_FAILURES`` from the last answer, and ends after
``CONSENT_FAILURES`` unanswered checks in a row) but lets each check be
answered late: it is retransmitted like any STUN request (0.5, 1 and 2 s
later) and any answer to it within 3.5 s counts, while the next check goes
out on time.  A peer that stopped answering still loses consent after
``CONSENT_FAILURES`` checks, as before.
"""

from __future__ import annotations

import asyncio
import logging
import random

import aioice.ice
from aioice import stun

logger = logging.getLogger(__name__)

_original_query_consent = aioice.ice.Connection.query_consent

#: retransmissions of each consent check (RFC 5389 timing: 0.5, 1, 2 s after it),
#: so a check is answered if an answer arrives within 3.5 s
CHECK_RETRANSMISSIONS = 2


class _Consent:
    """The answers to one connection's consent checks."""

    def __init__(self, connection: aioice.ice.Connection) -> None:
        self._connection = connection
        self._loop = asyncio.get_running_loop()
        self.answered_at = self._loop.time()
        self.unanswered = 0  # checks in a row that got no answer at all
        self.checks: set[asyncio.Task[None]] = set()

    def check(self, pair: aioice.ice.CandidatePair) -> None:
        task = asyncio.ensure_future(self._check(pair))
        self.checks.add(task)
        task.add_done_callback(self.checks.discard)

    async def _check(self, pair: aioice.ice.CandidatePair) -> None:
        connection = self._connection
        assert connection.remote_password is not None  # set before consent checks start
        request = connection.build_request(pair, nominate=False)
        try:
            await pair.protocol.request(
                request,
                pair.remote_addr,
                integrity_key=connection.remote_password.encode("utf8"),
                retransmissions=CHECK_RETRANSMISSIONS,
            )
        except stun.TransactionError:  # no answer in time, or an error response
            self.unanswered += 1
        else:
            self.unanswered = 0
            self.answered_at = self._loop.time()

    @property
    def expired(self) -> bool:
        lifetime = aioice.ice.CONSENT_INTERVAL * aioice.ice.CONSENT_FAILURES
        return (
            self.unanswered >= aioice.ice.CONSENT_FAILURES
            and self._loop.time() - self.answered_at >= lifetime
        )


async def query_consent(self: aioice.ice.Connection) -> None:
    """``Connection.query_consent``: periodically check consent (RFC 7675)."""
    consent = _Consent(self)
    try:
        while True:
            # randomized between 0.8 and 1.2 times CONSENT_INTERVAL, as aioice does
            await asyncio.sleep(aioice.ice.CONSENT_INTERVAL * (0.8 + 0.4 * random.random()))
            if consent.expired:
                logger.info("%s: consent to send expired", self)
                self._query_consent_task = None
                await self.close()
                return
            for pair in self._nominated.values():
                consent.check(pair)
    finally:
        for task in consent.checks:
            task.cancel()


def install() -> None:
    aioice.ice.Connection.query_consent = query_consent  # type: ignore[method-assign]
