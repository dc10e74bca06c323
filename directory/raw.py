"""Reads that run on every search, sent straight to the driver.

`Table.raw` parses its template again on every call (a string.Formatter pass and a
fragment per placeholder) and, on PostgreSQL, copies every asyncpg record into a dict: 8 %
of a national search server's time went there for the seven fixed statements of a search
request. `fetch` compiles each statement once and returns the driver's rows, which read
like Piccolo's (`row["column"]`, the same Python types). Inside a transaction, or before
the server's pool is up, it goes through Piccolo as before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import aiosqlite
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table


@runtime_checkable
class _SQLitePool(Protocol):
    """What service.db's PooledSQLiteEngine offers (directory does not import service)."""

    def pooling(self) -> bool: ...
    async def acquire(self) -> aiosqlite.Connection: ...
    async def release(self, connection: aiosqlite.Connection) -> None: ...


# (template, engine kind) -> the statement with the driver's placeholders.
_compiled: dict[tuple[str, str], str] = {}


def _statement(template: str, kind: str, count: int) -> str:
    key = (template, kind)
    found = _compiled.get(key)
    if found is None:
        marks = [f"${i}" for i in range(1, count + 1)] if kind == "postgres" else ["?"] * count
        found = _compiled[key] = template.format(*marks)
        if len(_compiled) > 10_000:  # templates with a varying IN list: keep it bounded
            _compiled.clear()
    return found


async def fetch(table: type[Table], template: str, *args: Any) -> Sequence[Mapping[str, Any]]:
    """`table.raw(template, *args)`: `{}` marks each argument."""
    engine = table._meta.db
    if engine.current_transaction.get() is None:
        if isinstance(engine, PostgresEngine) and engine.pool is not None:
            statement = _statement(template, "postgres", len(args))
            async with engine.pool.acquire() as connection:
                return await connection.fetch(statement, *args)
        if isinstance(engine, _SQLitePool) and engine.pooling():
            statement = _statement(template, "sqlite", len(args))
            connection = await engine.acquire()
            try:
                rows = await connection.execute_fetchall(statement, args)
                return list(rows)  # type: ignore[arg-type]  # dicts: Piccolo's row factory
            finally:
                await engine.release(connection)
    return await table.raw(template, *args)
