"""What a well-formed cohort is: a name, dates in order, bounded requirements."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessions.cohorts import COUNT_MAX, Cohort, InvalidCohort, Requirements, shows_email
from sessions.people import CohortRole

SPRING = {"name": "Spring 2027", "starts_on": "2027-03-01", "ends_on": "2027-06-30"}


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "mediator_sessions": st.integers(0, COUNT_MAX),
            "party_sessions": st.integers(0, COUNT_MAX),
            "hours": st.integers(0, COUNT_MAX),
            "feedback_read": st.booleans(),
            "reflections": st.booleans(),
        },
    )
)
def test_requirements_in_bounds_round_trip(data: dict[str, Any]) -> None:
    requirements = Requirements.from_dict(data)
    assert Requirements.from_dict(requirements.to_dict()) == requirements
    assert {k: v for k, v in requirements.to_dict().items() if k in data} == data


@given(
    st.sampled_from(["mediator_sessions", "party_sessions", "hours"]),
    st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=COUNT_MAX + 1),
        st.floats(),
        st.booleans(),
        st.text(),
        st.none(),
    ),
)
def test_a_count_out_of_bounds_or_not_whole_is_refused_by_name(key: str, value: object) -> None:
    with pytest.raises(InvalidCohort) as refused:
        Requirements.from_dict({key: value})
    assert refused.value.field == f"requirements.{key}"


@given(st.dates(), st.integers(0, 3660))
def test_a_cohort_may_last_from_one_day_to_ten_years(start: datetime.date, days: int) -> None:
    end = start + datetime.timedelta(days=days) if start.year < 9980 else start
    cohort = Cohort.from_dict(
        "c1", SPRING | {"starts_on": start.isoformat(), "ends_on": end.isoformat()}, 0
    )
    assert (cohort.starts_on, cohort.ends_on) == (start, end)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "é" * 121}, "name"),
        ({"name": None}, "name"),
        ({"starts_on": "2027-3-1"}, "starts_on"),
        ({"starts_on": 20270301}, "starts_on"),
        ({"ends_on": "2027-13-01"}, "ends_on"),
        ({"ends_on": "2027-02-28"}, "ends_on"),
        ({"requirements": {"certificates": 1}}, "requirements.certificates"),
        ({"requirements": None}, "requirements"),
    ],
)
def test_a_malformed_cohort_names_its_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidCohort) as refused:
        Cohort.from_dict("c1", SPRING | change, 0)
    assert refused.value.field == field
    with pytest.raises(InvalidCohort) as refused:
        Cohort.from_dict("c1", SPRING, 0).changed(change)
    assert refused.value.field == field


def test_a_name_is_trimmed_and_one_day_courses_are_allowed() -> None:
    cohort = Cohort.from_dict("c1", SPRING | {"name": "  Intro  ", "ends_on": "2027-03-01"}, 5)
    assert cohort.to_dict() == {
        "id": "c1",
        "name": "Intro",
        "starts_on": "2027-03-01",
        "ends_on": "2027-03-01",
        "requirements": Requirements().to_dict(),
        "created_ms": 5,
    }


@given(st.sampled_from([None, *CohortRole]), st.sampled_from(["ana", "kofi", None]))
def test_only_a_trainee_is_kept_from_other_members_emails(
    role: CohortRole | None, viewer: str | None
) -> None:
    for member in ("ana", "kofi"):
        assert shows_email(role, viewer, member) == (
            role is not CohortRole.TRAINEE or viewer == member
        )
    assert shows_email(CohortRole.TRAINEE, "ana", "ana")
    assert not shows_email(CohortRole.TRAINEE, "ana", "kofi")
    assert shows_email(CohortRole.COACH, "lin", "kofi") and shows_email(None, None, "kofi")
