"""The supervisor's placement (caucus/worker_placement.py) and how the front reads a
request's room (caucus/front.py): pure, no processes."""

from __future__ import annotations

import time

import pytest
from aiohttp.test_utils import make_mocked_request

from caucus.front import FrontError, room_of
from caucus.worker_placement import PENDING_S, NoLiveNode, WorkerPlacement
from caucus.workers import shifted_address, split_ports
from sessions.ids import RoomId

A, B, C = RoomId("roomAAAAAAAA"), RoomId("roomBBBBBBBB"), RoomId("roomCCCCCCCC")


def two_nodes() -> WorkerPlacement:
    placement = WorkerPlacement(["node-0", "node-1"])
    placement.node_up("node-0")
    placement.node_up("node-1")
    return placement


def test_new_rooms_go_to_the_least_loaded_node_and_stay_there() -> None:
    placement = two_nodes()
    assert placement.place(A) == "node-0"
    assert placement.place(B) == "node-1"
    assert placement.place(A) == "node-0"  # sticky
    assert placement.node_of(C) is None  # asking never places
    placement.reported("node-1", {B}, seats=4, asked_at=time.monotonic())
    assert placement.place(C) == "node-0"  # rooms tie: fewer seats wins


def test_a_report_releases_a_room_its_node_no_longer_holds_after_the_grace() -> None:
    placement = two_nodes()
    placement.place(A)
    placement.reported("node-0", set(), seats=0, asked_at=time.monotonic())
    assert placement.node_of(A) == "node-0"  # just placed: its first client may be on its way
    placement.reported("node-0", set(), seats=0, asked_at=time.monotonic() + PENDING_S + 1)
    assert placement.node_of(A) is None


def test_a_dead_nodes_rooms_wait_for_release_and_nothing_is_placed_there() -> None:
    placement = two_nodes()
    placement.place(A)
    placement.place(B)
    rooms = placement.node_down("node-0")
    assert rooms == {A}
    assert placement.node_of(A) is None and placement.placed_on_dead_node(A)
    assert placement.place(C) == "node-1"
    assert placement.home() == "node-1"
    placement.release_all(rooms)
    assert placement.place(A) == "node-1"
    placement.node_down("node-1")
    with pytest.raises(NoLiveNode):
        placement.place(RoomId("roomDDDDDDDD"))


@pytest.mark.parametrize(
    ("path", "room", "places"),
    [
        ("/socket.io/?EIO=4&transport=websocket&room=roomAAAAAAAA", A, True),
        ("/api/join/roomAAAAAAAA", A, True),
        ("/join/roomAAAAAAAA", A, False),
        ("/api/simulations/roomAAAAAAAA/end", A, True),  # ending opens the room
        ("/api/simulations/roomAAAAAAAA/end/x", A, False),
        ("/api/simulations/roomAAAAAAAA/my-seat", A, False),
        ("/api/simulations/roomAAAAAAAA.ics", A, False),
        ("/api/recordings/roomAAAAAAAA/annotations.vtt", A, False),
        ("/recordings/roomAAAAAAAA", A, False),
        ("/api/simulations", None, False),
        ("/api/live", None, False),
        ("/", None, False),
    ],
)
def test_the_front_reads_the_room_from_the_request(
    path: str, room: RoomId | None, places: bool
) -> None:
    assert room_of(make_mocked_request("GET", path)) == (room, places)


@pytest.mark.parametrize(
    "path", ["/socket.io/?EIO=4&transport=polling", "/socket.io/?room=a%2Fb&EIO=4"]
)
def test_a_socket_without_a_well_formed_room_is_refused(path: str) -> None:
    with pytest.raises(FrontError) as refused:
        room_of(make_mocked_request("GET", path))
    assert (refused.value.code, refused.value.status) == ("bad_request", 400)


def test_udp_ports_are_shared_out_and_a_range_too_small_is_refused() -> None:
    assert split_ports("40000-40999", 2) == ["40000-40499", "40500-40999"]
    assert split_ports("", 3) == ["", "", ""]
    with pytest.raises(ValueError, match="fewer ports"):
        split_ports("40000-40001", 3)
    assert shifted_address("10.0.0.5:9464", 2) == "10.0.0.5:9466"
    assert shifted_address("", 2) == ""
