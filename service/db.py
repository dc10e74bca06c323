"""One database URL selects the engine; every Piccolo table is bound to it at start-up so
that the app, the command line and the tests share one code path on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path
from urllib.parse import unquote, urlparse

from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table


class BadDatabaseUrl(ValueError):
    pass


def engine_from_url(url: str) -> Engine:
    """sqlite:///path/to/file.sqlite or postgresql://user:password@host:port/name."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = Path(unquote(parsed.path))
        path.parent.mkdir(parents=True, exist_ok=True)
        # A busy timeout lets concurrent writers queue instead of failing at once.
        return SQLiteEngine(path=str(path), timeout=30)
    if parsed.scheme in {"postgres", "postgresql"}:
        config = {
            "host": parsed.hostname or "127.0.0.1",
            "port": parsed.port or 5432,
            "user": unquote(parsed.username or "postgres"),
            "database": parsed.path.lstrip("/") or "maillage",
        }
        if parsed.password:
            config["password"] = unquote(parsed.password)
        return PostgresEngine(config=config, log_queries=False)
    raise BadDatabaseUrl(f"unsupported database URL scheme: {parsed.scheme!r}")


def all_tables() -> list[type[Table]]:
    return Finder().get_table_classes()


def bind(engine: Engine) -> None:
    """Point piccolo_conf and every table at `engine`."""
    from piccolo.apps.migrations.tables import Migration

    from service import piccolo_conf
    from service.reports import store as _reports  # noqa: F401  hears the directory's changes

    piccolo_conf.DB = engine
    # Piccolo's own record of applied migrations must follow too.
    tables: list[type[Table]] = [*all_tables(), Migration]
    for table in tables:
        table._meta.db = engine


def use_database(url: str) -> Engine:
    engine = engine_from_url(url)
    bind(engine)
    return engine


async def migrate() -> None:
    """Apply every committed migration, quietly."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    # Piccolo narrates every step on stdout; keep it for when something goes wrong.
    narration = io.StringIO()
    with contextlib.redirect_stdout(narration):
        response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migrations failed: {response.message}\n{narration.getvalue()}")


def migrate_sync() -> None:
    asyncio.run(migrate())
