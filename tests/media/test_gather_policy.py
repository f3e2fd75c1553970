"""Where peer connections gather their host candidates: each SFU by its own settings,
entered per connection, and nothing process-wide (aiortc_internals.ice.GatherPolicy)."""

from __future__ import annotations

import aioice.ice
import pytest

from media import aiortc_internals
from media.aiortc_internals import ice
from media.sfu import Sfu, SfuConfig
from sessions.ids import SeatId
from tests.media.media_harness import media_room

MEDIATOR = SeatId("mediator")


def hosts(sdp: str) -> set[str]:
    """The addresses of the host candidates in an SDP."""
    return {
        line.split()[4]
        for line in sdp.splitlines()
        if line.startswith("a=candidate:") and line.split()[7] == "host"
    }


async def ignore(*_: object) -> None:
    return None


def test_constructing_an_sfu_patches_nothing_process_wide() -> None:
    patched = (aioice.ice.get_host_addresses, aioice.ice.Connection.get_component_candidates)
    policy = ice._gather_policy.get()
    Sfu(ignore, config=SfuConfig(ice_host_addresses=["127.0.0.2"], udp_ports=(40000, 40009)))
    assert (aioice.ice.get_host_addresses, aioice.ice.Connection.get_component_candidates) == (
        patched
    )
    assert ice._gather_policy.get() is policy


async def test_the_server_gathers_on_its_addresses_and_an_in_process_client_on_its_own() -> None:
    """The server is on 127.0.0.2 by its config; the test's client stays on 127.0.0.1
    (tests/conftest.py's LOOPBACK), and the two connect."""
    config = SfuConfig(ice_host_addresses=["127.0.0.2"], connect_timeout=10)
    async with media_room([MEDIATOR], sfu_config=config, decode=False) as room:
        await room.wait_connected(10)
        client = room.clients[MEDIATOR].pc
        assert hosts(client.remoteDescription.sdp) == {"127.0.0.2"}
        assert hosts(client.localDescription.sdp) == {"127.0.0.1"}


def test_a_policy_limits_the_host_addresses_by_family_and_none_restores_aioices_own() -> None:
    both = aiortc_internals.GatherPolicy(host_addresses=("127.0.0.1", "::1"))
    with aiortc_internals.gather_policy(both):
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1", "::1"]
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(use_ipv4=False, use_ipv6=True) == ["::1"]
        with aiortc_internals.gather_policy(None):
            assert aioice.ice.get_host_addresses(
                use_ipv4=True, use_ipv6=True
            ) == ice._original_get_host_addresses(use_ipv4=True, use_ipv6=True)


def test_a_host_address_must_be_an_ip() -> None:
    with pytest.raises(ValueError, match="'eth0' is not an IP address"):
        SfuConfig(ice_host_addresses=["eth0"])
    assert SfuConfig(ice_host_addresses=["127.0.0.1"]).gather_policy == (
        aiortc_internals.GatherPolicy(host_addresses=("127.0.0.1",))
    )
