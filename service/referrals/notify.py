"""Who is told what, by email, when a referral moves. Each message is written into the
outbox (service/outbox.py) inside the transaction of the change it announces, so a
committed referral always has its email; the worker composes and sends it afterwards,
with what `referral_context` reads at that moment. Keys are unique: nothing goes twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from directory.hours import LOCAL_TIME
from directory.tables import Person
from directory.vocabulary import DOMAIN_LABELS
from service import outbox
from service.referrals.machine import REASON_LABELS, YOUNG_PERSON_SAYS, Status, Transition
from service.referrals.tables import Referral

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
    row = await _context_row(referral_id)
    contact = await _contact(row["to_contact"] or row["service_contact"])
    from service.referrals.appointments import context as appointment_context

    return {**await appointment_context(referral_id), **mail_context(row, contact)}


async def _context_row(referral_id: UUID) -> dict[str, Any]:
    row = (
        await Referral.select(
            Referral.version,
            Referral.status,
            Referral.domain,
            Referral.urgency,
            Referral.language,
            Referral.decline_reason,
            Referral.private_note,
            Referral.acknowledge_due,
            Referral.answer_due,
            Referral.to_contact,
            Referral.to_structure.name.as_alias("to_structure_name"),
            Referral.to_structure.email.as_alias("to_structure_email"),
            Referral.from_structure.name.as_alias("from_structure_name"),
            Referral.referent.name.as_alias("referent_name"),
            Referral.referent.email.as_alias("referent_email"),
            Referral.young_person.first_name.as_alias("young_first_name"),
            Referral.young_person.email.as_alias("young_email"),
            Referral.young_person.channel.as_alias("young_channel"),
            Referral.to_service.name.as_alias("service_name"),
            Referral.to_service.contact.as_alias("service_contact"),
            Referral.suggested_structure.name.as_alias("suggested_name"),
        )
        .where(Referral.id == referral_id)
        .first()
    )
    if row is None:
        raise LookupError(f"referral {referral_id} not found")
    return row


async def _contact(contact_id: UUID | None) -> dict[str, Any] | None:
    """The partner's named contact, while they still work there."""
    if not contact_id:
        return None
    return (
        await Person.select(Person.first_name, Person.last_name, Person.email)
        .where((Person.id == contact_id) & (Person.active == True))  # noqa: E712
        .first()
    )


def mail_context(row: dict[str, Any], contact: dict[str, Any] | None) -> dict[str, Any]:
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
