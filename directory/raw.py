"""Reads that run on every search, sent straight to the driver.

`Table.raw` parses its template again on every call (a string.Formatter pass and a
fragment per placeholder) and, on PostgreSQL, copies every asyncpg record into a dict: 8 %
of a national search server's time went there for the seven fixed statements of a search
request. `fetch` compiles each statement once and returns the driver's rows, which read
like Piccolo's (`row["column"]`, the same Python types). Inside a transaction it runs on
the transaction's connection; before the server's pool is up (scripts, migrations) it goes
through Piccolo as before.

The referral exchange writes through it too: a life cycle's steps spent 27 % of the
server's time in Piccolo building and copying (`Query.querystrings`, `convert_to_sql_value`,
the dicts of `raw`) for statements that never change."""

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
    transaction = engine.current_transaction.get()
    if transaction is not None:
        connection = getattr(transaction, "connection", None)
        if connection is not None and isinstance(engine, PostgresEngine | _SQLitePool):
            return await _run(engine, connection, template, args)
    elif isinstance(engine, PostgresEngine) and engine.pool is not None:
        async with engine.pool.acquire() as connection:
            return await _run(engine, connection, template, args)
    elif isinstance(engine, _SQLitePool) and engine.pooling():
        connection = await engine.acquire()
        try:
            return await _run(engine, connection, template, args)
        finally:
            await engine.release(connection)
    return await table.raw(template, *args)


async def _run(
    engine: object, connection: Any, template: str, args: tuple[Any, ...]
) -> Sequence[Mapping[str, Any]]:
    if isinstance(engine, PostgresEngine):
        rows: Sequence[Mapping[str, Any]] = await connection.fetch(
            _statement(template, "postgres", len(args)), *args
        )
        return rows
    # Dicts: Piccolo's row factory, set on every connection the engine opens.
    return list(await connection.execute_fetchall(_statement(template, "sqlite", len(args)), args))
