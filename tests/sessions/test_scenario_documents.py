"""Scenario documents written in the console: one validator, a field named in every refusal,
and one live catalogue of shipped and written scenarios."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessions.errors import InvalidScenario
from sessions.ids import ScenarioId
from sessions.scenarios import (
    ReadOnlyScenario,
    Scenario,
    ScenarioCatalogue,
    ScenarioFieldError,
    builtin_scenarios,
    parse_scenario,
)

SHIPPED = builtin_scenarios()
BAKERY = SHIPPED[ScenarioId("bakery-supply")].to_dict()


@pytest.mark.parametrize("scenario", SHIPPED.values(), ids=lambda s: s.id)
def test_a_shipped_scenario_survives_its_own_document(scenario: Scenario) -> None:
    assert parse_scenario(scenario.to_dict()) == scenario


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
PATHS = [
    ("id",), ("title",), ("summary",), ("parties",), ("parties", 0), ("parties", 1, "name"),
    ("parties", 0, "seat"), ("briefs",), ("briefs", "mediator"), ("briefs", "coach"),
    ("rubric",), ("rubric", 0), ("rubric", 0, "id"), ("phase_plan",), ("phase_plan", 0),
    ("phase_plan", 1, "seat"), ("phase_plan", 0, "minutes"), ("observers",), ("coach_hidden",),
]  # fmt: skip


@given(st.sampled_from(PATHS), JSON)
def test_any_change_to_a_document_parses_or_is_refused_with_a_field(
    path: tuple[Any, ...], value: object
) -> None:
    document: Any = copy.deepcopy(BAKERY)
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        parse_scenario(document)
    except ScenarioFieldError as refused:
        assert refused.field and refused.message


def test_a_refusal_is_an_invalid_scenario_with_the_field_path() -> None:
    document = copy.deepcopy(BAKERY)
    document["rubric"][3]["id"] = "Neutrality!"
    with pytest.raises(InvalidScenario) as refused:
        Scenario.from_dict(document)
    assert isinstance(refused.value, ScenarioFieldError)
    assert refused.value.field == "rubric[3].id"
    document = copy.deepcopy(BAKERY) | {"rubric": BAKERY["rubric"] + BAKERY["rubric"][:1]}
    with pytest.raises(ScenarioFieldError) as refused:
        parse_scenario(document)
    assert refused.value.field == "rubric[7].id"
    assert "two rubric items" in refused.value.message
    with pytest.raises(ScenarioFieldError) as refused:
        parse_scenario([BAKERY])
    assert refused.value.field == "scenario"


def test_blank_optional_briefs_are_left_out_and_text_is_trimmed() -> None:
    document = copy.deepcopy(BAKERY)
    document["briefs"] |= {"coach": "  ", "observer": ""}
    document["title"] = "  Late flour  "
    scenario = parse_scenario(document)
    assert set(scenario.briefs) == {"mediator", "party_a", "party_b"}
    assert scenario.title == "Late flour"


def test_the_catalogue_serves_shipped_and_written_scenarios_and_guards_the_shipped() -> None:
    catalogue = ScenarioCatalogue(SHIPPED)
    written = parse_scenario(BAKERY | {"id": "bakery-two", "title": "Bakery two"})
    catalogue.put(written)
    assert list(catalogue) == [*SHIPPED, "bakery-two"]
    assert catalogue[ScenarioId("bakery-two")] is written and len(catalogue) == 4
    assert catalogue.is_builtin("bakery-supply") and not catalogue.is_builtin("bakery-two")
    with pytest.raises(ReadOnlyScenario):
        catalogue.put(parse_scenario(BAKERY | {"title": "Changed"}))
    catalogue.discard("bakery-two")
    assert "bakery-two" not in catalogue
    shadow = parse_scenario(BAKERY | {"title": "A stored copy under a shipped id"})
    catalogue.load([shadow, written])
    assert catalogue[ScenarioId("bakery-supply")] == SHIPPED[ScenarioId("bakery-supply")]
    assert list(catalogue) == [*SHIPPED, "bakery-two"]
