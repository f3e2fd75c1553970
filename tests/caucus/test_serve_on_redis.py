"""`caucus serve` with CAUCUS_REDIS_URL is one node, one process: several workers
would all register the front's one origin in Redis, and every join of a room Redis
placed on a sibling would be sent `wrong_node` back to the same front."""

from __future__ import annotations

from pathlib import Path

import pytest

from caucus.cli import serve_workers_count
from caucus.config import Config
from tests.caucus.serve_refusal import refused_serve

REDIS = "redis://127.0.0.1:6379/0"


@pytest.mark.parametrize(
    ("redis_url", "workers", "node", "expected"),
    [
        (None, 0, "", 4),  # one per core
        (None, 3, "", 3),
        (REDIS, 0, "", 1),  # on Redis the default is one process
        (REDIS, 1, "", 1),
        (REDIS, 1, "node-0", 1),
    ],
)
def test_how_many_processes_serve_runs(
    tmp_path: Path, redis_url: str | None, workers: int, node: str, expected: int
) -> None:
    config = Config(data_dir=tmp_path, redis_url=redis_url, workers=workers, node=node)
    assert serve_workers_count(config, cores=4) == expected


def test_several_workers_on_redis_are_refused(tmp_path: Path) -> None:
    config = Config(data_dir=tmp_path, redis_url=REDIS, workers=2)
    with pytest.raises(SystemExit, match="cannot be combined"):
        serve_workers_count(config, cores=4)


@pytest.mark.parametrize("how", ["flag", "environment"])
async def test_serve_exits_with_a_clear_error_before_it_starts_anything(
    tmp_path: Path, how: str
) -> None:
    # nothing listens at this Redis: refused before it is ever asked
    env = {"CAUCUS_REDIS_URL": "redis://127.0.0.1:9/0", "CAUCUS_MEDIA": "0"}
    args = ["--workers", "2"] if how == "flag" else []
    if how == "environment":
        env["CAUCUS_WORKERS"] = "2"
    err = await refused_serve(tmp_path, env, *args)
    assert err == (
        "caucus: CAUCUS_REDIS_URL and --workers 2 (CAUCUS_WORKERS) cannot be combined:"
        " each node on Redis is one process with its own CAUCUS_PUBLIC_URL and port;"
        " run several of them on this machine instead (docs/DEPLOY.md, 'Several nodes')"
    )
