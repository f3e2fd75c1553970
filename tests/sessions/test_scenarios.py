"""The shipped scenarios load, and every seat's brief is its own."""

from __future__ import annotations

import pytest

from sessions.errors import InvalidScenario
from sessions.scenarios import ObserverView, Scenario, builtin_scenarios

SHIPPED = builtin_scenarios()


def test_three_scenarios_ship() -> None:
    assert set(SHIPPED) == {"boundary-fence", "workplace-rota", "bakery-supply"}


@pytest.mark.parametrize("scenario", SHIPPED.values(), ids=lambda s: s.id)
def test_a_shipped_scenario_is_complete(scenario: Scenario) -> None:
    seats = ["mediator", *scenario.party_seats]
    assert all(len(scenario.briefs[seat].split()) >= 100 for seat in seats)
    assert len({scenario.briefs[seat] for seat in seats}) == len(seats)  # all different
    assert 6 <= len(scenario.rubric) <= 8
    assert len({s.id for s in scenario.rubric}) == len(scenario.rubric)
    assert scenario.plan and all(step.minutes > 0 for step in scenario.plan)


def test_one_scenario_lets_observers_watch_caucuses() -> None:
    views = [s.observer_view for s in SHIPPED.values()]
    assert views.count(ObserverView.ALL) == 1


VALID = {
    "id": "x",
    "title": "T",
    "summary": "S",
    "parties": [
        {"seat": "party_a", "name": "A", "label": "a"},
        {"seat": "party_b", "name": "B", "label": "b"},
    ],
    "briefs": {"mediator": "m", "party_a": "a", "party_b": "b"},
    "rubric": [{"id": "listening", "name": "Listening"}],
    "phase_plan": [{"phase": "caucus", "seat": "party_a", "minutes": 5}],
}


@pytest.mark.parametrize(
    "change",
    [
        {"id": "Bad Id"},
        {"parties": list(VALID["parties"])[:1]},
        {"parties": [{"seat": "party_b", "name": "B", "label": "b"}] * 2},
        {"briefs": {"mediator": "m", "party_a": "a"}},
        {"rubric": [{"id": "Not Snake", "name": "x"}]},
        {"phase_plan": [{"phase": "caucus", "seat": "party_c", "minutes": 5}]},
        {"phase_plan": [{"phase": "lobby", "minutes": 5}]},
        {"phase_plan": [{"phase": "joint", "minutes": 0}]},
        {"phase_plan": [{"phase": "recess", "minutes": 5}]},
        {"observers": "some"},
        {"title": None} | {"summary": None},
    ],
)
def test_a_malformed_scenario_is_refused(change: dict[str, object]) -> None:
    Scenario.from_dict(VALID)
    data = {**VALID, **change}
    if data.get("title") is None:
        del data["title"]
    with pytest.raises(InvalidScenario):
        Scenario.from_dict(data)
