"""Who is told what, by email, when a referral moves. Each message is written into the
outbox (service/outbox.py) inside the transaction of the change it announces, so a
committed referral always has its email; the worker composes and sends it afterwards,
with what `referral_context` reads at that moment. Keys are unique: nothing goes twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from directory.hours import LOCAL_TIME
from directory.tables import Person, Service, Structure
from directory.vocabulary import DOMAIN_LABELS
from service import outbox
from service.accounts.tables import User
from service.referrals.machine import REASON_LABELS, Status, Transition
from service.referrals.tables import Referral, YoungPerson

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


async def announce_transition(
    referral_id: UUID, transition: Transition, to_status: Status, version: int, now: datetime
) -> None:
    """Tell the referent advisor about a partner's or young person's answer. Call inside
    the transaction of the transition."""
    if transition not in TELL_ADVISOR:
        return
    await outbox.enqueue(
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
        },
        now=now,
    )


async def referral_context(referral_id: UUID) -> dict[str, Any]:
    """What the email templates may show, read when the message is sent: names, never the
    young person's contact details except to the young person themselves."""
    row = await Referral.select().where(Referral.id == referral_id).first()
    to_structure = await Structure.select().where(Structure.id == row["to_structure"]).first()
    from_structure = (
        await Structure.select(Structure.name).where(Structure.id == row["from_structure"]).first()
    )
    referent = (
        await User.select(User.name, User.email).where(User.id == row["referent"]).first()
        if row["referent"]
        else None
    )
    young = await YoungPerson.select().where(YoungPerson.id == row["young_person"]).first()
    service = (
        await Service.select(Service.name, Service.contact)
        .where(Service.id == row["to_service"])
        .first()
        if row["to_service"]
        else None
    )
    contact_id = row["to_contact"] or (service["contact"] if service else None)
    contact = (
        await Person.select().where((Person.id == contact_id) & (Person.active == True)).first()  # noqa: E712
        if contact_id
        else None
    )
    partner_email = (contact["email"] if contact else "") or to_structure["email"]
    return {
        "version": row["version"],
        "status": row["status"],
        "domain": row["domain"],
        "domain_label": DOMAIN_LABELS.get(row["domain"], row["domain"]),
        "urgent": row["urgency"] == "urgent",
        "to_structure_name": to_structure["name"],
        "from_structure_name": from_structure["name"],
        "service_name": service["name"] if service else "",
        "contact_name": f"{contact['first_name']} {contact['last_name']}" if contact else "",
        "partner_email": partner_email,
        "referent_name": referent["name"] if referent else "",
        "referent_email": referent["email"] if referent else "",
        "young_first_name": young["first_name"],
        "young_person_email": young["email"] if young["channel"] == "email" else "",
        "decline_reason": REASON_LABELS.get(row["decline_reason"], ""),
        "private_note": row["private_note"],
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
