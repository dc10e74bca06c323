"""Every database test runs twice, on SQLite and on PostgreSQL. Each engine gets a fresh
database created and migrated once per session; every test starts from empty tables.

MAILLAGE_TEST_POSTGRES_URL names the PostgreSQL server (default: 127.0.0.1:5432, user
postgres, trust auth). When no server answers, the PostgreSQL half is skipped with a loud
warning, unless MAILLAGE_REQUIRE_POSTGRES=1 (as in .ci/run), which makes it an error.
MAILLAGE_TEST_ENGINES=sqlite (or postgres) runs one half only.

Time is an input: MAILLAGE_TEST_NOW=2026-12-24T23:30:00+01:00 runs the whole session as if
the clock had been set to that moment (it keeps ticking), so that `.ci/run` can try the
date-sensitive tests on awkward days: a Monday, the eve of a holiday, late at night in Paris,
a daylight-saving switch, 29 February."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest
import time_machine
from litestar.testing import AsyncTestClient
from piccolo.engine.postgres import PostgresEngine

from service import db
from service.app import create_app
from service.settings import Settings
from tests.smtp import smtp_server, threaded_smtp_server  # noqa: F401 - fixtures

PG_ADMIN_URL = os.environ.get(
    "MAILLAGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("MAILLAGE_REQUIRE_POSTGRES") == "1"
ENGINES = os.environ.get("MAILLAGE_TEST_ENGINES", "sqlite,postgres").split(",")
TEST_NOW = os.environ.get("MAILLAGE_TEST_NOW", "")

_created: dict[str, str] = {}
_tmp = tempfile.TemporaryDirectory(prefix="maillage-tests-")
_pg_database = f"maillage_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
_pg_problem: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "dated: reads the clock; .ci/run also runs it at fixed awkward dates"
    )
    if TEST_NOW:
        # time-machine moves every clock read in this process (datetime, time, date.today)
        # without touching the event loop's monotonic clock.
        time_machine.travel(datetime.fromisoformat(TEST_NOW), tick=True).start()


def pytest_report_header() -> str:
    clock = f"the clock starts at {TEST_NOW}" if TEST_NOW else "the real clock"
    return f"maillage: engines {', '.join(ENGINES)}; {clock}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _pg_admin(sql: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _database_url(engine: str) -> str:
    global _pg_problem
    if engine in _created:
        return _created[engine]
    if engine == "sqlite":
        url = f"sqlite:///{Path(_tmp.name) / 'maillage.sqlite'}"
    else:
        if _pg_problem:
            pytest.skip(_pg_problem)
        try:
            asyncio.run(_pg_admin(f'CREATE DATABASE "{_pg_database}"'))
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            _pg_problem = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {error}"
            if REQUIRE_POSTGRES:
                pytest.fail(_pg_problem)
            warnings.warn(
                f"\n\n*** {_pg_problem}\n*** ONLY THE SQLITE HALF OF THE SUITE RUNS.\n",
                stacklevel=1,
            )
            pytest.skip(_pg_problem)
        base = PG_ADMIN_URL.rsplit("/", 1)[0]
        url = f"{base}/{_pg_database}"
    db.use_database(url)
    asyncio.run(db.migrate())
    _created[engine] = url
    return url


def pytest_sessionfinish(session: pytest.Session) -> None:
    if "postgres" in _created:
        try:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{_pg_database}" WITH (FORCE)'))
        except Exception as error:  # leave a note, never hide the test results
            print(f"could not drop test database {_pg_database}: {error}")
    _tmp.cleanup()


@pytest.fixture(params=ENGINES, scope="session")
def engine_name(request: pytest.FixtureRequest) -> str:
    return request.param


async def _empty_tables() -> None:
    tables = db.all_tables()
    engine = tables[0]._meta.db
    names = [t._meta.tablename for t in tables]
    if isinstance(engine, PostgresEngine):
        await engine.run_ddl("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE")
    else:
        for name in reversed(names):
            await engine.run_ddl(f'DELETE FROM "{name}"')


@pytest.fixture
def database_url(engine_name: str) -> Iterator[str]:
    """A bound, empty database on the engine under test."""
    url = _database_url(engine_name)
    db.use_database(url)
    asyncio.run(_empty_tables())
    yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    # debug: a 500 in a test shows its traceback in the response body.
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        database_pool=False,
        gc_freeze=False,
        debug=True,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(settings)
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
