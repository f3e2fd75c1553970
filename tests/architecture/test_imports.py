"""The import graph of the project's own modules: no circles, and the fences hold.

Imports inside ``if TYPE_CHECKING:`` count too: a circle hidden from the
interpreter is still two modules that cannot be understood one without the other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = (
    "caucus",
    "sessions",
    "rooms",
    "placement",
    "signaling",
    "media",
    "recordings",
    "storage",
    "web",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def imported_names(path: Path, module: str) -> Iterator[str]:
    """Every module name ``path`` imports, relative imports resolved."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            # `from package import module` imports the submodule
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {
        module: {
            name for name in imported_names(path, module) if name in modules and name != module
        }
        for module, path in modules.items()
    }


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_project_has_no_import_circle() -> None:
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]


def test_a_module_named_in_a_from_import_is_an_edge() -> None:
    # media/sfu.py: `from media import aiortc_internals`
    graph = import_graph()
    assert "media.aiortc_internals" in graph["media.sfu"]


def test_the_domain_imports_no_io_library() -> None:
    forbidden = (
        *("asyncio", "aiortc", "aioice", "aiohttp", "socketio", "av", "redis", "sqlite3"),
        *("sqlalchemy", "alembic", "aiosqlite", "asyncpg"),
    )
    offenders = {
        module: sorted(
            name for name in imported_names(path, module) if name.split(".")[0] in forbidden
        )
        for module, path in project_modules().items()
        if module.startswith("sessions")
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_only_media_reaches_aiortc_and_aioice() -> None:
    offenders = {
        module
        for module, path in project_modules().items()
        if not module.startswith("media")
        and any(name.split(".")[0] in ("aiortc", "aioice") for name in imported_names(path, module))
    }
    assert offenders == set()


def test_only_storage_speaks_sql() -> None:
    """One package holds every query and the schema (ARCHITECTURE.md, "Storage")."""
    sql = ("sqlite3", "sqlalchemy", "alembic", "aiosqlite", "asyncpg")
    offenders = {
        module
        for module, path in project_modules().items()
        if not module.startswith("storage")
        and any(name.split(".")[0] in sql for name in imported_names(path, module))
    }
    assert offenders == set()


def test_the_room_service_knows_no_socket_nor_http() -> None:
    """rooms/ is driven by commands from any adapter (ARCHITECTURE.md, "The room service")."""
    adapters = ("socketio", "engineio", "aiohttp", "signaling", "web", "caucus", "media")
    offenders = {
        module: sorted(
            name for name in imported_names(path, module) if name.split(".")[0] in adapters
        )
        for module, path in project_modules().items()
        if module.startswith("rooms")
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_placement_knows_only_the_domain_and_redis() -> None:
    """placement/ says where rooms run (ARCHITECTURE.md, "Placement"): it imports
    nothing of the project but sessions/, and no library but redis."""
    offenders = {
        module: sorted(
            name
            for name in imported_names(path, module)
            if name.split(".")[0] in (*PACKAGES, "socketio", "aiohttp", "sqlalchemy", "aiortc")
            and name.split(".")[0] not in ("sessions", "placement")
        )
        for module, path in project_modules().items()
        if module.startswith("placement")
    }
    assert {m: names for m, names in offenders.items() if names} == {}
