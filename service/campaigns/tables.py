"""Verification campaigns and the personal links that let a partner correct its own entry.
Like the referral links, a link's token is never stored: only its sha256 hash."""

from piccolo.columns import (
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from directory.tables import Structure, Territory
from service.accounts.tables import User


class Campaign(Table):
    """A coordinator's request to every structure of a territory or a selection whose entry
    is older than `older_than_months`: review your entry, or say nothing changed."""

    id = UUID(primary_key=True)
    name = Varchar(length=200)
    # Either a territory (structures with a site in its communes) or a selection.
    territory = ForeignKey(Territory, on_delete=OnDelete.set_null, null=True, default=None)
    # JSON list of structure ids when the campaign is for a selection, else "[]".
    selection = Text(default="[]")
    older_than_months = Integer(default=12)
    created_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_by_name = Varchar(length=200, default="")
    created_at = Timestamptz()
    # The links expire then; closing earlier revokes them.
    closes_at = Timestamptz(null=True, default=None)
    status = Varchar(length=12, default="open")  # open | closed
    closed_at = Timestamptz(null=True, default=None)


class EntryLink(Table, tablename="entry_link"):
    """A personal link to one structure's entry; only a hash of its token is kept."""

    id = UUID(primary_key=True)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    purpose = Varchar(length=20)  # campaign | report
    campaign = ForeignKey(Campaign, on_delete=OnDelete.cascade, null=True, default=None)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)


class CampaignTarget(Table, tablename="campaign_target"):
    """One structure of one campaign: where its mail went, reminders, and its answer."""

    id = UUID(primary_key=True)
    campaign = ForeignKey(Campaign, on_delete=OnDelete.cascade, null=False, index=True)
    structure = ForeignKey(Structure, on_delete=OnDelete.cascade, null=False, index=True)
    # "<campaign id>:<structure id>": unique, so that a structure is never targeted twice.
    key = Varchar(length=80, unique=True)
    # The address the mail went to; "" when the structure has none (to call instead).
    email = Varchar(length=254, default="")
    link = ForeignKey(EntryLink, on_delete=OnDelete.set_null, null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    reminded_at = Timestamptz(null=True, default=None)
    reminder_count = Integer(default=0)
    answered_at = Timestamptz(null=True, default=None)
    outcome = Varchar(length=12, default="")  # "" | confirmed | corrected
    # The outbox gave up delivering one of its messages.
    bounced = Boolean(default=False)
