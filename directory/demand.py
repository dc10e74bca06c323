"""Demand signals (directory.tables.SearchRecord) written a few at a time, after the answer.

Every first page of a search records where and for what it looked, never who. One INSERT
per search put a write in every search's path: on SQLite, writers queue on the database's
single write lock (and sleep while they wait), which held a national server to 70 searches
a second at 8 clients. The searches of a fraction of a second are now written together, by
one INSERT, once the answers are gone. A signal is visible to the coverage map of its own
process at once (`flush` before reading) and to the other processes within FLUSH_AFTER."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from piccolo.engine.base import Engine
from piccolo.querystring import QueryString

from directory.store import writing
from directory.tables import SearchRecord

log = logging.getLogger(__name__)

FLUSH_AFTER = 0.2  # seconds
# Beyond this many waiting signals (the database is down), new ones are dropped: these are
# counts for a map, not records anyone relies on one by one.
MAX_WAITING = 10_000
_ROW = "({}, {}, {}, {})"

_Signal = tuple[datetime, str, list[str], int]
_waiting: dict[Engine, list[_Signal]] = {}
# A task per database that sleeps FLUSH_AFTER, then writes what waits: cancelled safely
# while it sleeps (flush), awaited while it writes.
_sleeping: dict[Engine, asyncio.Task[None]] = {}
_writing: set[asyncio.Task[None]] = set()


def record(commune: str, domains: list[str], results: int, at: datetime | None = None) -> None:
    """Keep a signal for the bound database; it is written within FLUSH_AFTER."""
    engine = SearchRecord._meta.db
    waiting = _waiting.setdefault(engine, [])
    if len(waiting) >= MAX_WAITING:
        log.warning("demand signal dropped: %d already waiting", len(waiting))
        return
    waiting.append((at or datetime.now(UTC), commune, domains, results))
    if engine not in _sleeping:
        _sleeping[engine] = asyncio.get_running_loop().create_task(_flush_soon(engine))


async def _flush_soon(engine: Engine) -> None:
    await asyncio.sleep(FLUSH_AFTER)
    task = _sleeping.pop(engine)
    _writing.add(task)
    try:
        await _write(engine)
    finally:
        _writing.discard(task)


async def flush() -> None:
    """Write every waiting signal now: before reading them, and at shutdown."""
    loop = asyncio.get_running_loop()
    for engine, task in list(_sleeping.items()):
        if task.get_loop() is loop:
            task.cancel()
            del _sleeping[engine]
    ongoing = [task for task in _writing if task.get_loop() is loop]
    if ongoing:
        await asyncio.wait(ongoing)
    for engine in list(_waiting):
        await _write(engine)


async def _write(engine: Engine) -> None:
    signals = _waiting.pop(engine, [])
    if not signals:
        return
    table = SearchRecord._meta.tablename
    sql = f"INSERT INTO {table} (at, commune, domains, results) VALUES " + ", ".join(
        [_ROW] * len(signals)
    )
    values: list[Any] = [value for signal in signals for value in signal]
    try:
        if engine is SearchRecord._meta.db:
            async with writing():  # on SQLite, behind this process's other writers
                await engine.run_querystring(QueryString(sql, *values))
        else:  # the database was swapped since (tests): its signals still go to it
            await engine.run_querystring(QueryString(sql, *values))
    except Exception:  # a failed write must not reach a search; the next ones are tried
        log.exception("could not write %d demand signals", len(signals))
