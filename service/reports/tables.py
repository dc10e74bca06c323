"""Reports of wrong data: an advisor says what is wrong with a partner's entry; the
partner (by its personal link) and the coordinators are told; the report closes when the
record is fixed, or when a coordinator closes it."""

from piccolo.columns import UUID, ForeignKey, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from directory.tables import Person, Service, Site, Structure
from service.accounts.tables import User


class DataReport(Table, tablename="data_report"):
    id = UUID(primary_key=True)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, null=False, index=True)
    service = ForeignKey(Service, on_delete=OnDelete.set_null, null=True, default=None)
    site = ForeignKey(Site, on_delete=OnDelete.set_null, null=True, default=None)
    person = ForeignKey(Person, on_delete=OnDelete.set_null, null=True, default=None)
    reason = Varchar(length=30)
    note = Text(default="")
    reported_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    # Kept apart from the user, so the report still says who once the account is gone.
    reported_by_label = Varchar(length=300, default="")
    created_at = Timestamptz()
    status = Varchar(length=10, default="open", index=True)  # open, fixed, dismissed
    closed_at = Timestamptz(null=True, default=None)
    closed_by = Varchar(length=300, default="")
    closing_note = Text(default="")
    # Later reports of the same record and reason, merged into this one.
    seconded = Text(default="")
