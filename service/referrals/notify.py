"""Who is told what, by email, when a referral moves. Each message is written into the
outbox (service/outbox.py) inside the transaction of the change it announces, so a
committed referral always has its email; the worker composes and sends it afterwards,
with what `referral_context` reads at that moment. Keys are unique: nothing goes twice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from directory.hours import LOCAL_TIME
from directory.raw import fetch
from directory.tables import Person, Service, Structure
from directory.vocabulary import DOMAIN_LABELS
from service import outbox
from service.accounts.tables import User
from service.referrals.machine import REASON_LABELS, YOUNG_PERSON_SAYS, Status, Transition
from service.referrals.tables import Appointment, Referral, YoungPerson

# Partner answers the referent advisor hears about at once.
TELL_ADVISOR = {
    Transition.ACCEPT,
    Transition.DECLINE,
    Transition.REDIRECT,
    Transition.TAKE_IN,
    Transition.NO_SHOW,
    Transition.CLOSE,
    Transition.CLOSE_FAILED,
    Transition.WENT,
    Transition.COULD_NOT_GO,
    Transition.WITHDRAW,
    Transition.EXPIRE,
}


async def announce_referral(
    referral_id: UUID,
    partner_token: str,
    young_person_token: str | None,
    now: datetime,
    renewal: bool = False,
) -> None:
    """The partner's email with its personal link, and the young person's if they chose
    email. Call inside the transaction that created the links."""
    # A renewed link is a new message: key it by the token's start, not the referral.
    key = f"{referral_id}:link:{partner_token[:12]}" if renewal else f"{referral_id}:new:partner"
    await outbox.enqueue(
        key,
        "new_referral",
        "referral_new",
        audience="partner",
        referral_id=referral_id,
        context={"link": f"/p/{partner_token}"},
        now=now,
    )
    if young_person_token:
        # The audience's address is read at delivery: empty unless they chose email.
        await outbox.enqueue(
            f"{referral_id}:new:young_person",
            "young_person_link",
            "referral_young_person",
            audience="young_person",
            referral_id=referral_id,
            context={"link": f"/j/{young_person_token}"},
            now=now,
        )


@dataclass(frozen=True)
class Mail:
    """One message to write into the outbox, built before the transaction that writes it."""

    key: str
    kind: str
    template: str
    audience: str
    referral_id: UUID
    context: dict[str, Any] = field(default_factory=dict)


async def enqueue(mail: Mail, now: datetime) -> None:
    """Write `mail` into the outbox; call inside the transaction of the change it tells."""
    await outbox.enqueue(
        mail.key,
        mail.kind,
        mail.template,
        audience=mail.audience,
        referral_id=mail.referral_id,
        context=mail.context,
        now=now,
    )


def transition_mail(
    referral_id: UUID,
    transition: Transition,
    to_status: Status,
    version: int,
    reason: str = "",
    call_back: bool = False,
) -> Mail | None:
    """The referent advisor's message about a partner's or young person's answer, or None
    when this transition is not one they hear about at once."""
    if transition not in TELL_ADVISOR:
        return None
    could_not_go = transition == Transition.COULD_NOT_GO
    return Mail(
        f"{referral_id}:{transition}:{to_status}:{version}",
        f"update_{transition}",
        "referral_update",
        audience="referent",
        referral_id=referral_id,
        context={
            "transition": transition.value,
            "transition_label": transition.label,
            "status_label": to_status.label,
            "link": f"/orientations/{referral_id}",
            "young_says": YOUNG_PERSON_SAYS.get(transition.value, ""),
            "young_reason": REASON_LABELS.get(reason, "") if could_not_go else "",
            "call_back": call_back,
        },
    )


async def referral_context(referral_id: UUID) -> dict[str, Any]:
    """What the email templates may show, read when the message is sent: names, never the
    young person's contact details except to the young person themselves."""
    rows = await fetch(Referral, _CONTEXT_SQL, referral_id)
    if not rows:
        raise LookupError(f"referral {referral_id} not found")
    row = rows[0]
    contact = None
    if row["contact_first_name"] is not None:
        contact = {
            "first_name": row["contact_first_name"],
            "last_name": row["contact_last_name"],
            "email": row["contact_email"],
        }
    from service.referrals.appointments import context as appointment_context

    return {**appointment_context(row), **mail_context(row, contact)}


# One read per message, written once: the referral with its names, the partner's named
# contact while they still work there (the referral's, else the service's), and the
# appointment. It was three Piccolo selects, 10 of the 89 statements of a life cycle.
_CONTEXT_SQL = (
    "SELECT r.version, r.status, r.domain, r.urgency, r.language, r.decline_reason, "
    "r.private_note, r.acknowledge_due, r.answer_due, "
    "ts.name AS to_structure_name, ts.email AS to_structure_email, "
    "fs.name AS from_structure_name, u.name AS referent_name, u.email AS referent_email, "
    "y.first_name AS young_first_name, y.email AS young_email, y.channel AS young_channel, "
    "sv.name AS service_name, ss.name AS suggested_name, "
    "p.first_name AS contact_first_name, p.last_name AS contact_last_name, "
    "p.email AS contact_email, a.starts_at AS appointment_starts_at, "
    "a.place AS appointment_place, a.ask_for AS appointment_ask_for, "
    "a.bring AS appointment_bring "
    f"FROM {Referral._meta.tablename} r "
    f"LEFT JOIN {Structure._meta.tablename} ts ON ts.id = r.to_structure "
    f"LEFT JOIN {Structure._meta.tablename} fs ON fs.id = r.from_structure "
    f"LEFT JOIN {User._meta.tablename} u ON u.id = r.referent "
    f"LEFT JOIN {YoungPerson._meta.tablename} y ON y.id = r.young_person "
    f"LEFT JOIN {Service._meta.tablename} sv ON sv.id = r.to_service "
    f"LEFT JOIN {Structure._meta.tablename} ss ON ss.id = r.suggested_structure "
    f"LEFT JOIN {Person._meta.tablename} p "
    "ON p.id = COALESCE(r.to_contact, sv.contact) AND p.active "
    f"LEFT JOIN {Appointment._meta.tablename} a ON a.referral = r.id "
    "WHERE r.id = {}"
)


def mail_context(row: Mapping[str, Any], contact: Mapping[str, Any] | None) -> dict[str, Any]:
    """The template values: each audience's address, labels instead of codes, French
    dates."""
    return {
        "version": row["version"],
        "status": row["status"],
        "domain": row["domain"],
        "domain_label": DOMAIN_LABELS.get(row["domain"], row["domain"]),
        "urgent": row["urgency"] == "urgent",
        "language": row["language"],
        "to_structure_name": row["to_structure_name"],
        "from_structure_name": row["from_structure_name"],
        "service_name": row["service_name"] or "",
        "contact_name": f"{contact['first_name']} {contact['last_name']}" if contact else "",
        "partner_email": (contact["email"] if contact else "") or row["to_structure_email"],
        "referent_name": row["referent_name"] or "",
        "referent_email": row["referent_email"] or "",
        "young_first_name": row["young_first_name"],
        "young_person_email": row["young_email"] if row["young_channel"] == "email" else "",
        "decline_reason": REASON_LABELS.get(row["decline_reason"], ""),
        "private_note": row["private_note"],
        "suggested_structure_name": row["suggested_name"] or "",
        "acknowledge_due": french_date(row["acknowledge_due"]),
        "answer_due": french_date(row["answer_due"]),
    }


_DAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
_MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def french_date(moment: datetime | None) -> str:
    """« lundi 30 novembre 2026 », in Paris time."""
    if moment is None:
        return ""
    local = moment.astimezone(LOCAL_TIME)
    return f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"
