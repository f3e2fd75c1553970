"""`caucus token` and `caucus render` know the scenarios written in the console too."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from caucus.cli import parser
from caucus.config import Config
from sessions.ids import ScenarioId
from sessions.scenarios import Scenario, builtin_scenarios
from signaling.tokens import verify
from storage import scenarios as store
from storage.catalogue import new_room_id
from storage.database import Database, default_url
from storage.migrate import upgrade
from tests.stored import create_simulation


def harbour() -> Scenario:
    document = builtin_scenarios()[ScenarioId("boundary-fence")].to_dict()
    return Scenario.from_dict(document | {"id": "harbour", "title": "Harbour"})


async def _write(data_dir: Path) -> None:
    database = Database(default_url(data_dir))
    try:
        await upgrade(database)
        await store.add(database, harbour(), created_by=None)
    finally:
        await database.close()


def test_a_token_is_issued_for_a_seat_of_a_written_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAUCUS_DATABASE_URL", raising=False)
    asyncio.run(_write(tmp_path))
    room = asyncio.run(create_simulation(Config(data_dir=tmp_path), "harbour", observers=0))
    args = parser().parse_args(["token", room, "party_b", "--data-dir", str(tmp_path)])
    args.run(args)
    token = capsys.readouterr().out.strip()
    claims = verify(Config(data_dir=tmp_path).with_secrets().secret, token)
    assert (claims.room, claims.seat) == (room, "party_b")


def test_a_database_the_server_never_upgraded_has_only_the_shipped_scenarios(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CAUCUS_DATABASE_URL", raising=False)
    # as wave 1's `caucus demo` left it: its own table, no migrations (the command runs them)
    db = sqlite3.connect(tmp_path / "caucus.sqlite3")
    db.execute(
        "CREATE TABLE simulations (id TEXT PRIMARY KEY, scenario_id TEXT NOT NULL,"
        " observers INTEGER NOT NULL, created_ms INTEGER NOT NULL, t0_ms INTEGER)"
    )
    room = "wave1-room"
    db.execute(
        "INSERT INTO simulations VALUES (?, 'bakery-supply', 0, 1700000000000, NULL)", (room,)
    )
    db.commit()
    db.close()
    args = parser().parse_args(["token", room, "mediator", "--data-dir", str(tmp_path)])
    args.run(args)
    assert capsys.readouterr().out.strip()


def test_no_room_id_looks_like_an_option() -> None:
    # 4,000 draws: with a leading "-" possible one time in 64, ~60 would start with one
    assert not [i for i in (new_room_id() for _ in range(4000)) if i.startswith("-")]
