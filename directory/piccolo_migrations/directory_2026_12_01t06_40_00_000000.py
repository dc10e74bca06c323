"""Keep a version of the directory in the database itself, so that every server process's
search index (directory.search_index) knows what changed since it last looked.

Triggers on structure, site and service bump one counter and note the structures touched,
in the writing transaction: no write path (forms, imports, merges, raw SQL, cascades) can
forget it. On PostgreSQL the counter's row lock orders the versions as the transactions
commit, and the triggers run once per statement (a national import inserts 180,000
services in a few hundred statements); SQLite has only row triggers and one writer at a
time. A TRUNCATE (PostgreSQL) raises the floor: every index rebuilds."""

import secrets

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-01T06:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Directory version counter and changed structures, kept by triggers"

# Table -> the column that names the structure a row belongs to.
_TABLES = {"structure": "id", "site": "structure", "service": "structure"}

_TABLES_SQL = [
    "CREATE TABLE directory_version (id INTEGER PRIMARY KEY, n BIGINT NOT NULL, "
    "floor BIGINT NOT NULL, epoch VARCHAR(32) NOT NULL)",
    "CREATE TABLE directory_dirty (n BIGINT NOT NULL, structure {uuid} NOT NULL)",
    "CREATE INDEX directory_dirty_n ON directory_dirty (n)",
]

_PG_FUNCTION = """
CREATE FUNCTION directory_touch_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE v BIGINT;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    UPDATE directory_version SET n = n + 1, floor = n + 1;
    RETURN NULL;
  END IF;
  UPDATE directory_version SET n = n + 1 RETURNING n INTO v;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO directory_dirty (n, structure) SELECT DISTINCT v, {column} FROM new_rows;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO directory_dirty (n, structure) SELECT DISTINCT v, {column} FROM old_rows;
  ELSE
    INSERT INTO directory_dirty (n, structure)
      SELECT v, {column} FROM new_rows UNION SELECT v, {column} FROM old_rows;
  END IF;
  RETURN NULL;
END $$
"""

_PG_TRIGGERS = [
    "CREATE TRIGGER directory_touch_{table}_insert AFTER INSERT ON {table} "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION directory_touch_{table}()",
    "CREATE TRIGGER directory_touch_{table}_update AFTER UPDATE ON {table} "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION directory_touch_{table}()",
    "CREATE TRIGGER directory_touch_{table}_delete AFTER DELETE ON {table} "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION directory_touch_{table}()",
    "CREATE TRIGGER directory_touch_{table}_truncate AFTER TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION directory_touch_{table}()",
]

_SQLITE_TRIGGER = """
CREATE TRIGGER directory_touch_{table}_{op} AFTER {op} ON {table} BEGIN
  UPDATE directory_version SET n = n + 1;
  {inserts}
END
"""
_SQLITE_INSERT = (
    "INSERT INTO directory_dirty (n, structure) SELECT n, {row}.{column} FROM directory_version;"
)


def _sqlite_triggers() -> list[str]:
    statements = []
    for table, column in _TABLES.items():
        for op, rows in (("insert", ["NEW"]), ("update", ["OLD", "NEW"]), ("delete", ["OLD"])):
            inserts = "\n  ".join(_SQLITE_INSERT.format(row=r, column=column) for r in rows)
            statements.append(_SQLITE_TRIGGER.format(table=table, op=op, inserts=inserts))
    return statements


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="directory", description=DESCRIPTION)

    async def create():
        engine = engine_finder()
        postgres = isinstance(engine, PostgresEngine)
        for sql in _TABLES_SQL:
            await engine.run_ddl(sql.format(uuid="UUID" if postgres else "VARCHAR(36)"))
        await engine.run_ddl(
            "INSERT INTO directory_version (id, n, floor, epoch) "
            f"VALUES (1, 0, 0, '{secrets.token_hex(8)}')"
        )
        if postgres:
            for table, column in _TABLES.items():
                await engine.run_ddl(_PG_FUNCTION.format(table=table, column=column))
                for trigger in _PG_TRIGGERS:
                    await engine.run_ddl(trigger.format(table=table))
        else:
            for trigger in _sqlite_triggers():
                await engine.run_ddl(trigger)

    async def drop():
        engine = engine_finder()
        postgres = isinstance(engine, PostgresEngine)
        for table in _TABLES:
            for op in ("insert", "update", "delete", "truncate"):
                if postgres or op != "truncate":
                    on = f" ON {table}" if postgres else ""
                    await engine.run_ddl(f"DROP TRIGGER IF EXISTS directory_touch_{table}_{op}{on}")
            if postgres:
                await engine.run_ddl(f"DROP FUNCTION IF EXISTS directory_touch_{table}()")
        await engine.run_ddl("DROP TABLE IF EXISTS directory_dirty")
        await engine.run_ddl("DROP TABLE IF EXISTS directory_version")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
