"""One row per read or change of a referral or a directory record. It names the actor and
the record, never what was read: the trail itself holds no one's personal data but the
actor's, so it outlives the purge of young people's data."""

from piccolo.columns import UUID, ForeignKey, OnDelete, Timestamptz, Varchar
from piccolo.table import Table

from service.accounts.tables import User


class AuditEntry(Table, tablename="audit_entry"):
    id = UUID(primary_key=True)
    at = Timestamptz(index=True)
    # account | partner_link | young_person_link | system
    actor_kind = Varchar(length=20)
    actor_user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    # The account's name, or the kind of personal link ("Le jeune"): never a young person's.
    actor_label = Varchar(length=200, default="")
    action = Varchar(length=10)  # read | change
    # referral | structure | site | service | person | relationship | import
    subject_kind = Varchar(length=20, index=True)
    subject_id = UUID(null=True, default=None, index=True)
    # A code (a transition, or the route's shape with its ids left out), never free text.
    detail = Varchar(length=120, default="")
