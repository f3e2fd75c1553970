"""`serve` on an install nobody administers says how to make the first admin, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest

from caucus.cli import first_admin_hint
from sessions.people import Role
from tests.live_server import start_server
from tests.people import sign_in


async def test_the_hint_shows_until_an_admin_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server = await start_server(tmp_path)
    try:
        await first_admin_hint(server.app)
        assert "caucus users add" in capsys.readouterr().out
        await sign_in(server.app, Role.COACH)
        await first_admin_hint(server.app)
        assert "caucus users add" in capsys.readouterr().out  # a coach administers nothing
        await sign_in(server.app, Role.ADMIN)
        await first_admin_hint(server.app)
        assert capsys.readouterr().out == ""
    finally:
        await server.stop()
