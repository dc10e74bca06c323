"""One row per import of the directory from the web or the API. The report lives in the
row itself (text), not in a file: every server process reads the same database, whereas a
media folder need not be shared between them; and the purge erases it with one UPDATE in
the same transaction as its audit mark, leaving no stray file behind."""

from piccolo.columns import UUID, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from service.accounts.tables import User


class ImportJob(Table, tablename="import_job"):
    id = UUID(primary_key=True)
    kind = Varchar(length=20)  # csv | data-inclusion
    started_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    # The account's name when the import started: the list still says who after a deletion.
    started_by_name = Varchar(length=200, default="")
    started_at = Timestamptz(index=True)
    # Written with the progress: a running import whose heartbeat is too old was interrupted
    # (a restart, a crash) and is shown so, not as running forever.
    heartbeat_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)
    status = Varchar(length=20, default="running")  # running | done | refused | failed
    done = Integer(default=0)
    total = Integer(default=0)
    # Counts and messages, JSON; after the purge, counts only.
    summary = Text(default="{}")
    # The report: CSV text (csv) or JSON text (data-inclusion); "" when none or purged. It
    # names partner staff, so the purge erases it after the retention period.
    report = Text(default="")
    purged_at = Timestamptz(null=True, default=None)
