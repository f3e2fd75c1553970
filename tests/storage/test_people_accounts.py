"""Accounts: argon2id passwords, one-time expiring invitations, deactivation (both engines)."""

from __future__ import annotations

from typing import Literal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import insert, select, update

from sessions.people import Role
from storage import audit
from storage.database import Database
from storage.invitations import (
    InvitationExpired,
    Invitations,
    InvitationUsed,
    Purpose,
    UnknownInvitation,
)
from storage.passwords import Passwords
from storage.people import EmailTaken, Membership, People, UnknownPerson
from storage.schema import cohort_members, cohorts, invitations, people


async def test_a_password_is_stored_as_argon2id_and_checked(database: Database) -> None:
    store = People(database)
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE, "Africa/Nairobi")
    assert await store.check_password("amara@example.org", "anything at all") is None
    await store.set_password(amara.id, "correct horse battery")
    async with database.reading() as conn:
        stored = (await conn.execute(select(people.c.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert await store.check_password(" AMARA@example.org", "correct horse battery") == amara
    assert await store.check_password("amara@example.org", "correct horse batter") is None
    assert await store.check_password("nobody@example.org", "correct horse battery") is None


class CountingHasher(PasswordHasher):
    """argon2-cffi's hasher, counting the hashes it verifies."""

    verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified += 1
        return super().verify(hash, password)


async def test_every_refusal_costs_one_hash_so_timing_tells_nothing(database: Database) -> None:
    hasher = CountingHasher()
    store = People(database, Passwords(hasher))
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE)
    await store.add("invited@example.org", "Not yet", Role.TRAINEE)  # no password yet
    await store.set_password(amara.id, "correct horse battery")
    for email, password in [
        ("nobody@example.org", "correct horse battery"),
        ("invited@example.org", "correct horse battery"),
        ("amara@example.org", "a wrong guess here"),
        ("amara@example.org", "correct horse battery"),
    ]:
        before = hasher.verified
        await store.check_password(email, password)
        assert hasher.verified - before == 1, email


async def test_a_hash_made_with_weaker_parameters_is_replaced_on_sign_in(
    database: Database,
) -> None:
    weak = People(database, Passwords(PasswordHasher(time_cost=1, memory_cost=8192)))
    lin = await weak.add("lin@example.org", "Lin", Role.COACH, "Asia/Taipei")
    await weak.set_password(lin.id, "a long enough secret")
    store = People(database)  # today's parameters
    assert await store.check_password("lin@example.org", "a long enough secret") == lin
    async with database.reading() as conn:
        stored = (await conn.execute(select(people.c.password_hash))).scalar_one()
    assert not store.passwords.needs_rehash(stored)
    assert await store.check_password("lin@example.org", "a long enough secret") == lin


async def test_an_address_has_one_account(database: Database) -> None:
    store = People(database)
    await store.add("dup@example.org", "One", Role.TRAINEE)
    with pytest.raises(EmailTaken):
        await store.add("Dup@Example.org", "Two", Role.COACH)
    with pytest.raises(EmailTaken):
        await Invitations(store).invite("dup@example.org", "Three", Role.ADMIN, "UTC", "cli")
    assert [a.person.name for a in await store.accounts()] == ["One"]


async def test_an_invitation_sets_the_password_once_and_signs_in(database: Database) -> None:
    store = People(database)
    links = Invitations(store)
    invitation = await links.invite(
        "joy@example.org", "Joy Wanjiru", Role.TRAINEE, "Africa/Nairobi", "cli"
    )
    assert invitation.purpose is Purpose.INVITE
    person, purpose = await links.look(invitation.token)
    assert (person.name, purpose) == ("Joy Wanjiru", Purpose.INVITE)
    async with database.reading() as conn:
        row = (await conn.execute(select(invitations))).one()
    assert row.token_hash != invitation.token and invitation.token not in str(tuple(row))
    signed = await links.use(invitation.token, "my own new password", "127.0.0.1")
    assert signed.person == person
    assert await store.session(signed.token) == (person, signed.csrf)
    assert await store.check_password("joy@example.org", "my own new password") == person
    with pytest.raises(InvitationUsed):
        await links.look(invitation.token)
    with pytest.raises(InvitationUsed):
        await links.use(invitation.token, "someone else's password", None)
    assert await store.check_password("joy@example.org", "my own new password") == person
    with pytest.raises(UnknownInvitation):
        await links.look("not-a-token")


async def test_an_expired_invitation_is_refused(database: Database) -> None:
    links = Invitations(People(database))
    invitation = await links.invite("late@example.org", "Late", Role.COACH, "UTC", "cli")
    async with database.transaction() as conn:
        await conn.execute(update(invitations).values(expires_ms=1))
    with pytest.raises(InvitationExpired):
        await links.use(invitation.token, "too late for this", None)
    assert await links.people.check_password("late@example.org", "too late for this") is None


async def test_a_reset_voids_older_links_and_ends_sessions(database: Database) -> None:
    store = People(database)
    links = Invitations(store)
    admin = await store.add("boss@example.org", "Boss", Role.ADMIN)
    first = await links.invite("kim@example.org", "Kim", Role.COACH, "America/Phoenix", admin.id)
    signed = await links.use(first.token, "first password!", None)
    reset = await links.reset(signed.person.id, admin.id)
    assert reset.purpose is Purpose.RESET and reset.expires_ms > first.expires_ms - 10_000
    assert await store.session(signed.token) is None
    again = await links.reset(signed.person.id, admin.id)
    with pytest.raises(UnknownInvitation):
        await links.look(reset.token)  # the newer link replaced it
    await links.use(again.token, "second password!", None)
    assert await store.check_password("kim@example.org", "first password!") is None
    assert await store.check_password("kim@example.org", "second password!") is not None
    async with database.reading() as conn:
        actions = [(e["actor"], e["action"]) for e in await audit.entries(conn)]
    assert actions[:3] == [
        (admin.id, "person.reset"),
        (admin.id, "person.reset"),
        (admin.id, "person.invite"),
    ]
    with pytest.raises(UnknownPerson):
        await links.reset("nobody", admin.id)


async def test_deactivation_ends_sessions_refuses_the_password_and_is_audited(
    database: Database,
) -> None:
    store = People(database)
    links = Invitations(store)
    invitation = await links.invite("sam@example.org", "Sam", Role.TRAINEE, "UTC", "cli")
    signed = await links.use(invitation.token, "sam's password", "10.0.0.1")
    await store.start_session(signed.person.id, "10.0.0.2")
    pending = await links.reset(signed.person.id, "cli")
    await store.start_session(signed.person.id, "10.0.0.3")
    assert not await store.is_deactivated(signed.person.id)

    person = await store.deactivate(signed.person.id, "admin-token")
    assert not person.active and await store.is_deactivated(person.id)
    assert await store.session(signed.token) is None
    assert await store.check_password("sam@example.org", "sam's password") is None
    with pytest.raises(UnknownInvitation):
        await links.use(pending.token, "a way back in?", None)
    [account] = await store.accounts()
    assert account.deactivated_ms is not None and account.has_password
    async with database.reading() as conn:
        [latest, *_] = await audit.entries(conn)
    assert (latest["actor"], latest["action"], latest["target"]) == (
        "admin-token",
        "person.deactivate",
        person.id,
    )
    assert latest["detail"] == {"sessions": 1}

    assert not (await store.deactivate(person.id, "admin-token")).active
    async with database.reading() as conn:
        assert [e["action"] for e in await audit.entries(conn)].count("person.deactivate") == 1

    back = await store.reactivate(person.id, "admin-token")
    assert back.active and not await store.is_deactivated(person.id)
    assert await store.check_password("sam@example.org", "sam's password") == back
    assert not await store.is_deactivated("room1:party_a")  # a guest is nobody here


async def test_names_roles_and_time_zones_change(database: Database) -> None:
    store = People(database)
    ana = await store.add("ana@example.org", "Ana", Role.TRAINEE)
    changed = await store.update(
        ana.id, "cli", name="Ana María", role=Role.COACH, time_zone="America/Phoenix"
    )
    assert (changed.name, changed.role, changed.time_zone) == (
        "Ana María",
        Role.COACH,
        "America/Phoenix",
    )
    assert await store.update(ana.id, "cli") == changed
    with pytest.raises(UnknownPerson):
        await store.update("nobody", "cli", name="X")


async def test_the_list_names_each_persons_cohorts(database: Database) -> None:
    store = People(database)
    lin = await store.add("lin@example.org", "Lin", Role.COACH, "Asia/Taipei")
    amara = await store.add("amara@example.org", "Amara", Role.TRAINEE, "Africa/Nairobi")
    async with database.transaction() as conn:
        await conn.execute(
            insert(cohorts).values(
                id="c1",
                name="Spring 2027",
                starts_on="2027-03-01",
                ends_on="2027-05-31",
                requirements={},
                created_ms=0,
            )
        )
        await conn.execute(
            insert(cohort_members),
            [
                {"cohort_id": "c1", "person_id": lin.id, "role": "coach"},
                {"cohort_id": "c1", "person_id": amara.id, "role": "trainee"},
            ],
        )
    listed = {a.person.email: a.cohorts for a in await store.accounts()}
    assert listed == {
        "amara@example.org": (Membership("c1", "Spring 2027", "trainee"),),
        "lin@example.org": (Membership("c1", "Spring 2027", "coach"),),
    }
