"""Every production package is installed and type-checked: the `caucus` console script
imports from the installed tree, not from the repository root (where tests run)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_PRODUCTION = {"tests", "bench", "scripts", "docs", "node_modules"}


def test_every_top_level_package_is_installed_and_type_checked() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        p.parent.name
        for p in ROOT.glob("*/__init__.py")
        if p.parent.name not in NOT_PRODUCTION and not p.parent.name.startswith(".")
    }
    assert packages <= set(config["tool"]["setuptools"]["packages"])
    assert packages <= set(config["tool"]["mypy"]["files"])
