"""`caucus users add` on a fresh install prints the first admin's invitation link, which works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.live_server import start_server
from tests.web.test_signin import browser

ROOT = Path(__file__).resolve().parents[2]


def caucus(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAUCUS_")}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, not an installed copy
    return subprocess.run(
        [sys.executable, "-m", "caucus", "users", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
    )


async def test_users_add_prints_a_link_that_makes_the_first_admin(tmp_path: Path) -> None:
    added = caucus(
        "add",
        "Ada@Example.org",
        "--role",
        "admin",
        "--name",
        "Ada Lovelace",
        "--time-zone",
        "Africa/Nairobi",
        "--public-url",
        "https://caucus.example",
        data_dir=tmp_path,
    )
    assert added.returncode == 0, added.stderr
    link = added.stdout.strip()
    assert link.startswith("https://caucus.example/invite/") and "\n" not in link
    assert "Invited Ada Lovelace <ada@example.org> (admin)" in added.stderr

    again = caucus("add", "ada@example.org", "--role", "coach", data_dir=tmp_path)
    assert again.returncode != 0 and "already has an account" in again.stderr
    bad = caucus("add", "ada", "--role", "admin", data_dir=tmp_path)
    assert bad.returncode != 0 and "is not an email address" in bad.stderr
    listed = caucus("list", data_dir=tmp_path)
    assert listed.returncode == 0
    assert listed.stdout.split() == [
        "ada@example.org",
        "Ada",
        "Lovelace",
        "admin",
        "Africa/Nairobi",
        "invited",
    ]

    server = await start_server(tmp_path)
    try:
        token = link.rsplit("/", 1)[-1]
        async with browser() as http:
            async with http.post(
                f"{server.url}/api/invitations/{token}", json={"password": "the first admin!"}
            ) as response:
                assert (response.status, (await response.json())["next"]) == (200, "/admin")
            async with http.get(f"{server.url}/api/people") as response:
                [ada] = await response.json()
        assert (ada["name"], ada["role"], ada["has_password"]) == ("Ada Lovelace", "admin", True)
    finally:
        await server.stop()
    listed = caucus("list", data_dir=tmp_path)
    assert listed.stdout.split()[-1] == "active"
