"""A person's agenda: what is coming up for them, and what they took part in with its feedback."""

from __future__ import annotations

from sessions.ids import ScenarioId
from sessions.people import Role
from sessions.scenarios import Scenario, builtin_scenarios
from storage.database import Database
from storage.home import JOIN_OPENS_BEFORE_MS, agenda, simulation_for
from storage.people import People, now_ms
from tests.home_rows import MINUTE_MS, cohort_with_coach, event, note, ran, schedule

SHIPPED = builtin_scenarios()


def scenario_of(scenario_id: str) -> Scenario | None:
    return SHIPPED.get(ScenarioId(scenario_id))


async def test_a_trainee_sees_the_simulations_they_are_seated_in_and_no_one_elses(
    database: Database,
) -> None:
    store = People(database)
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE, "Africa/Nairobi")
    lin = await store.add("lin@example.org", "Lin", Role.TRAINEE, "Asia/Taipei")
    ruth = await store.add("ruth@example.org", "Ruth", Role.COACH, "America/Phoenix")
    now = now_ms()
    at = now + 120 * MINUTE_MS
    watcher = await store.add("obs@example.org", "Olu", Role.TRAINEE)
    mine = await schedule(
        database,
        {"mediator": amara.id, "party_a": lin.id, "coach": ruth.id, "observer_1": watcher.id},
        at,
        duration_min=45,
    )
    await schedule(database, {"mediator": lin.id}, now + 60 * MINUTE_MS)

    found = await agenda(database, amara.id, now, scenario_of)

    assert found.past == ()
    [entry] = found.upcoming
    assert (entry.id, entry.seat, entry.role, entry.coaching) == (
        mine,
        "mediator",
        "mediator",
        False,
    )
    assert (entry.scheduled_ms, entry.duration_min) == (at, 45)
    assert entry.join_opens_ms == at - JOIN_OPENS_BEFORE_MS == at - 15 * MINUTE_MS
    assert entry.title == "The Fence on Alder Lane"
    # trainees are never shown who observes (as in the room and the recordings list)
    assert [(s.seat, s.name) for s in entry.others] == [("party_a", "Lin"), ("coach", "Ruth")]
    coach_view = (await agenda(database, ruth.id, now, scenario_of)).upcoming[0]
    assert [s.name for s in coach_view.others] == ["Amara", "Lin", "Olu"]
    lins = await agenda(database, lin.id, now, scenario_of)
    assert [e.seat for e in lins.upcoming] == ["mediator", "party_a"]  # soonest first
    assert lins.upcoming[1].character == "Amara Okafor"


async def test_a_coach_sees_the_simulations_of_the_cohorts_they_coach_and_their_coach_seats(
    database: Database,
) -> None:
    store = People(database)
    ruth = await store.add("ruth@example.org", "Ruth", Role.COACH, "America/Phoenix")
    other = await store.add("kim@example.org", "Kim", Role.COACH)
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE)
    now = now_ms()
    cohort = await cohort_with_coach(database, ruth.id)
    of_cohort = await schedule(database, {"mediator": amara.id}, now + MINUTE_MS, cohort=cohort)
    in_seat = await schedule(database, {"coach": ruth.id}, now + 2 * MINUTE_MS)
    await schedule(database, {"coach": other.id}, now + 3 * MINUTE_MS)

    found = await agenda(database, ruth.id, now, scenario_of)

    assert [(e.id, e.seat, e.role, e.coaching) for e in found.upcoming] == [
        (of_cohort, None, "coach", True),
        (in_seat, "coach", "coach", True),
    ]
    assert [s.name for s in found.upcoming[0].others] == ["Amara"]


async def test_past_sessions_bring_only_the_notes_addressed_to_the_trainee_they_may_see(
    database: Database,
) -> None:
    store = People(database)
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE)
    lin = await store.add("lin@example.org", "Lin", Role.TRAINEE)
    ruth = await store.add("ruth@example.org", "Ruth", Role.COACH)
    now = now_ms()
    sim = await schedule(
        database,
        {"party_b": amara.id, "party_a": lin.id, "coach": ruth.id},
        now - 90 * MINUTE_MS,
        ended_ms=now - 30 * MINUTE_MS,
    )
    await ran(database, sim, {"party_b": (amara.id, "Amara"), "party_a": (lin.id, "Lin")})
    base = now - 20 * MINUTE_MS
    for i in range(4):
        await note(database, sim, f"to Amara {i}", target="party_b", created_ms=base + i)
    await note(database, sim, "to everyone", visibility="all", created_ms=base + 10)
    await note(database, sim, "to Lin", target="party_a", created_ms=base + 11)
    await note(database, sim, "coaches only", target="party_b", visibility="coach")
    # addressed to her, but placed inside party_a's caucus (60-120 s), which she never saw
    await note(database, sim, "inside the caucus", target="party_b", t_ms=90_000)
    await note(database, sim, "her own reflection", target="party_b", author=amara.id)

    found = await agenda(database, amara.id, now, scenario_of)

    assert found.upcoming == ()
    [entry] = found.past
    assert (entry.seat, entry.took_part, entry.has_recording) == ("party_b", True, True)
    assert entry.session_ms == 300_000
    assert entry.feedback_total == 4
    assert [n.text for n in entry.feedback] == ["to Amara 3", "to Amara 2", "to Amara 1"]
    lins = (await agenda(database, lin.id, now, scenario_of)).past[0]
    assert (lins.feedback_total, [n.text for n in lins.feedback]) == (1, ["to Lin"])
    coach = (await agenda(database, ruth.id, now, scenario_of)).past[0]
    assert (coach.coaching, coach.notes_total, coach.feedback) == (True, 9, ())


async def test_a_session_joined_by_link_or_overrun_by_hours_counts_as_past(
    database: Database,
) -> None:
    store = People(database)
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE)
    now = now_ms()
    by_link = await schedule(database, {}, None)
    await event(database, by_link, 500, "join", "mediator", amara.id, name="Amara")
    await event(database, by_link, 9_000, "phase", phase="ended")
    forgotten = await schedule(database, {"party_a": amara.id}, now - 5 * 60 * MINUTE_MS)
    live = await schedule(database, {"party_a": amara.id}, now - 10 * MINUTE_MS)

    found = await agenda(database, amara.id, now, scenario_of)

    assert [e.id for e in found.upcoming] == [live]
    assert {e.id for e in found.past} == {by_link, forgotten}
    joined = next(e for e in found.past if e.id == by_link)
    assert (joined.seat, joined.took_part, joined.session_ms) == ("mediator", True, 9_000)


async def test_one_simulation_says_whether_the_person_has_a_part_in_it(database: Database) -> None:
    store = People(database)
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE)
    stranger = await store.add("sam@example.org", "Sam", Role.TRAINEE)
    sim = await schedule(database, {"mediator": amara.id}, now_ms())
    mine = await simulation_for(database, sim, amara.id, now_ms(), scenario_of)
    theirs = await simulation_for(database, sim, stranger.id, now_ms(), scenario_of)
    assert mine is not None and mine.involved
    assert theirs is not None and not theirs.involved
    assert await simulation_for(database, "nothing", amara.id, now_ms(), scenario_of) is None
