"""Feedback digests in the database (SQLite and PostgreSQL): drafts, sharing once,
edits after sharing that keep the shared text and bump the version."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select

from sessions.digests import MAX_CHARS, DigestText, EmptyDigest, InvalidDigest
from sessions.people import Role
from storage import digests
from storage.database import Database
from storage.people import People
from storage.schema import audit_log, people


async def two_people(database: Database) -> tuple[str, str]:
    store = People(database)
    tia = await store.add("tia@example.org", "Tia", Role.TRAINEE, "Africa/Nairobi")
    cora = await store.add("cora@example.org", "Cora", Role.COACH, "Asia/Taipei")
    return tia.id, cora.id


async def test_a_draft_is_only_among_all_digests_until_it_is_shared(database: Database) -> None:
    tia, cora = await two_people(database)
    draft = await digests.add(database, tia, cora, DigestText(strengths="Calm opening"), 1_000)
    assert (draft.status, draft.version, draft.author_name) == ("draft", 1, "Cora")
    assert await digests.of_person(database, tia, shared_only=True) == []
    assert [d.id for d in await digests.of_person(database, tia, shared_only=False)] == [draft.id]

    shared = await digests.share(database, draft.id, cora, 2_000)
    assert (shared.status, shared.shared_ms, shared.version) == ("shared", 2_000, 1)
    assert [d.id for d in await digests.of_person(database, tia, shared_only=True)] == [draft.id]
    again = await digests.share(database, draft.id, cora, 3_000)
    assert again.shared_ms == 2_000  # sharing twice changes nothing
    async with database.reading() as conn:
        actions = (await conn.execute(select(audit_log.c.action, audit_log.c.target))).all()
    assert actions == [("digest.share", draft.id)]


async def test_editing_a_draft_rewrites_it_in_place(database: Database) -> None:
    tia, cora = await two_people(database)
    draft = await digests.add(database, tia, cora, DigestText(strengths="Calm"), 1_000)
    edited = await digests.edit(database, draft.id, {"develop": "Summarise more"}, 2_000)
    assert edited.text == DigestText("Calm", "Summarise more", "")
    assert (edited.version, edited.history, edited.updated_ms) == (1, [], 2_000)


async def test_an_edit_after_sharing_keeps_the_shared_text_and_bumps_the_version(
    database: Database,
) -> None:
    tia, cora = await two_people(database)
    draft = await digests.add(database, tia, cora, DigestText(strengths="Calm"), 1_000)
    await digests.share(database, draft.id, cora, 2_000)
    edited = await digests.edit(database, draft.id, {"next_steps": "Lead a caucus"}, 3_000)
    assert (edited.status, edited.version) == ("shared", 2)
    assert edited.text.next_steps == "Lead a caucus"
    assert edited.history == [
        {
            "version": 1,
            "strengths": "Calm",
            "develop": "",
            "next_steps": "",
            "shared_ms": 2_000,
            "updated_ms": 2_000,
        }
    ]
    same = await digests.edit(database, draft.id, {"next_steps": "Lead a caucus"}, 4_000)
    assert same.version == 2  # nothing changed, nothing bumped


async def test_an_empty_digest_is_not_shared_and_text_is_bounded(database: Database) -> None:
    tia, cora = await two_people(database)
    draft = await digests.add(database, tia, cora, DigestText(strengths="  "), 1_000)
    with pytest.raises(EmptyDigest):
        await digests.share(database, draft.id, cora, 2_000)
    with pytest.raises(InvalidDigest):
        await digests.edit(database, draft.id, {"develop": "x" * (MAX_CHARS + 1)}, 2_000)
    with pytest.raises(InvalidDigest):
        await digests.edit(database, draft.id, {"develop": 5}, 2_000)
    with pytest.raises(digests.UnknownDigest):
        await digests.share(database, "nope", cora, 2_000)


async def test_a_digest_outlives_its_author_and_goes_with_its_trainee(database: Database) -> None:
    tia, cora = await two_people(database)
    draft = await digests.add(database, tia, cora, DigestText(strengths="Calm"), 1_000)
    async with database.transaction() as conn:
        await conn.execute(delete(people).where(people.c.id == cora))
    kept = await digests.get(database, draft.id)
    assert kept is not None and (kept.author_id, kept.author_name) == (None, None)
    async with database.transaction() as conn:
        await conn.execute(delete(people).where(people.c.id == tia))
    assert await digests.get(database, draft.id) is None


async def test_edits_at_once_each_keep_their_predecessor(database: Database) -> None:
    tia, cora = await two_people(database)
    draft = await digests.add(database, tia, cora, DigestText(strengths="v1"), 1_000)
    await digests.share(database, draft.id, cora, 2_000)
    await asyncio.gather(
        *(digests.edit(database, draft.id, {"strengths": f"v{n}"}, 3_000 + n) for n in (2, 3, 4))
    )
    final = await digests.get(database, draft.id)
    assert final is not None and final.version == 4
    assert [h["version"] for h in final.history] == [1, 2, 3]


async def test_shares_at_once_share_once(database: Database) -> None:
    tia, cora = await two_people(database)
    draft = await digests.add(database, tia, cora, DigestText(strengths="Calm"), 1_000)
    await asyncio.gather(*(digests.share(database, draft.id, cora, 2_000 + n) for n in range(3)))
    async with database.reading() as conn:
        shares = (await conn.execute(select(audit_log.c.action))).all()
    assert len(shares) == 1
