"""/metrics (issue 17 item 4): a real server, two aiortc seats exchanging media over
lossy links, the Prometheus text parsed by Prometheus's own parser; the token and the
separate address; the Grafana dashboard against what the server exports."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterable
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from caucus.app import NODE_METRICS, create_app
from caucus.config import Config
from sessions.ids import RoomId, SeatId
from sessions.link_trouble import LinkSample
from sessions.media_kinds import MediaKind
from tests.impairment import LinkProfile
from tests.live_server import LiveServer, Participant, start_server
from tests.media.media_harness import ClientParticipant
from tests.media.synthetic import COACH, MEDIATOR, PARTY_A, SentLog
from tests.system.socket_signal import SocketSignal

TOKEN = "scrape-me-please"
EXCHANGE_S = 3.0
#: each way on each seat's link: enough for NACKs, repairs and retransmissions in 3 s
LOSS = 0.05
DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-caucus.json"

Families = dict[str, Metric]


async def get(url: str, token: str | None = TOKEN) -> tuple[int, str, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers=headers) as response:
            return response.status, await response.text(), dict(response.headers)


async def scrape(base_url: str, token: str | None = TOKEN) -> Families:
    status, text, headers = await get(base_url + "/metrics", token)
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/plain; version=")
    return {family.name: family for family in text_string_to_metric_families(text)}


def value(families: Families, sample: str, **labels: str) -> float:
    """The sum of the samples named `sample` whose labels include `labels`."""
    family = families[re.sub(r"_(total|bucket|count|sum|created)$", "", sample)]
    return sum(
        s.value
        for s in family.samples
        if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items())
    )


def sample_names(families: Iterable[Metric]) -> set[str]:
    """Every sample name a family can show, whether or not it has samples yet."""
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "summary": ("_count", "_sum", ""),
        "gauge": ("",),
        "unknown": ("",),
    }
    return {f.name + suffix for f in families for suffix in suffixes.get(f.type, ("",))}


class Seat:
    """A seat's socket and its aiortc peer connection, both ways through a lossy link."""

    def __init__(self, server: LiveServer, room: RoomId, seat: SeatId, sent: SentLog) -> None:
        self.socket = Participant(seat, server.token(room, seat), room)
        self.socket.rejoin = False
        link = LinkProfile(loss=LOSS)
        self.media = ClientParticipant(
            seat,
            SocketSignal(self.socket),
            sent,
            room=room,
            link=(link, link),
            seed=len(seat),
            decode=False,  # arrivals are matched to what was sent by hash
        )
        self.socket.client.on("media_offer", self.media.on_offer)


def both_seats_hear_each_other(seats: dict[SeatId, Seat]) -> bool:
    other = {MEDIATOR: PARTY_A, PARTY_A: MEDIATOR}
    return all(
        {(other[seat], MediaKind.AUDIO), (other[seat], MediaKind.VIDEO)} <= s.media.received_from()
        for seat, s in seats.items()
    )


async def test_a_session_of_two_seats_shows_in_the_metrics(tmp_path: Path) -> None:
    server = await start_server(
        tmp_path, media=True, ice_addresses="127.0.0.1", metrics_token=TOKEN
    )
    sent = SentLog()
    seats: dict[SeatId, Seat] = {}
    try:
        room = await server.simulation()
        for seat in (MEDIATOR, PARTY_A):
            seats[seat] = Seat(server, room, seat, sent)
            await seats[seat].socket.connect(server.url)
            assert (await seats[seat].socket.join())["ok"]
        async with asyncio.timeout(30):
            for s in seats.values():
                await s.media.connected.wait()
        await recorded_joint_session(server, room, seats)
        await sent.wait_until(lambda: both_seats_hear_each_other(seats), 20)
        flowing = time.monotonic()
        # a few seconds of media both ways (re-checked on every frame sent or received)
        await sent.wait_until(lambda: time.monotonic() - flowing >= EXCHANGE_S, 20)
        await sampled_links(server, room, seats)
        # a client's mistake, answered with its code
        reply = await seats[MEDIATOR].socket.call("no_such_event", {})
        assert reply["code"] == "unknown_event"
        assert (await get(server.url + "/healthz", None))[0] == 200

        first = await scrape(server.url)
        families = await scrape(server.url)

        assert value(families, "caucus_rooms_live") == 1
        assert value(families, "caucus_seats_connected") == 2
        assert value(families, "caucus_media_seats_connected") == 2
        for counter in (
            "caucus_received_packets_total",
            "caucus_received_bytes_total",
            "caucus_forwarded_packets_total",
            "caucus_forwarded_bytes_total",
            "caucus_keyframe_requests_sent_total",
            "caucus_recording_bytes_total",
            "caucus_recording_frames_total",
        ):
            assert value(families, counter) > 0, counter
        assert value(families, "caucus_forwarded_bytes_total") > value(
            families, "caucus_forwarded_packets_total"
        )
        # the lossy links: the server NACKs publishers and answers subscribers' NACKs
        for counter in (
            "caucus_packets_lost_total",
            "caucus_nacks_sent_total",
            "caucus_nacked_packets_total",
            "caucus_packets_repaired_total",
            "caucus_retransmission_requests_total",
            "caucus_retransmissions_total",
        ):
            assert value(families, counter) > 0, counter
        assert value(families, "caucus_packets_lost_total") >= value(
            families, "caucus_packets_repaired_total"
        )
        assert value(families, "caucus_seat_loss_ratio_sum") > 0
        # every other family of the issue is there, moving or not
        for family in (
            "caucus_retransmissions_missed",
            "caucus_keyframe_requests_received",
            "caucus_recording_failures",
            "caucus_recording_frames_dropped",
            "caucus_recording_queue_frames",
            "caucus_catalogue_writes_deferred",
            "caucus_catalogue_writes_pending",
            "caucus_forwarding_delay_seconds",
            "caucus_seat_rtt_seconds",
            "process_cpu_seconds",
            "process_resident_memory_bytes",
        ):
            assert family in families, family
        assert value(families, "caucus_forwarding_delay_seconds_count") > 0
        assert value(families, "caucus_seat_loss_ratio_count") >= 2  # a sample per seat
        assert value(families, "caucus_event_loop_lag_seconds_count") >= EXCHANGE_S / 0.5 - 1
        assert value(families, "caucus_signalling_events_total", event="join") == 3
        assert value(families, "caucus_signalling_events_total", event="phase") == 1
        assert value(families, "caucus_signalling_events_total", event="media_answer") >= 2
        assert value(families, "caucus_signalling_events_total", event="connect") == 3
        assert value(families, "caucus_signalling_events_total", event="disconnect") == 1
        assert (
            value(families, "caucus_signalling_errors_total", event="other", code="unknown_event")
            == 1
        )
        assert value(families, "caucus_signalling_errors_total", event="join") == 0
        assert (
            value(
                families, "caucus_http_requests_total", method="GET", route="/healthz", status="200"
            )
            == 1
        )
        assert (
            value(families, "caucus_http_requests_total", route="/metrics", status="200")
            == value(first, "caucus_http_requests_total", route="/metrics", status="200") + 1
        )
        assert value(families, "process_cpu_seconds_total") > 0
        assert value(families, "process_resident_memory_bytes") > 0
    finally:
        for s in seats.values():
            await s.media.close()
            await s.socket.close()
        await server.stop()


async def recorded_joint_session(
    server: LiveServer, room: RoomId, seats: dict[SeatId, Seat]
) -> None:
    """Both trainees consent and a coach (signalling only) starts the joint session and
    leaves: the two seats are recorded from then on."""
    for s in seats.values():
        assert (await s.socket.call("consent", {"recording": True}))["ok"]
    coach = Participant(COACH, server.token(room, COACH), room)
    coach.rejoin = False
    await coach.connect(server.url)
    try:
        assert (await coach.join())["ok"]
        assert (await coach.call("phase", {"to": "joint"}))["ok"]
        assert (await coach.call("leave"))["ok"]
    finally:
        await coach.close()


async def sampled_links(server: LiveServer, room: RoomId, seats: Iterable[SeatId]) -> None:
    """Sample each seat's link now, as the link watch does every 2 s."""
    links = server.app[NODE_METRICS].links
    assert links is not None
    samples: list[LinkSample] = []
    links.on_sample.append(lambda room_id, seat, sample: samples.append(sample))
    for seat in seats:
        await links.sample_seat(room, seat)
    assert samples, "no seat was sampled"


async def test_without_the_token_metrics_are_refused(tmp_path: Path) -> None:
    server = await start_server(tmp_path, metrics_token=TOKEN)
    try:
        for token in (None, "", "wrong", TOKEN + "x"):
            status, body, headers = await get(server.url + "/metrics", token)
            assert status == 401, (token, body)
            assert json.loads(body)["code"] == "unauthorized"
            assert headers["WWW-Authenticate"].startswith("Bearer")
        assert "caucus_rooms_live" in await scrape(server.url)
    finally:
        await server.stop()


async def test_with_an_address_of_their_own_metrics_are_served_only_there(
    tmp_path: Path,
) -> None:
    server = await start_server(tmp_path, metrics_address="127.0.0.1:0")
    try:
        listener = server.app[NODE_METRICS].listener
        assert listener is not None and listener.port != 0
        own = f"http://127.0.0.1:{listener.port}"
        assert (await get(server.url + "/metrics", None))[0] == 404
        assert (await get(server.url + "/metrics"))[0] == 404  # a token changes nothing here
        families = await scrape(own, token=None)
        assert value(families, "caucus_rooms_live") == 0
        assert (await get(own + "/healthz", None))[0] == 404  # the listener serves metrics only
        assert (await get(own + "/", None))[0] == 404
    finally:
        await server.stop()
    # closed with the server
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(own + "/metrics", None)


async def test_an_address_and_a_token_ask_for_the_token_there_too(tmp_path: Path) -> None:
    server = await start_server(tmp_path, metrics_address="127.0.0.1:0", metrics_token=TOKEN)
    try:
        listener = server.app[NODE_METRICS].listener
        assert listener is not None
        own = f"http://127.0.0.1:{listener.port}"
        assert (await get(own + "/metrics", None))[0] == 401
        assert "caucus_seats_connected" in await scrape(own)
        assert (await get(server.url + "/metrics"))[0] == 404
    finally:
        await server.stop()


async def test_without_a_token_or_an_address_metrics_are_off(tmp_path: Path) -> None:
    server = await start_server(tmp_path)
    try:
        assert NODE_METRICS not in server.app
        status, body, _ = await get(server.url + "/metrics")
        assert status == 404 and json.loads(body)["code"] == "not_found"
    finally:
        await server.stop()


@pytest.mark.parametrize("address", ["9464", "host:", ":9464", "host:port", "h:70000"])
def test_a_malformed_metrics_address_is_refused_before_anything_opens(
    tmp_path: Path, address: str
) -> None:
    with pytest.raises(ValueError, match="CAUCUS_METRICS_ADDRESS"):
        create_app(Config(data_dir=tmp_path, media=False, metrics_address=address))


def test_the_settings_come_from_the_environment(tmp_path: Path) -> None:
    env = {"CAUCUS_METRICS_TOKEN": "t0k", "CAUCUS_METRICS_ADDRESS": "10.0.0.5:9464"}
    config = Config.from_env(env, load_secrets=False, data_dir=tmp_path)
    assert (config.metrics_token, config.metrics_address) == ("t0k", "10.0.0.5:9464")
    assert "t0k" not in repr(config)


def dashboard_expressions(dashboard: dict[str, object]) -> list[str]:
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, item in node.items():
                if key in ("expr", "query") and isinstance(item, str):
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(dashboard)
    return found


async def test_the_grafana_dashboard_asks_only_for_metrics_the_server_exports(
    tmp_path: Path,
) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len(panels) >= 12
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
    server = await start_server(
        tmp_path, media=True, ice_addresses="127.0.0.1", metrics_token=TOKEN
    )
    try:
        exported = sample_names((await scrape(server.url)).values())
    finally:
        await server.stop()
    expressions = dashboard_expressions(dashboard)
    asked = {
        name
        for expr in expressions
        for name in re.findall(r"\b(?:caucus|process)_[a-z0-9_]+", expr)
    }
    assert len(asked) >= 20, asked
    assert asked - exported == set(), "the dashboard asks for metrics nobody exports"
