"""Signed-in sessions: a cookie token signs in its person until it expires or they leave."""

from __future__ import annotations

from sqlalchemy import update

from sessions.people import Role
from storage.database import Database
from storage.people import People
from storage.schema import login_sessions, people


async def test_a_session_signs_in_its_person_and_ends(database: Database) -> None:
    store = People(database)
    amara = await store.add("Amara@Example.org ", "Amara Odhiambo", Role.TRAINEE, "Africa/Nairobi")
    assert (await store.by_email("amara@example.org")) == amara
    token, csrf = await store.start_session(amara.id, "127.0.0.1")
    assert await store.session(token) == (amara, csrf)
    assert await store.session(token + "x") is None
    await store.end_session(token)
    assert await store.session(token) is None


async def test_an_expired_session_or_a_deactivated_person_signs_in_nobody(
    database: Database,
) -> None:
    store = People(database)
    lin = await store.add("lin@example.org", "Lin Wei", Role.COACH, "Asia/Taipei")
    expired, _ = await store.start_session(lin.id, None)
    async with database.transaction() as conn:
        await conn.execute(update(login_sessions).values(expires_ms=0))
    assert await store.session(expired) is None
    live, _ = await store.start_session(lin.id, None)
    async with database.transaction() as conn:
        await conn.execute(update(people).values(active=False))
    assert await store.session(live) is None
