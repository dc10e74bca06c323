"""The referral exchange's tables. A young person is stored minimally (first name or
pseudonym, birth year or age range, commune, contact details they agreed to share); every
transition of a referral is an immutable event."""

from piccolo.columns import (
    UUID,
    Array,
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from conventions.tables import Convention
from directory.tables import Person, Service, Structure
from service.accounts.tables import User


class YoungPerson(Table, tablename="young_person"):
    id = UUID(primary_key=True)
    first_name = Varchar(length=80)  # or a pseudonym
    birth_year = Integer(null=True, default=None)
    age_range = Varchar(length=10, default="")
    commune = Varchar(length=5, default="")
    phone = Varchar(length=20, default="")
    email = Varchar(length=254, default="")
    # The channel the young person agreed to be contacted on: "", "sms" or "email".
    channel = Varchar(length=10, default="")
    referent = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    created_at = Timestamptz()
    anonymised_at = Timestamptz(null=True, default=None)


class Referral(Table):
    id = UUID(primary_key=True)
    young_person = ForeignKey(YoungPerson, on_delete=OnDelete.restrict, null=False, index=True)
    # A redirection creates a new referral whose parent is the redirected one.
    parent: ForeignKey["Referral"] = ForeignKey(
        "self", on_delete=OnDelete.set_null, null=True, default=None
    )
    from_structure = ForeignKey(Structure, on_delete=OnDelete.restrict, null=False, index=True)
    referent = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None, index=True)
    to_structure = ForeignKey(Structure, on_delete=OnDelete.restrict, null=False, index=True)
    to_service = ForeignKey(Service, on_delete=OnDelete.set_null, null=True, default=None)
    to_contact = ForeignKey(Person, on_delete=OnDelete.set_null, null=True, default=None)
    # The convention whose commitments set this referral's deadlines, if any.
    convention = ForeignKey(Convention, on_delete=OnDelete.set_null, null=True, default=None)
    domain = Varchar(length=20)
    urgency = Varchar(length=10, default="normal")
    # The young person's language for their page and emails (service/i18n.py LANGUAGES).
    language = Varchar(length=5, default="fr")
    message = Text(default="")
    status = Varchar(length=16, default="draft", index=True)
    # Incremented by every transition: an update that finds another version lost a race.
    version = Integer(default=0)
    held_from = Varchar(length=16, default="")
    held_since = Timestamptz(null=True, default=None)
    acknowledge_due = Timestamptz(null=True, default=None)
    answer_due = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    acknowledged_at = Timestamptz(null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None, index=True)
    outcome = Varchar(length=40, default="")
    decline_reason = Varchar(length=40, default="")
    # Seen by the referent advisor only, never by the young person.
    private_note = Text(default="")
    # The structure a declining partner suggests instead, offered to the advisor in one click.
    suggested_structure = ForeignKey(
        Structure, on_delete=OnDelete.set_null, null=True, default=None
    )
    created_at = Timestamptz()


class Consent(Table):
    """The young person's free consent to this referral and what it shares."""

    id = UUID(primary_key=True)
    referral = ForeignKey(Referral, on_delete=OnDelete.cascade, null=False, index=True)
    given_at = Timestamptz()
    collected_by = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    shares = Array(base_column=Varchar(length=20))
    withdrawn_at = Timestamptz(null=True, default=None)


class ReferralEvent(Table, tablename="referral_event"):
    """Immutable: written once per transition, never updated nor deleted."""

    id = UUID(primary_key=True)
    referral = ForeignKey(Referral, on_delete=OnDelete.cascade, null=False, index=True)
    at = Timestamptz()
    actor_kind = Varchar(length=16)  # advisor | partner | young_person | system
    actor_user = ForeignKey(User, on_delete=OnDelete.set_null, null=True, default=None)
    actor_label = Varchar(length=200, default="")
    transition = Varchar(length=20)
    from_status = Varchar(length=16)
    to_status = Varchar(length=16)
    reason = Varchar(length=40, default="")
    note = Text(default="")
    # True when the note is for the referent advisor only (a decline message).
    private = Boolean(default=False)


class Appointment(Table):
    """The meeting a partner gives the young person on an accepted referral: personal
    data, erased with the referral's shared data (withdrawal, cancellation, purge)."""

    id = UUID(primary_key=True)
    referral = ForeignKey(Referral, on_delete=OnDelete.cascade, null=False, unique=True)
    starts_at = Timestamptz()
    place = Varchar(length=300)
    ask_for = Varchar(length=120, default="")
    bring = Text(default="")
    set_at = Timestamptz()


class AccessLink(Table, tablename="referral_link"):
    """A personal link for one party of one referral; only a hash of its token is kept."""

    id = UUID(primary_key=True)
    referral = ForeignKey(Referral, on_delete=OnDelete.cascade, null=False, index=True)
    party = Varchar(length=16)  # partner | young_person
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)


class OutboxMessage(Table, tablename="mail_outbox"):
    """The outbox: one row per message. It is written in the same transaction as the change
    it announces, so a committed change always has its message; a worker delivers it later
    (service/outbox.py). The unique key makes each message happen once. Once delivered,
    what the message said is erased; whom it went to and when stay, until purge."""

    id = UUID(primary_key=True)
    key = Varchar(length=200, unique=True)
    referral = ForeignKey(Referral, on_delete=OnDelete.cascade, null=True, default=None)
    kind = Varchar(length=40)
    # The address; empty until delivery when `audience` names a party of the referral.
    recipient = Varchar(length=254, default="")
    audience = Varchar(length=16, default="")  # partner | referent | young_person
    template = Varchar(length=60, default="")
    # JSON: what the template needs beyond the referral (a personal link's path...).
    context = Text(default="")
    created_at = Timestamptz()
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None, index=True)
    # A worker holds a message until then; another may take it over afterwards.
    claimed_until = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    # The .eml file written when there is no SMTP server, so that purge can delete it.
    file = Varchar(length=500, default="")
    sent_at = Timestamptz(null=True, default=None)
    given_up_at = Timestamptz(null=True, default=None)


class IdempotencyKey(Table, tablename="idempotency_key"):
    """A client's retry key for sending a referral: the same key gives back the first answer
    instead of a second referral. Only a hash of the key is kept; the answer, which holds
    personal links, is sealed with the key itself, so the database alone cannot open it."""

    id = UUID(primary_key=True)
    key_hash = Varchar(length=64, unique=True)
    request_hash = Varchar(length=64)
    referral = ForeignKey(Referral, on_delete=OnDelete.cascade, null=True, default=None)
    sealed = Text(default="")
    created_at = Timestamptz(index=True)
