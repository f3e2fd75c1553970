"""The logbook's rules without storage: entries from a completed simulation, the feedback
each may count, and hand-written entries checked field by field."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sessions.annotations import may_see
from sessions.ids import SeatId
from sessions.logbook import (
    DAY_MS,
    MAX_REFLECTION_CHARS,
    Completed,
    Entry,
    FeedbackReceived,
    InvalidEntry,
    LogRole,
    Medium,
    Reflections,
    Source,
    completed_entries,
    log_role_of,
    manual_entry,
    reflections,
    storable,
    totals,
)
from sessions.review import phase_bands
from sessions.scenarios import ObserverView

NOW = 1_780_000_000_000
T0 = NOW - 3 * 3600_000
SEATS = ("mediator", "party_a", "party_b", "coach", "observer_1")
PEOPLE = {seat: f"person-{seat}" for seat in SEATS}


def joined(seat: str, identity: str, name: str, t_ms: int = 500) -> dict[str, Any]:
    return {"kind": "join", "seat": seat, "identity": identity, "name": name, "t_ms": t_ms}


TIMELINE = [
    *(joined(seat, PEOPLE[seat], seat.title()) for seat in SEATS),
    {"kind": "phase", "phase": "joint", "t_ms": 60_000},
    {"kind": "phase", "phase": "caucus:party_a", "t_ms": 600_000},
    {"kind": "phase", "phase": "joint", "t_ms": 900_000},
    {"kind": "phase", "phase": "ended", "t_ms": 2_760_000},
]


def completed(notes: list[dict[str, Any]] | None = None, **kw: Any) -> Completed:
    facts: dict[str, Any] = {
        "simulation_id": "sim",
        "scenario_title": "The Fence on Alder Lane",
        "observer_view": ObserverView.JOINT_ONLY,
        "t0_ms": T0,
        "end_ms": 2_760_000,
        "timeline": TIMELINE,
        "notes": notes or [],
        "skill_names": {"opening_statement": "Opening statement"},
    }
    return Completed(**{**facts, **kw})


def is_person(identity: str) -> bool:
    return identity.startswith("person-")


@pytest.mark.parametrize(
    ("seat", "role"),
    [
        ("mediator", LogRole.LEAD_MEDIATOR),
        ("party_a", LogRole.PARTY),
        ("party_d", LogRole.PARTY),
        ("observer_3", LogRole.OBSERVER),
        ("coach", LogRole.COACH),
        ("admin", None),
        ("judge", None),
    ],
)
def test_each_seat_maps_to_the_logbooks_vocabulary(seat: str, role: LogRole | None) -> None:
    assert log_role_of(seat) is role


def test_each_signed_in_participant_gets_an_entry_in_the_logbooks_words() -> None:
    found = completed_entries(completed(), is_person)

    assert set(found) == set(PEOPLE.values())
    mediator = found["person-mediator"]
    assert (mediator.role, mediator.medium, mediator.source) == (
        LogRole.LEAD_MEDIATOR,
        Medium.ONLINE,
        Source.CAUCUS,
    )
    assert mediator.at_ms == T0 + 60_000  # when the role-play began, not the lobby
    assert mediator.duration_min == 45
    assert mediator.coach == "Coach" and mediator.scenario == "The Fence on Alder Lane"
    # a trainee's list never names who observed; the coach's names everyone
    assert mediator.co_participants == ("Party_A", "Party_B")
    assert found["person-coach"].co_participants == ("Mediator", "Party_A", "Party_B", "Observer_1")
    assert found["person-observer_1"].role is LogRole.OBSERVER
    assert found["person-coach"].role is LogRole.COACH


def test_a_guest_by_link_keeps_no_logbook_and_the_last_seat_held_counts() -> None:
    timeline = [
        joined("party_a", "room:party_a", "Guest"),
        joined("mediator", "person-x", "Xu"),
        joined("party_b", "person-x", "Xu", t_ms=900),
        joined("mediator", "person-x", "Xu", t_ms=1_000),  # moved back
        {"kind": "ended", "t_ms": 120_000},
    ]
    found = completed_entries(completed(timeline=timeline, end_ms=120_000), is_person)
    assert set(found) == {"person-x"}
    assert found["person-x"].role is LogRole.LEAD_MEDIATOR
    assert found["person-x"].co_participants == ("Guest",)
    assert found["person-x"].duration_min == 2  # never left the lobby: from t0


def note(target: str, t_ms: int, visibility: str, **kw: Any) -> dict[str, Any]:
    return {
        "t_ms": t_ms,
        "target": target,
        "visibility": visibility,
        "author": "person-coach",
        "skill": None,
        "rating": None,
        **kw,
    }


def test_feedback_counts_only_notes_addressed_to_the_seat_that_its_holder_may_see() -> None:
    notes = [
        note("mediator", 100_000, "target", skill="opening_statement", rating=4),
        note("mediator", 200_000, "all", skill="opening_statement", rating=5),
        note("mediator", 300_000, "coach", skill="opening_statement", rating=1),  # staff only
        note("party_a", 700_000, "target"),  # in party_a's own caucus
        note("party_b", 700_000, "all"),  # inside party_a's caucus: party_b never sees it
        note("party_b", 1_000_000, "target", skill="active_listening", rating=3),
    ]
    found = completed_entries(completed(notes), is_person)
    mediator = found["person-mediator"].feedback
    assert mediator.count == 2
    [rating] = mediator.ratings
    assert (rating.skill, rating.name, rating.average, rating.count) == (
        "opening_statement",
        "Opening statement",
        4.5,
        2,
    )
    assert found["person-party_a"].feedback.count == 1
    assert found["person-party_b"].feedback == FeedbackReceived(
        1, found["person-party_b"].feedback.ratings
    )
    assert found["person-party_b"].feedback.ratings[0].name == "active_listening"
    assert found["person-coach"].feedback.count == 0  # feedback is what trainees receive


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["mediator", "party_a", "party_b", "observer_1"]),
            st.integers(0, 2_760_000),
            st.sampled_from(["coach", "target", "all"]),
            st.sampled_from(["person-coach", "person-mediator", "person-party_a"]),
            st.one_of(st.none(), st.integers(1, 5)),
        ),
        max_size=25,
    )
)
def test_an_entry_never_counts_a_note_its_owner_may_not_see(
    drawn: list[tuple[str, int, str, str, int | None]],
) -> None:
    notes = [
        note(
            target, t, visibility, author=author, skill="opening_statement" if r else None, rating=r
        )
        for target, t, visibility, author, r in drawn
    ]
    facts = completed(notes)
    bands = phase_bands(TIMELINE, facts.end_ms)
    found = completed_entries(facts, is_person)
    for seat in ("mediator", "party_a", "party_b"):
        identity = PEOPLE[seat]
        seen = [
            n
            for n in notes
            if n["target"] == seat
            and n["author"] != identity
            and may_see(n, SeatId(seat), identity, bands, ObserverView.JOINT_ONLY)
        ]
        feedback = found[identity].feedback
        assert feedback.count == len(seen)
        assert sum(r.count for r in feedback.ratings) == sum(1 for n in seen if n["rating"])
        for r in feedback.ratings:
            assert 1 <= r.average <= 5


# --- hand-written entries ---------------------------------------------------------------------


def fields(**kw: Any) -> dict[str, Any]:
    return {
        "at_ms": NOW - DAY_MS,
        "duration_min": 90,
        "role": "co-mediator",
        "medium": "face-to-face",
        "scenario": "Community centre",
        **kw,
    }


def test_a_valid_manual_entry_keeps_its_fields() -> None:
    entry = manual_entry(
        fields(coach="  Ruth ", co_participants=["Kip", " ", "Mei"], went_well="calm"), NOW
    )
    assert entry == Entry(
        at_ms=NOW - DAY_MS,
        duration_min=90,
        role=LogRole.CO_MEDIATOR,
        medium=Medium.FACE_TO_FACE,
        scenario="Community centre",
        coach="Ruth",
        co_participants=("Kip", "Mei"),
        reflections=Reflections(went_well="calm"),
        source=Source.MANUAL,
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"at_ms": NOW + DAY_MS + 1}, "at_ms"),
        ({"at_ms": -1}, "at_ms"),
        ({"at_ms": "yesterday"}, "at_ms"),
        ({"at_ms": True}, "at_ms"),
        ({"duration_min": 0}, "duration_min"),
        ({"duration_min": 601}, "duration_min"),
        ({"duration_min": 1.5}, "duration_min"),
        ({"role": "mediator"}, "role"),
        ({"role": None}, "role"),
        ({"medium": "Online"}, "medium"),
        ({"medium": {}}, "medium"),  # any JSON type may arrive (a dict is unhashable)
        ({"role": ["party"]}, "role"),
        ({"scenario": ""}, "scenario"),
        ({"scenario": "x" * 201}, "scenario"),
        ({"coach": 3}, "coach"),
        ({"co_participants": "Kip"}, "co_participants"),
        ({"co_participants": ["x"] * 21}, "co_participants"),
        ({"co_participants": [1]}, "co_participants"),
        ({"went_well": "x" * (MAX_REFLECTION_CHARS + 1)}, "went_well"),
        ({"next_steps": 7}, "next_steps"),
    ],
)
def test_a_bad_field_is_named_in_the_refusal(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidEntry, match=f"'{field}'"):
        manual_entry(fields(**changes), NOW)


def test_an_entry_a_day_ahead_of_utc_is_accepted_for_people_east_of_greenwich() -> None:
    assert manual_entry(fields(at_ms=NOW + DAY_MS), NOW).at_ms == NOW + DAY_MS


@given(
    st.integers(-5, 700),
    st.sampled_from([*(r.value for r in LogRole), "judge", ""]),
    st.sampled_from([*(m.value for m in Medium), "paper"]),
    st.text(max_size=4100),
)
def test_manual_entries_either_pass_every_rule_or_are_refused(
    duration: int, role: str, medium: str, reflection: str
) -> None:
    data = fields(duration_min=duration, role=role, medium=medium, challenging=reflection)
    valid = (
        1 <= duration <= 600
        and role in {r.value for r in LogRole}
        and medium in {m.value for m in Medium}
        and len(reflection) <= MAX_REFLECTION_CHARS
        and storable(reflection)
    )
    if valid:
        entry = manual_entry(data, NOW)
        assert entry.reflections.challenging == reflection and entry.duration_min == duration
    else:
        with pytest.raises(InvalidEntry):
            manual_entry(data, NOW)


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "\udfff tail"])
def test_text_a_database_cannot_keep_is_refused(text: str) -> None:
    assert not storable(text)
    with pytest.raises(InvalidEntry):
        Reflections(went_well=text)


def test_reflections_change_only_the_fields_given() -> None:
    base = Reflections("calm", "silence", "summaries")
    assert reflections({"challenging": "time"}, base) == Reflections("calm", "time", "summaries")


def test_totals_count_sessions_and_minutes_by_role_in_the_vocabularys_order() -> None:
    entries = [
        manual_entry(fields(role="party", duration_min=30), NOW),
        manual_entry(fields(role="co-mediator", duration_min=90), NOW),
        manual_entry(fields(role="party", duration_min=45), NOW),
    ]
    t = totals(entries)
    assert (t.sessions, t.minutes) == (3, 165)
    assert t.by_role == ((LogRole.CO_MEDIATOR, 1, 90), (LogRole.PARTY, 2, 75))


def test_stored_feedback_reads_back_and_tolerates_junk() -> None:
    feedback = completed_entries(
        completed([note("mediator", 100_000, "target", skill="opening_statement", rating=4)]),
        is_person,
    )["person-mediator"].feedback
    assert FeedbackReceived.from_json(feedback.to_json()) == feedback
    assert FeedbackReceived.from_json(None) == FeedbackReceived()
    assert FeedbackReceived.from_json({"ratings": ["x"]}) == FeedbackReceived()
