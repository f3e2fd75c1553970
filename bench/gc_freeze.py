"""What a full garbage collection costs the server's event loop, with and without gc.freeze().

A full (generation 2) collection walks every tracked object and stops the event
loop while it does, so every forwarded packet waits that long. Most objects of a
running server are made at start-up (modules, aiortc/PyAV, the app) and live for
ever; `caucus serve` freezes them after start-up so collections skip them.

    .venv/bin/python bench/gc_freeze.py
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from caucus.app import create_app  # noqa: E402
from caucus.config import Config  # noqa: E402

ROUNDS = 7


def full_collection_ms() -> float:
    """The fastest of a few full collections (the others include noise)."""
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        gc.collect()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        config = Config.from_env({"CAUCUS_DATA_DIR": data_dir, "CAUCUS_MEDIA": "1"})
        create_app(config)
        tracked = len(gc.get_objects())
        before = full_collection_ms()
        gc.freeze()
        after = full_collection_ms()
        print(f"start-up heap: {tracked} tracked objects")
        print(f"full collection: {before:.1f} ms unfrozen, {after:.2f} ms after gc.freeze()")


if __name__ == "__main__":
    main()
