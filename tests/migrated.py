"""Migrated, empty databases for tests, made by copying one migrated template.

Running every migration costs ~0.2 s on SQLite (more on PostgreSQL), and the suite
starts several hundred servers and databases: copying a template migrated once per
test process saves minutes. The copy is what `upgrade` would have made (the
migrations themselves are tested in tests/storage/test_migration*.py), and `serve`
still runs `upgrade` at start, which finds nothing to do.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from storage.database import SQLITE_FILE, Database, default_url
from storage.migrate import upgrade
from tests.postgres_server import fresh_database

# (no lock: two first uses at once would each build a template, and both would do)
_sqlite_template: Path | None = None
#: per cluster base URL: the URL of its migrated template database
_postgres_templates: dict[str, str] = {}


async def migrated_sqlite(data_dir: Path) -> str:
    """`data_dir`'s SQLite database, migrated (a copy of the template); its URL."""
    global _sqlite_template
    if _sqlite_template is None:
        folder = Path(tempfile.mkdtemp(prefix="caucus-template-"))
        template = Database(default_url(folder))
        await upgrade(template)
        await template.close()  # the last connection checkpoints the WAL into the file
        _sqlite_template = folder / SQLITE_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template, data_dir / SQLITE_FILE)
    return default_url(data_dir)


async def migrated_postgres(base_url: str) -> str:
    """A new database in the cluster at `base_url`, migrated (made from the template)."""
    template_url = _postgres_templates.get(base_url)
    if template_url is None:
        template_url = await fresh_database(base_url)
        migrated = Database(template_url)
        await upgrade(migrated)
        await migrated.close()  # a template must have no connections
        _postgres_templates[base_url] = template_url
    return await fresh_database(base_url, template=template_url.rsplit("/", 1)[1])
