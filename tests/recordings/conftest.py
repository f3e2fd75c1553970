"""A catalogue in an embedded database of the test's own, and the recorders' write queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from recordings.catalogue_writes import CatalogueWrites
from storage.catalogue import Catalogue, catalogue_at
from storage.database import default_url


@pytest.fixture
async def catalogue(tmp_path: Path) -> AsyncIterator[Catalogue]:
    async with catalogue_at(default_url(tmp_path)) as catalogue:
        yield catalogue


@pytest.fixture
async def writes(catalogue: Catalogue) -> AsyncIterator[CatalogueWrites]:
    queue = CatalogueWrites(catalogue)
    yield queue
    await queue.close()
