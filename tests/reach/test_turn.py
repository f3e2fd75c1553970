"""TURN REST credentials: the format coturn checks, the expiry clamp, and who gets them."""

from __future__ import annotations

import base64
import subprocess
import time
from pathlib import Path

import pytest

from caucus.app import NAMESPACE
from sessions.ids import RoomId, SeatId
from signaling.turn import MAX_CREDENTIAL_S, IceServerPolicy, credential
from tests.live_server import Participant, start_server

SECRET = "shared-with-coturn"
URLS = "turn:turn.example:3478?transport=udp,turns:turn.example:443?transport=tcp"
NOW = 1_800_000_000


def openssl_hmac_sha1(secret: str, message: str) -> str:
    """The password as an independent implementation (openssl) computes it."""
    digest = subprocess.run(
        ["openssl", "dgst", "-sha1", "-hmac", secret, "-binary"],
        input=message.encode(),
        capture_output=True,
        check=True,
        timeout=10,
    ).stdout
    return base64.b64encode(digest).decode()


def test_the_password_is_base64_hmac_sha1_of_the_username() -> None:
    c = credential(SECRET, "room1:party_a", NOW + 3600, NOW)
    assert c.username == f"{NOW + 3600}:room1:party_a"
    assert c.password == openssl_hmac_sha1(SECRET, c.username)


@pytest.mark.parametrize(
    ("token_left_s", "credential_left_s"),
    [(3600, 3600), (7 * 24 * 3600, MAX_CREDENTIAL_S), (MAX_CREDENTIAL_S + 1, MAX_CREDENTIAL_S)],
)
def test_a_credential_lives_as_long_as_the_token_but_at_most_a_day(
    token_left_s: int, credential_left_s: int
) -> None:
    c = credential(SECRET, "someone", NOW + token_left_s, NOW)
    assert c.expires_at == NOW + credential_left_s
    assert c.username.startswith(f"{NOW + credential_left_s}:")


def test_each_identity_gets_its_own_credential() -> None:
    policy = IceServerPolicy.from_settings("stun:stun.example:3478", URLS, SECRET)
    a = policy.for_seat("r:party_a", NOW + 60, NOW)
    b = policy.for_seat("r:party_b", NOW + 60, NOW)
    assert a[0] == {"urls": ["stun:stun.example:3478"]}
    assert a[1]["urls"] == URLS.split(",")
    assert a[1]["credential"] != b[1]["credential"]


def test_turn_is_off_by_default_and_stun_alone_needs_no_secret() -> None:
    assert IceServerPolicy().for_seat("x", NOW + 60, NOW) == []
    stun_only = IceServerPolicy.from_settings("stun:stun.example:3478", "", "")
    assert stun_only.for_seat("x", NOW + 60, NOW) == [{"urls": ["stun:stun.example:3478"]}]


@pytest.mark.parametrize(
    ("stun", "urls", "secret", "says"),
    [
        ("", "http://turn.example", SECRET, "is not a turn: or turns: URL"),
        ("turn.example:3478", "", "", "is not a stun: URL"),
        ("", URLS, "", "needs CAUCUS_TURN_SECRET"),
    ],
)
def test_a_bad_setting_is_a_clear_error(stun: str, urls: str, secret: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        IceServerPolicy.from_settings(stun, urls, secret)


async def test_a_seated_client_gets_ice_servers_in_its_ack_and_every_offer_others_none(
    tmp_path: Path,
) -> None:
    server = await start_server(
        tmp_path,
        media=True,
        ice_addresses="127.0.0.1",
        turn_secret=SECRET,
        turn_urls=URLS,
        stun_url="stun:stun.example:3478",
    )
    room = await server.simulation()
    seated = Participant("party_a", server.token(room, "party_a"), room)
    stranger = Participant("party_b", "not-a-token", room)
    try:
        await stranger.connect(server.url)
        refused = await stranger.join()
        assert not refused["ok"] and "iceServers" not in refused

        await seated.connect(server.url)
        reply = await seated.join()
        assert reply["ok"], reply
        stun, turn = reply["iceServers"]
        assert stun == {"urls": ["stun:stun.example:3478"]}
        expiry, identity = turn["username"].split(":", 1)
        assert identity == f"{room}:party_a"
        assert 0 < int(expiry) - time.time() <= MAX_CREDENTIAL_S
        assert turn["credential"] == openssl_hmac_sha1(SECRET, turn["username"])

        offers = [data for event, data in seated.received if event == "media_offer"]
        assert offers, "the first offer goes out before the join is acknowledged"
        assert offers[0]["iceServers"][1]["urls"] == URLS.split(",")
        assert offers[0]["iceServers"][1]["username"].endswith(f":{room}:party_a")
        # nothing reached the socket that never sat down
        assert not any(event == "media_offer" for event, _ in stranger.received)

    finally:
        await seated.close()
        await stranger.close()
        await server.stop()


async def test_after_leaving_a_seat_no_credentials_are_minted_for_it(tmp_path: Path) -> None:
    server = await start_server(tmp_path, turn_secret=SECRET, turn_urls=URLS)
    room = await server.simulation()
    person = Participant("party_a", server.token(room, "party_a"), room)
    try:
        await person.connect(server.url)
        assert (await person.join())["ok"]
        namespace = server.app[NAMESPACE]
        assert namespace.ice_servers(RoomId(room), SeatId("party_a"))
        assert (await person.call("leave", {}))["ok"]
        assert namespace.ice_servers(RoomId(room), SeatId("party_a")) == []
        assert namespace.ice_servers(RoomId(room), SeatId("party_b")) == []
    finally:
        await person.close()
        await server.stop()
