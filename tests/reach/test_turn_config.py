"""`caucus turn-config`: what it writes, and a real coturn run from it.

coturn is started from the command's own output on loopback; a TURN client
(aioice's) then checks what a browser and an attacker would meet: the
credentials Caucus mints allocate a relay over UDP, TCP and TLS; an expired or
forged one gets 401; permissions toward loopback, private, link-local and
metadata addresses get 403, except the media server's own address.
"""

from __future__ import annotations

import ipaddress
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from caucus.turn_config import DENIED_PEERS
from signaling.turn import credential
from tests.reach.certs import self_signed
from tests.reach.coturn import Coturn, free_ports, tcp_accepting, turn_config, turnserver_missing
from tests.reach.turn_probe import probe

#: a configuration and TURN allocations on loopback: no media, no timing
pytestmark = pytest.mark.shares_machine

SECRET = "coturn-and-caucus-share-this"
MEDIA_ADDRESS = "10.71.0.1"


def settings(text: str) -> list[tuple[str, str]]:
    """(option, value) per effective line of a turnserver.conf."""
    pairs = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs.append((name, value))
    return pairs


def test_the_configuration_denies_every_internal_range_but_the_media_server(
    tmp_path: Path,
) -> None:
    text = turn_config(
        SECRET,
        "--data-dir",
        str(tmp_path),
        "--realm",
        "caucus.example",
        "--external-ip",
        "198.51.100.20",
        "--media-address",
        MEDIA_ADDRESS,
        "--relay-ports",
        "50000-50999",
    )
    pairs = settings(text)
    options = dict(pairs)
    assert ("use-auth-secret", "") in pairs
    assert options["static-auth-secret"] == SECRET
    assert options["realm"] == "caucus.example"
    assert options["external-ip"] == "198.51.100.20"
    assert (options["min-port"], options["max-port"]) == ("50000", "50999")
    assert "no-multicast-peers" in options and "no-cli" in options
    denied = [value for name, value in pairs if name == "denied-peer-ip"]
    must_deny = [
        "127.0.0.1",
        "10.71.0.9",
        "172.16.5.5",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "::1",
        "fd00:ec2::254",
        "fe80::1",
        "::ffff:127.0.0.1",
    ]
    for address in must_deny:
        ip = ipaddress.ip_address(address)
        assert any(_in_range(ip, r) for r in denied), f"{address} is not denied"
    assert not any(_in_range(ipaddress.ip_address("8.8.8.8"), r) for r in denied)
    assert [v for n, v in pairs if n == "allowed-peer-ip"] == [MEDIA_ADDRESS]
    assert len(denied) == len(DENIED_PEERS)


def _in_range(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, spec: str) -> bool:
    low, _, high = spec.partition("-")
    first, last = ipaddress.ip_address(low), ipaddress.ip_address(high or low)
    return first.version == ip.version and int(first) <= int(ip) <= int(last)


def test_without_a_secret_it_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failed:
        turn_config("", "--data-dir", str(tmp_path))
    assert "set CAUCUS_TURN_SECRET" in failed.value.stderr
    assert "Traceback" not in failed.value.stderr


def test_loopback_media_addresses_are_never_allowed_as_peers(tmp_path: Path) -> None:
    text = turn_config(SECRET, "--data-dir", str(tmp_path), "--external-ip", "127.0.0.1")
    assert not [v for n, v in settings(text) if n == "allowed-peer-ip"]


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """coturn on 127.0.0.1 from `caucus turn-config`: (TURN port, TURN-over-TLS port)."""
    missing = turnserver_missing()
    if missing:
        pytest.skip(missing)
    cert, key = self_signed(tmp_path, "127.0.0.1")
    port, tls_port = free_ports(2)
    text = turn_config(
        SECRET,
        "--data-dir",
        str(tmp_path),
        "--listening-ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--tls-port",
        str(tls_port),
        "--turn-cert",
        str(cert),
        "--turn-key",
        str(key),
        "--media-address",
        MEDIA_ADDRESS,
        "--relay-ports",
        "51000-51999",
    )
    server = Coturn(tmp_path, text)
    try:
        server.wait_ready(tcp_accepting("127.0.0.1", tls_port))
        # coturn reads every line turn-config writes (it names any it does not)
        assert "Bad configuration format" not in server.text(), server.text()
        assert "CONFIG ERROR" not in server.text(), server.text()
        yield port, tls_port
    finally:
        server.stop()


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
async def test_coturn_accepts_the_credentials_caucus_mints(
    coturn: tuple[int, int], transport: str
) -> None:
    port = coturn[1] if transport == "tls" else coturn[0]
    c = credential(SECRET, "room:party_a", int(time.time()) + 600, time.time())
    result = await probe(("127.0.0.1", port), c.username, c.password, transport, [MEDIA_ADDRESS])
    assert result.allocate == 0
    assert result.relay is not None and result.relay[0] == "127.0.0.1"
    assert result.permissions == {MEDIA_ADDRESS: 0}


async def test_an_expired_or_forged_credential_is_refused(coturn: tuple[int, int]) -> None:
    now = time.time()
    expired = credential(SECRET, "room:party_a", int(now) - 5, now)
    forged = credential("another secret", "room:party_a", int(now) + 600, now)
    for c in (expired, forged):
        result = await probe(("127.0.0.1", coturn[0]), c.username, c.password, "udp", [])
        assert result.allocate == 401, c


async def test_no_relay_toward_loopback_private_or_metadata_addresses(
    coturn: tuple[int, int],
) -> None:
    c = credential(SECRET, "room:party_a", int(time.time()) + 600, time.time())
    inside = ["127.0.0.1", "10.71.0.9", "192.168.0.1", "169.254.169.254", "100.64.0.1"]
    result = await probe(("127.0.0.1", coturn[0]), c.username, c.password, "tcp", inside)
    assert result.allocate == 0
    assert result.permissions == dict.fromkeys(inside, 403)


def test_a_host_name_as_external_ip_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(subprocess.CalledProcessError) as failed:
        turn_config(SECRET, "--data-dir", str(tmp_path), "--external-ip", "turn.example.org")
    assert "coturn wants PUBLIC or PUBLIC/PRIVATE IP addresses" in failed.value.stderr
    assert "Traceback" not in failed.value.stderr
