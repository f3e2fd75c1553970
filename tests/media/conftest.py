"""Media tests run real aiortc peer connections on 127.0.0.1 only (clients: the
LOOPBACK gather policy of tests/conftest.py; servers: their SfuConfig)."""

from __future__ import annotations

import logging

import pytest

from media import aiortc_internals


@pytest.fixture(autouse=True)
def _loopback_only() -> None:
    aiortc_internals.install()
    logging.getLogger("aioice").setLevel(logging.WARNING)
