"""Every database test runs twice, on SQLite and on PostgreSQL. Each engine gets a fresh
database created and migrated once per session; every test starts from empty tables.

MAILLAGE_TEST_POSTGRES_URL names the PostgreSQL server (default: 127.0.0.1:5432, user
postgres, trust auth). When no server answers, the PostgreSQL half is skipped with a loud
warning, unless MAILLAGE_REQUIRE_POSTGRES=1 (as in .ci/run), which makes it an error."""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
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
ENGINES = ["sqlite", "postgres"]

_created: dict[str, str] = {}
_tmp = tempfile.TemporaryDirectory(prefix="maillage-tests-")
_pg_database = f"maillage_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
_pg_problem: str | None = None


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
        database_url=database_url, secret_key="test-secret", database_pool=False, debug=True
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    app = create_app(settings)
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client
