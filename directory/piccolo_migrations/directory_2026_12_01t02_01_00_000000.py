from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine

ID = "2026-12-01T02:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Hand-typed verification dates become verified_at (kind 'legacy')"


async def typed_dates_to_verified_at():
    """A typed date becomes a verification at midnight UTC that day, by "legacy": nobody
    knows who typed it. Imported services get their date at the source."""
    engine = engine_finder()
    if isinstance(engine, SQLiteEngine):
        moment = "{0} || 'T00:00:00+00:00'"
    else:
        moment = "({0}::timestamp AT TIME ZONE 'UTC')"
    await engine.run_ddl(
        "UPDATE structure SET verified_at = "
        + moment.format("last_verified_on")
        + ", verified_by_kind = 'legacy', verified_by = 'date saisie à la main'"
        " WHERE last_verified_on IS NOT NULL"
    )
    await engine.run_ddl(
        "UPDATE service SET verified_at = "
        + moment.format("source_date")
        + ", verified_by_kind = 'import', verified_by = 'import data·inclusion'"
        " WHERE source_date IS NOT NULL"
    )


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="directory", description=DESCRIPTION)
    manager.add_raw(typed_dates_to_verified_at)
    manager.drop_column(
        table_class_name="Structure",
        tablename="structure",
        column_name="last_verified_on",
        db_column_name="last_verified_on",
        schema=None,
    )
    return manager
