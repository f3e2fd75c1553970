"""Fixtures shared by every test package."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from media import aiortc_internals
from storage.database import Database
from tests.migrated import migrated_postgres, migrated_sqlite

#: async tests end within their timeout as a failure, never a hang (tests/bounded.py)
pytest_plugins = ["tests.bounded"]


#: Hypothesis's 200 ms deadline per example times the machine, not the property: a
#: loaded CI host once took 312 ms for a 0.5 ms example (a collection, a busy core) and
#: failed a pure function as flaky.  Slowness is the `bounded` timeout's business.
settings.register_profile("caucus", deadline=None)
settings.load_profile("caucus")

#: test packages every test of which carries real-time media, builds a network lab or
#: measures time: on a machine shared with another test its figures are not its own
QUIET_PACKAGES = frozenset({"media", "reach", "system"})
#: fixtures that start a server with its SFU: a test that takes one carries media
MEDIA_FIXTURES = frozenset({"media_server"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `quiet` what must run alone (scripts/test.sh runs the rest on every core)."""
    tests = Path(__file__).parent
    for item in items:
        package = item.path.relative_to(tests).parts[0]
        fixtures = set(getattr(item, "fixturenames", ()))
        in_quiet_package = package in QUIET_PACKAGES and not item.get_closest_marker(
            "shares_machine"
        )
        if in_quiet_package or fixtures & MEDIA_FIXTURES:
            item.add_marker(pytest.mark.quiet)


@pytest.fixture(autouse=True, scope="session")
def aiortc_patched() -> Iterator[None]:
    """What the composition root does before any SFU exists: aiortc's process-wide patches.

    Tests that build an ``Sfu`` without ``create_app`` need them as ``caucus serve`` has them.
    In-process clients (aiortc peer connections a test makes) gather on 127.0.0.1 only,
    as every server in the tests listens there; each SFU gathers under its own settings.
    """
    aiortc_internals.install()
    with aiortc_internals.gather_policy(aiortc_internals.LOOPBACK):
        yield


@pytest.fixture
def frozen_heap() -> Iterator[None]:
    """Leave the heap built before the test out of its garbage collections.

    ``caucus serve`` freezes its start-up heap (``caucus.cli.freeze_start_up_heap``).
    A test process instead carries the imports and leftovers of every earlier
    test: ~190,000 objects after the browser tests, whose full collection stopped
    the event loop for 137 ms in the middle of a timing measurement.  Timing tests
    take this fixture so that they measure the server, not the suite before them.
    """
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    """One PostgreSQL cluster for the whole run, started on first use."""
    from tests.postgres_server import postgres_cluster

    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: the same test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = await migrated_sqlite(tmp_path)
    else:
        url = await migrated_postgres(request.getfixturevalue("postgres_base_url"))
    db = Database(url)
    try:
        yield db
    finally:
        await db.close()
