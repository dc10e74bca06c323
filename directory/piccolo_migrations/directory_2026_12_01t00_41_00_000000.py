from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T00:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "One record per data·inclusion (source, id); retired network codes"


async def retire_networks():
    """Network codes that are not in the national list become their nearest national code
    (directory.vocabulary.RETIRED_NETWORKS, written out here as migrations must not change)."""
    await engine_finder().run_ddl("UPDATE structure SET network = 'aci' WHERE network = 'siae'")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="directory", description=DESCRIPTION)

    async def unique_origin():
        engine = engine_finder()
        for table in ("structure", "service"):
            await engine.run_ddl(
                f'CREATE UNIQUE INDEX "{table}_source_unique" ON "{table}" (source, source_id)'
            )

    async def drop_unique_origin():
        engine = engine_finder()
        for table in ("structure", "service"):
            await engine.run_ddl(f'DROP INDEX IF EXISTS "{table}_source_unique"')

    manager.add_raw(unique_origin)
    manager.add_raw(retire_networks)
    manager.add_raw_backwards(drop_unique_origin)
    return manager
