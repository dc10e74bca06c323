from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder

ID = "2026-11-30T21:23:07:922772"
VERSION = "1.38.0"
DESCRIPTION = "Notifications move into the mail outbox"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="referrals", description=DESCRIPTION
    )

    async def keep_what_was_sent() -> None:
        # Messages sent before the outbox keep their keys, so that `maillage remind` does
        # not send them again; what they said was never stored.
        # The engine of this run (a table class here would keep the first one it saw).
        await engine_finder().run_ddl(
            "INSERT INTO mail_outbox (id, key, referral, kind, recipient, audience, template, "
            "context, created_at, attempts, last_error, file, sent_at) "
            "SELECT id, key, referral, kind, recipient, '', '', '', sent_at, 1, '', '', sent_at "
            "FROM notification"
        )

    manager.add_raw(keep_what_was_sent)

    manager.drop_table(
        class_name="Notification", tablename="notification", schema=None
    )

    return manager
