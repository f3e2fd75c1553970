"""CAUCUS_UDP_PORTS on loopback: every media socket inside the range, a full range refused.

Ranges here sit below the kernel's ephemeral range (32768-60999), where no
other test's port-0 socket lands; a port some other process holds anyway is
skipped by the server, exactly as in production.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from caucus.app import create_app
from caucus.config import Config
from media import aiortc_internals
from media.announce import parse_port_range
from media.sfu import MediaUnavailable, Sfu, SfuConfig
from sessions.ids import RoomId, SeatId
from tests.live_server import Participant, start_server
from tests.media.media_harness import media_room
from tests.media.synthetic import MEDIATOR, PARTY_A, PARTY_B, joint
from tests.media.synthetic import ROOM as MEDIA_ROOM

RANGE = (29100, 29119)
FULL = (29140, 29141)


def in_range(port: int, ports: tuple[int, int]) -> bool:
    return ports[0] <= port <= ports[1]


def candidate_ports(sdp: str) -> list[int]:
    return [int(line.split()[5]) for line in sdp.splitlines() if line.startswith("a=candidate:")]


@pytest.fixture
def occupied() -> Iterator[dict[int, socket.socket]]:
    """Every port of FULL held on 127.0.0.1 by this test (or by someone else already)."""
    held: dict[int, socket.socket] = {}
    for port in range(FULL[0], FULL[1] + 1):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()  # taken elsewhere: still full for the server
            continue
        held[port] = sock
    yield held
    for sock in held.values():
        sock.close()


async def test_every_ice_socket_of_every_participant_binds_inside_the_range() -> None:
    config = SfuConfig(ice_host_addresses=["127.0.0.1"], connect_timeout=10, udp_ports=RANGE)
    async with media_room([MEDIATOR, PARTY_A, PARTY_B], sfu_config=config) as room:
        await room.sfu.apply_audience(MEDIA_ROOM, joint([MEDIATOR, PARTY_A, PARTY_B]))
        await room.wait_connected(10)
        ports = []
        for seat in (MEDIATOR, PARTY_A, PARTY_B):
            pc = room.sfu.participant(MEDIA_ROOM, seat).pc
            for protocol in aiortc_internals.ice_datagram_protocols(pc):
                ports.append(protocol.transport.get_extra_info("sockname")[1])  # type: ignore[attr-defined]
            offer = room.clients[seat].pc.remoteDescription.sdp
            offered = candidate_ports(offer)
            assert offered and all(in_range(p, RANGE) for p in offered), offered
        assert len(ports) == 3 and len(set(ports)) == 3, ports
        assert all(in_range(p, RANGE) for p in ports), ports
        # the clients are not the server: their sockets are wherever the kernel put them
        client = room.clients[MEDIATOR].pc.localDescription.sdp
        assert not any(in_range(p, RANGE) for p in candidate_ports(client))


async def test_a_full_range_refuses_the_seat_media_and_a_freed_port_is_used_next(
    occupied: dict[int, socket.socket],
) -> None:
    async def ignore(*_: object) -> None:
        return None

    room, seat = RoomId("room-full"), SeatId("party_a")
    sfu = Sfu(ignore, config=SfuConfig(ice_host_addresses=["127.0.0.1"], udp_ports=FULL))
    try:
        with pytest.raises(MediaUnavailable) as refused:
            await sfu.join(room, seat)
        assert refused.value.code == "media_unavailable"
        assert f"no free UDP port in {FULL[0]}-{FULL[1]} on 127.0.0.1" in refused.value.message
        assert sfu.rooms == {}  # nothing half-made is left behind
        if not occupied:
            pytest.skip(f"every port of {FULL} is held by another process")
        port, sock = occupied.popitem()
        sock.close()
        offer = await sfu.join(room, seat)
        assert f" 127.0.0.1 {port} typ host" in offer["sdp"]
    finally:
        await sfu.close()


async def test_a_join_with_no_media_port_left_gets_a_clear_error_not_internal(
    tmp_path: Path, occupied: dict[int, socket.socket], caplog: pytest.LogCaptureFixture
) -> None:
    server = await start_server(
        tmp_path, media=True, ice_addresses="127.0.0.1", udp_ports=f"{FULL[0]}-{FULL[1]}"
    )
    room = await server.simulation()
    person = Participant("party_a", server.token(room, "party_a"), room)
    try:
        await person.connect(server.url)
        reply = await person.join()
        assert reply["ok"] is False
        assert reply["code"] == "media_unavailable"
        assert "no free UDP port" in reply["message"]
        assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    finally:
        await person.close()
        await server.stop()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("40000-40999", (40000, 40999)), (" 5000-5000 ", (5000, 5000)), ("6000", (6000, 6000))],
)
def test_a_port_range_is_low_dash_high(text: str, expected: tuple[int, int]) -> None:
    assert parse_port_range(text) == expected
    assert parse_port_range("") is None


@pytest.mark.parametrize("text", ["40999-40000", "80-90", "40000-70000", "abc", "4000-", "-"])
def test_a_bad_port_range_names_the_setting(text: str) -> None:
    with pytest.raises(ValueError, match="CAUCUS_UDP_PORTS"):
        parse_port_range(text)


def test_the_server_refuses_to_start_on_a_bad_range_or_address(tmp_path: Path) -> None:
    for env, message in (
        ({"CAUCUS_UDP_PORTS": "41000-40000"}, "CAUCUS_UDP_PORTS: 41000-40000 must be LOW-HIGH"),
        ({"CAUCUS_ANNOUNCED_ADDRESS": "0.0.0.0"}, "CAUCUS_ANNOUNCED_ADDRESS: 0.0.0.0 cannot"),
        ({"CAUCUS_STUN_URL": "http://stun.example"}, "CAUCUS_STUN_URL: 'http://stun.example'"),
    ):
        config = Config.from_env({"CAUCUS_DATA_DIR": str(tmp_path), **env})
        with pytest.raises(ValueError) as refused:
            create_app(config)
        assert message in str(refused.value)
