"""Partnership conventions: formal agreements between structures, naming a dedicated
referent on each side and commitments such as how fast a referral is answered."""

from piccolo.columns import (
    UUID,
    Array,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from directory.tables import Person, Structure


class Convention(Table):
    id = UUID(primary_key=True)
    title = Varchar(length=200)
    level = Varchar(length=16)
    domains = Array(base_column=Varchar(length=20))
    signed_on = Date(null=True, default=None)
    starts_on = Date()
    ends_on = Date(null=True, default=None)
    terminated_on = Date(null=True, default=None)
    termination_reason = Text(default="")
    # Commitments on referrals, in working days; none means the exchange's defaults.
    acknowledge_days = Integer(null=True, default=None)
    answer_days = Integer(null=True, default=None)
    commitments = Text(default="")
    pdf_file = Varchar(length=200, default="")
    pdf_name = Varchar(length=200, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ConventionParty(Table, tablename="convention_party"):
    """A signatory structure and its dedicated referent."""

    convention = ForeignKey(Convention, on_delete=OnDelete.cascade, null=False, index=True)
    structure = ForeignKey(Structure, on_delete=OnDelete.restrict, null=False, index=True)
    referent = ForeignKey(Person, on_delete=OnDelete.set_null, null=True, default=None)
