"""Media tests run real aiortc peer connections on 127.0.0.1 only."""

from __future__ import annotations

import logging

import pytest

from media import aiortc_internals


@pytest.fixture(autouse=True)
def _loopback_only() -> None:
    aiortc_internals.install()
    aiortc_internals.limit_ice_host_addresses(["127.0.0.1"])
    logging.getLogger("aioice").setLevel(logging.WARNING)
