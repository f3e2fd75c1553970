"""Process counts for /healthz: what a soak run watches for leaks."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

#: how many peer connections the media server holds (set by the app when media runs)
PEER_CONNECTIONS: web.AppKey[Callable[[], int]] = web.AppKey("peer_connections")
#: RTCPeerConnection objects still in memory (media.seat_connection.peer_connections_in_memory)
PEER_CONNECTION_OBJECTS: web.AppKey[Callable[[], int]] = web.AppKey("peer_connection_objects")
#: recording writer figures (queued frames, frames dropped, deferred catalogue writes)
RECORDING_COUNTS: web.AppKey[Callable[[], dict[str, int]]] = web.AppKey("recording_counts")


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def open_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def process_counts(app: web.Application, heap: bool = False) -> dict[str, Any]:
    counts: dict[str, Any] = {
        "rss_bytes": rss_bytes(),
        "fds": open_descriptors(),
        "threads": threading.active_count(),
        "tasks": len(asyncio.all_tasks()),
        "peer_connections": app[PEER_CONNECTIONS]() if PEER_CONNECTIONS in app else 0,
    }
    if RECORDING_COUNTS in app:
        counts["recording"] = app[RECORDING_COUNTS]()
    if heap and PEER_CONNECTION_OBJECTS in app:
        counts["peer_connection_objects"] = app[PEER_CONNECTION_OBJECTS]()
    return counts
