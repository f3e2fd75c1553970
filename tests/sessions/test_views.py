"""What each seat is shown: its own brief only, and no hidden roles it cannot hear."""

from __future__ import annotations

import pytest

from sessions.ids import SeatId
from sessions.views import view_for
from tests.builders import in_phase, room_with


@pytest.mark.parametrize("seat", ["mediator", "party_a", "party_b"])
def test_a_trainee_sees_only_their_own_brief(seat: str) -> None:
    view = view_for(room_with(), SeatId(seat), now_ms=0)
    assert view["briefs"] == {seat: f"BRIEF-{seat}"}
    assert "BRIEF-" not in str({k: v for k, v in view.items() if k != "briefs"})


def test_the_coach_reads_every_brief() -> None:
    briefs = view_for(room_with(), SeatId("coach"), now_ms=0)["briefs"]
    assert set(briefs) == {"mediator", "party_a", "party_b", "coach", "observer"}


def test_an_observer_reads_the_observer_brief() -> None:
    assert view_for(room_with(), SeatId("observer_1"), 0)["briefs"] == {
        "observer": "BRIEF-observer"
    }


def roster(room_phase: list[str], viewer: str) -> set[str]:
    room = in_phase(room_with(), *room_phase)
    return {p["seat"] for p in view_for(room, SeatId(viewer), 0)["roster"]}


def test_a_hidden_coach_is_absent_from_trainee_rosters_during_the_role_play() -> None:
    assert roster(["joint"], "party_a") == {"mediator", "party_a", "party_b"}
    assert roster(["joint", "caucus:party_a"], "party_b") == {"mediator", "party_a", "party_b"}


def test_the_coach_appears_when_speaking_to_everyone() -> None:
    assert "coach" in roster(["joint", "timeout"], "party_a")


def test_the_coach_sees_everyone_present() -> None:
    assert roster(["joint"], "coach") == {
        "mediator",
        "party_a",
        "party_b",
        "coach",
        "observer_1",
        "admin",
    }


def test_the_view_tells_whom_the_viewer_receives() -> None:
    room = in_phase(room_with(), "joint", "caucus:party_a")
    assert view_for(room, SeatId("party_b"), 0)["receiving"] == []
    assert view_for(room, SeatId("party_a"), 0)["receiving"] == ["mediator"]
    assert view_for(room, SeatId("party_b"), 0)["phase"]["name"] == "caucus:party_a"


def test_the_rubric_is_shown_only_to_those_who_annotate() -> None:
    assert view_for(room_with(), SeatId("party_a"), 0)["scenario"]["rubric"] == []
    assert view_for(room_with(), SeatId("coach"), 0)["scenario"]["rubric"]
