"""One database URL selects the engine; every Piccolo table is bound to it at start-up so
that the app, the command line and the tests share one code path on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import aiosqlite
import asyncpg
from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.table import Table


class BadDatabaseUrl(ValueError):
    pass


class _PooledTransaction(SQLiteTransaction):
    """A transaction on a connection of the engine's pool, handed back when it ends."""

    engine: PooledSQLiteEngine

    async def get_connection(self) -> aiosqlite.Connection:
        return await self.engine.acquire()

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            await self.engine.release(self.connection)
            self.engine.current_transaction.reset(self.context)
        return exception is None


PAGE_CACHE_KB = 512


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine opens a connection, and its thread, for every query and
    every transaction, then sends each query in four trips to that thread (a pragma,
    execute, fetch, close). Between `start_connection_pool` and `close_connection_pool`
    (the server's lifespan) this one keeps the connections it opened for the event loop
    that started the pool, and runs a query in one trip. Writes stay serialised by
    directory.store.writing; a connection is reused only outside any transaction."""

    IDLE = 16  # connections kept open between bursts

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[aiosqlite.Connection] = []

    async def get_connection(self) -> aiosqlite.Connection:
        connection = await super().get_connection()
        # Each connection's own page cache (2 MB by default) on top of the system's: the
        # server keeps up to IDLE + its busy ones, and they filled up under load.
        await connection.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KB}")
        return connection

    async def use_wal(self) -> None:
        """Switch the file to write-ahead logging (a lasting property of the file)."""
        await self.run_ddl("PRAGMA journal_mode=WAL")

    async def start_connection_pool(self, **_: Any) -> None:
        self._loop = asyncio.get_running_loop()

    async def close_connection_pool(self) -> None:
        self._loop = None
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    def pooling(self) -> bool:
        """Whether this event loop is the one the pool serves (the server's)."""
        try:
            return self._loop is asyncio.get_running_loop()
        except RuntimeError:
            return False

    async def acquire(self) -> aiosqlite.Connection:
        if self.pooling() and self._idle:
            return self._idle.pop()
        return await self.get_connection()

    async def release(self, connection: aiosqlite.Connection) -> None:
        """Back to the pool, unless pooling is off or a transaction was left open."""
        if self.pooling() and len(self._idle) < self.IDLE and not connection.in_transaction:
            self._idle.append(connection)
        else:
            await connection.close()

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _PooledTransaction(self, transaction_type, allow_nested)

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if not self.pooling():
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await self.acquire()
        try:
            # Autocommit (isolation_level None): the statement commits as it completes.
            return list(await connection.execute_fetchall(query, args or []))
        finally:
            await self.release(connection)

    async def _run_in_existing_connection(
        self,
        connection: aiosqlite.Connection,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        # Every connection got `PRAGMA foreign_keys` when opened (get_connection), and
        # SQLite >= 3.35 returns inserted keys with RETURNING: one trip is enough.
        if self.get_version_sync() < 3.35:
            return await super()._run_in_existing_connection(
                connection, query, args, query_type, table
            )
        return list(await connection.execute_fetchall(query, args or []))


def insert_sql(table: type[Table], order: str) -> str:
    """An INSERT of every column of `table`, for `fetch(table, sql, *values)` with the values
    in column order: written once for rows written on every request, where Piccolo's
    insert rebuilds its query string from the row's columns each time. `order` names the
    columns as the caller passes its values, checked here once: a new column cannot shift
    them silently."""
    columns = table.all_columns()
    if [c._meta.name for c in columns] != order.split():
        raise ValueError(f"{table._meta.tablename}: columns are {[c._meta.name for c in columns]}")
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    values = ", ".join("{}" for _ in columns)
    return f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES ({values})'


def engine_from_url(url: str) -> Engine:
    """sqlite:///path/to/file.sqlite or postgresql://user:password@host:port/name."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = Path(unquote(parsed.path))
        path.parent.mkdir(parents=True, exist_ok=True)
        # A busy timeout lets concurrent writers queue instead of failing at once.
        return PooledSQLiteEngine(path=str(path), timeout=30)
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


async def keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset of a released connection: nothing beyond asyncpg's own rollback of
    an open transaction. The default also runs `RESET ALL; UNLISTEN *; CLOSE ALL;
    pg_advisory_unlock_all()`, one more round trip per query, for session state the app
    never sets (its advisory locks are transaction-scoped)."""


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
