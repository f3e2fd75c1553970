"""The catalogue of a server a test runs in another process: its database, opened and
migrated as `caucus` commands do (storage.catalogue.catalogue_at)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from caucus.config import Config
from sessions.ids import RoomId, ScenarioId
from storage.catalogue import Catalogue, catalogue_at
from storage.database import SQLITE_FILE

T = TypeVar("T")


def sqlite_file(config: Config) -> Path:
    """The embedded database's file (for tests that read it as the server left it)."""
    return config.data_dir / SQLITE_FILE


async def stored(config: Config, read: Callable[[Catalogue], Awaitable[T]]) -> T:
    async with catalogue_at(config.database) as catalogue:
        return await read(catalogue)


def stored_now(config: Config, read: Callable[[Catalogue], Awaitable[T]]) -> T:
    """`stored` from synchronous code: on an event loop of its own, in a worker thread
    (it blocks the caller, as the sqlite3 reads it replaces did)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, stored(config, read)).result()


async def create_simulation(
    config: Config, scenario: str = "boundary-fence", observers: int = 1
) -> RoomId:
    async def create(catalogue: Catalogue) -> RoomId:
        return (await catalogue.create_simulation(ScenarioId(scenario), observers)).id

    return await stored(config, create)


def create_simulation_now(
    config: Config, scenario: str = "boundary-fence", observers: int = 1
) -> RoomId:
    async def create(catalogue: Catalogue) -> RoomId:
        return (await catalogue.create_simulation(ScenarioId(scenario), observers)).id

    return stored_now(config, create)
