"""`caucus serve`'s start-up: what it does to the process besides serving."""

from __future__ import annotations

import gc

from aiohttp import web

from caucus.cli import freeze_start_up_heap


async def test_start_up_freezes_the_heap_so_collections_skip_it() -> None:
    survivor = [object() for _ in range(1000)]
    assert gc.is_tracked(survivor)
    try:
        await freeze_start_up_heap(web.Application())
        assert gc.get_freeze_count() >= len(survivor)
        # a full collection now walks only what was made after start-up
        assert not any(o is survivor for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert any(o is survivor for o in gc.get_objects())
