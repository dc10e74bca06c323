from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T11:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Index remote services by 'r:<zone>' search keys"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="directory", description=DESCRIPTION)

    async def add_remote_keys():
        engine = engine_finder()
        await engine.run_ddl(
            "INSERT INTO service_key (service, key) "
            "SELECT z.service, 'r:' || substr(z.key, 3) FROM service_key z "
            "JOIN service sv ON sv.id = z.service WHERE sv.remote AND z.key LIKE 'z:%'"
        )
        await engine.run_ddl(
            "INSERT INTO service_key (service, key) "
            "SELECT sv.id, 'r:none' FROM service sv WHERE sv.remote AND NOT EXISTS "
            "(SELECT 1 FROM service_key z WHERE z.service = sv.id AND z.key LIKE 'z:%')"
        )

    async def remove_remote_keys():
        await engine_finder().run_ddl("DELETE FROM service_key WHERE key LIKE 'r:%'")

    manager.add_raw(add_remote_keys)
    manager.add_raw_backwards(remove_remote_keys)
    return manager
