"""Running the server process: how many processes `serve` starts, and one process
(the whole server, or one worker) running the app on its event loop with its start-up hooks."""

from __future__ import annotations

import gc
import ssl

from aiohttp import web

from caucus import event_loop
from caucus.config import Config


def serve_workers_count(config: Config, cores: int) -> int:
    """How many processes `serve` runs: CAUCUS_WORKERS, else one per core; one node
    of several on Redis is one process (SystemExit if more were asked for)."""
    if not config.redis_url or config.node:
        return config.workers or cores
    if config.workers > 1:
        # every worker would register the front's one public origin in Redis, so a
        # room Redis placed on a sibling is answered `wrong_node` pointing back here
        raise SystemExit(
            f"caucus: CAUCUS_REDIS_URL and --workers {config.workers} (CAUCUS_WORKERS) cannot"
            " be combined: each node on Redis is one process with its own CAUCUS_PUBLIC_URL"
            " and port; run several of them on this machine instead (docs/DEPLOY.md,"
            " 'Several nodes')"
        )
    return 1


def serve_one(config: Config, context: ssl.SSLContext | None, hints: bool = False) -> None:
    """One process holding every room it is given: the whole server, or one worker."""
    # Imported here: the server's modules take seconds to load, and the other commands
    # (turn-config, users, token, render) need none of them.
    from caucus.app import create_app
    from caucus.drain import server_timeout

    try:
        app = create_app(config)
    except ValueError as exc:  # a malformed CAUCUS_TRUSTED_PROXIES / TURN / STUN setting
        raise SystemExit(f"caucus: {exc}") from None
    try:
        loop = event_loop.new_event_loop()  # uvloop unless CAUCUS_EVENT_LOOP=asyncio
    except ValueError as exc:
        raise SystemExit(f"caucus: {exc}") from None
    if hints:
        app.on_startup.append(first_admin_hint)
    app.on_startup.append(freeze_start_up_heap)
    web.run_app(
        app,
        loop=loop,
        host=config.host,
        port=config.port,
        ssl_context=context,
        print=None,
        shutdown_timeout=server_timeout(config.drain_s),
    )


async def first_admin_hint(app: web.Application) -> None:
    """On an install nobody administers yet, say how to make the first admin."""
    from web.auth import PEOPLE

    if not any(a.person.is_admin and a.person.active for a in await app[PEOPLE].accounts()):
        print(
            "No admin can sign in yet: run `.venv/bin/caucus users add you@example.org "
            "--role admin` and open the link it prints.",
            flush=True,
        )


async def freeze_start_up_heap(_app: web.Application) -> None:
    """Leave start-up's long-lived objects out of every later collection.

    A full collection stops the event loop for as long as it walks the heap (~30 ms
    for the ~73,000 objects a started server holds; bench/gc_freeze.py), and every
    packet in flight waits for it. Those objects live as long as the process.
    """
    gc.collect()
    gc.freeze()
