"""A `./data` directory written by wave 1 is upgraded in place by `caucus db upgrade`, then
served: its simulations, recordings (segment files playable through the API) and notes
survive, join events get their `identity` column, and notes orphaned by an old deletion go.

The old database is written here with wave 1's own SQL (the raw sqlite3 schemas of
`recordings/catalogue.py` and `recordings/annotation_store.py` at commit 6eb1991), so the
test does not depend on the code that replaced them.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from recordings.track_writer import TrackWriter
from sessions.media_kinds import MediaKind
from storage.migrate import head
from storage.schema import events, notes
from tests.encoded_media import decoded_frames, vp8_frames
from tests.live_server import start_server
from web.keys import DATABASE

ROOT = Path(__file__).resolve().parents[2]

# wave 1: recordings/catalogue.py (6eb1991), verbatim
CATALOGUE_SCHEMA = """
CREATE TABLE IF NOT EXISTS simulations (
    id TEXT PRIMARY KEY,
    scenario_id TEXT NOT NULL,
    observers INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    t0_ms INTEGER
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    simulation_id TEXT NOT NULL REFERENCES simulations(id) ON DELETE CASCADE,
    t_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    seat TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_simulation ON events (simulation_id, t_ms);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,
    simulation_id TEXT NOT NULL REFERENCES simulations(id) ON DELETE CASCADE,
    seat TEXT NOT NULL,
    kind TEXT NOT NULL,
    codec TEXT NOT NULL,
    -- "public" or "caucus:<party seat>": who may later watch this stretch
    visibility TEXT NOT NULL,
    path TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    frames INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    -- "recording" while open; "complete" when closed; "interrupted" after a crash;
    -- "failed" when the disk refused it (reason says why)
    status TEXT NOT NULL DEFAULT 'recording',
    reason TEXT
);
CREATE INDEX IF NOT EXISTS segments_by_simulation ON segments (simulation_id, start_ms);
"""
# wave 1: recordings/annotation_store.py (6eb1991), verbatim
ANNOTATION_SCHEMA = """
CREATE TABLE IF NOT EXISTS annotations (
    id TEXT PRIMARY KEY,
    simulation_id TEXT NOT NULL,
    author TEXT,           -- identity; NULL for an admin
    author_seat TEXT,
    t_ms INTEGER NOT NULL,
    text TEXT NOT NULL,
    skill TEXT,
    rating INTEGER,
    target TEXT,
    visibility TEXT NOT NULL,
    reply_to TEXT,
    created_ms INTEGER NOT NULL,
    edited_ms INTEGER
);
CREATE INDEX IF NOT EXISTS annotations_by_simulation ON annotations (simulation_id, t_ms);
"""
# before failed segments had reasons, the segments table had no `reason` column
WITHOUT_REASON = CATALOGUE_SCHEMA.replace(",\n    reason TEXT\n", "\n")

ROOM, IDLE = "wave1-room", "wave1-idle"
NOTE_COLUMNS = "id, simulation_id, author, author_seat, t_ms, text, visibility, created_ms"


def write_wave1_data(data: Path, with_reason: bool) -> Path:
    """Wave 1's ./data: one recorded session with notes, one never run, an orphaned note."""
    video = data / "recordings" / ROOM / "0001-mediator-video.webm"
    writer = TrackWriter(video, MediaKind.VIDEO, "vp8", 90_000)
    for frame, ts in vp8_frames(60, keyframe_every=30):
        writer.write(frame, ts)
    summary = writer.close()
    db = sqlite3.connect(data / "caucus.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.executescript(CATALOGUE_SCHEMA if with_reason else WITHOUT_REASON)
    db.executescript(ANNOTATION_SCHEMA)
    db.execute(
        "INSERT INTO simulations VALUES (?, 'boundary-fence', 1, 1700000000000, 1700000005000)",
        (ROOM,),
    )
    db.execute(
        "INSERT INTO simulations VALUES (?, 'boundary-fence', 0, 1700000100000, NULL)", (IDLE,)
    )
    timeline = [
        (0, "join", "mediator", {"identity": "amara", "name": "Amara", "seat": "mediator"}),
        (5, "join", "party_a", {"identity": "guest-lin", "name": "Lin", "seat": "party_a"}),
        (9, "consent", "party_a", {"granted": True}),
        (10, "phase", None, {"phase": "joint", "from": "lobby"}),
        (900, "resume", "mediator", {"identity": "amara", "name": "Amara", "seat": "mediator"}),
        (2500, "ended", None, {"reason": "staff", "from": "joint"}),
    ]
    for t_ms, kind, seat, detail in timeline:
        db.execute(
            "INSERT INTO events (simulation_id, t_ms, kind, seat, detail) VALUES (?, ?, ?, ?, ?)",
            (ROOM, t_ms, kind, seat, json.dumps(detail)),
        )
    db.execute(
        "INSERT INTO segments (simulation_id, seat, kind, codec, visibility, path, start_ms,"
        " duration_ms, frames, bytes, status)"
        " VALUES (?, 'mediator', 'video', 'vp8', 'public', ?, 10, ?, ?, ?, 'complete')",
        (ROOM, str(video), summary.duration_ms, summary.frames, summary.bytes),
    )
    for note in (
        ("n1", ROOM, "coach-ana", "coach", 100, "good opening", "all", 1700000006000),
        ("n2", ROOM, None, None, 400, "admin remark", "coach", 1700000007000),
        ("orphan", "deleted-long-ago", "coach-ana", "coach", 5, "left behind", "all", 1),
    ):
        db.execute(
            f"INSERT INTO annotations ({NOTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", note
        )
    db.close()
    return video


async def caucus(*args: str, database_url: str | None = None) -> str:
    """Run the real `caucus` command; its standard output (it must succeed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CAUCUS_DATABASE_URL", None)
    if database_url is not None:
        env["CAUCUS_DATABASE_URL"] = database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "caucus",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    return out.decode().strip()


@pytest.mark.parametrize("with_reason", [True, False], ids=["wave1", "before-reasons"])
async def test_wave1_data_is_upgraded_in_place_and_served(
    tmp_path: Path, with_reason: bool
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    video = write_wave1_data(data, with_reason)

    upgraded = await caucus("db", "upgrade", "--data-dir", str(data))
    assert upgraded.endswith(f"unversioned -> {head()}")
    assert f": {head()} " in await caucus("db", "current", "--data-dir", str(data))

    server = await start_server(data)
    try:
        admin = {"Authorization": f"Bearer {server.config.admin_token}"}
        async with aiohttp.ClientSession(headers=admin) as http:
            async with http.get(f"{server.url}/api/recordings") as r:
                listed = {s["id"]: s for s in await r.json()}
            assert set(listed) == {ROOM, IDLE}
            assert listed[ROOM]["status"] == "complete"
            assert [p["seat"] for p in listed[ROOM]["people"]][:2] == ["mediator", "party_a"]
            async with http.get(f"{server.url}/api/recordings/{ROOM}") as r:
                recording = await r.json()
            [segment] = recording["segments"]
            assert segment["reason"] is None
            async with http.get(server.url + segment["url"]) as r:
                assert r.status == 200 and r.content_type == "video/webm"
                served = await r.read()
            assert served == video.read_bytes()
            copy = tmp_path / "served.webm"
            copy.write_bytes(served)
            assert len(decoded_frames(copy, "video")) == 60
            async with http.get(f"{server.url}/api/recordings/{ROOM}/annotations") as r:
                texts = sorted(n["text"] for n in await r.json())
            assert texts == ["admin remark", "good opening"]
        async with server.app[DATABASE].reading() as conn:
            identities = (
                await conn.execute(select(events.c.kind, events.c.identity).order_by(events.c.id))
            ).all()
            note_ids = set((await conn.scalars(select(notes.c.id))).all())
        assert [tuple(row) for row in identities] == [
            ("join", "amara"),
            ("join", "guest-lin"),
            ("consent", None),
            ("phase", None),
            ("resume", "amara"),
            ("ended", None),
        ]
        assert note_ids == {"n1", "n2"}
    finally:
        await server.stop()


async def test_db_upgrade_migrates_a_postgresql_database_named_by_its_url(
    postgres_base_url: str, tmp_path: Path
) -> None:
    from tests.postgres_server import fresh_database

    url = await fresh_database(postgres_base_url)
    data = str(tmp_path / "data")
    before = await caucus("db", "current", "--data-dir", data, database_url=url)
    assert before.startswith("postgresql+asyncpg://") and "unversioned" in before
    upgraded = await caucus("db", "upgrade", "--data-dir", data, database_url=url)
    assert upgraded.endswith(f"unversioned -> {head()}")
    again = await caucus("db", "upgrade", "--data-dir", data, database_url=url)
    assert again.endswith(f"{head()} -> {head()}")
    assert not (tmp_path / "data" / "caucus.sqlite3").exists()
