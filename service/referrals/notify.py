"""Who is told what, by email, when a referral moves. Every message is recorded with a
unique key, so nothing is sent twice (reminders rely on it). A mail failure is logged and
does not undo the referral: the advisor still sees its state and its link."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from directory.hours import LOCAL_TIME
from directory.store import writing
from directory.tables import Person, Service, Structure
from directory.vocabulary import DOMAIN_LABELS
from service.accounts.tables import User
from service.mail import Mailer, MailError, TemplatedMail
from service.referrals.exchange import REASON_LABELS, Done, Sent
from service.referrals.machine import Status, Transition
from service.referrals.tables import Notification, Referral, YoungPerson

log = logging.getLogger(__name__)
_templates = TemplatedMail()

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


class Notifier:
    def __init__(self, mailer: Mailer, base_url: str) -> None:
        self.mailer = mailer
        self.base_url = base_url.rstrip("/")

    async def deliver(
        self,
        key: str,
        kind: str,
        to: str,
        template: str,
        referral_id: UUID | None,
        **context: Any,
    ) -> bool:
        """Send once per key; returns whether a message left now. The key is claimed before
        sending, so two runs at once cannot both send; a failed send gives it back."""
        if not to or await Notification.exists().where(Notification.key == key):
            return False
        email = _templates.render(template, to, base_url=self.base_url, **context)
        try:
            async with writing():
                await Notification(
                    key=key,
                    referral=referral_id,
                    kind=kind,
                    recipient=to,
                    sent_at=datetime.now(UTC),
                ).save()
        except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
            return False  # another run claimed this very message first
        except Exception:
            # Better a rare duplicate than a lost message: send, and say why it is unrecorded.
            log.exception("could not record notification %s; sending it anyway", key)
        try:
            await self.mailer.send(email)
        except MailError as error:
            log.error("mail %s to %s failed: %s", kind, to, error)
            await Notification.delete().where(Notification.key == key)
            return False
        return True

    async def already(self, key: str) -> bool:
        return await Notification.exists().where(Notification.key == key)

    async def sent(self, sent: Sent, renewal: bool = False) -> None:
        context = await referral_context(sent.referral_id)
        # A renewed link is a new message: key it by the token's start, not the referral.
        key = (
            f"{sent.referral_id}:link:{sent.partner_token[:12]}"
            if renewal
            else (f"{sent.referral_id}:new:partner")
        )
        await self.deliver(
            key,
            "new_referral",
            context["partner_email"],
            "referral_new",
            sent.referral_id,
            link=f"{self.base_url}/p/{sent.partner_token}",
            **context,
        )
        if sent.young_person_token and context["young_email"]:
            await self.deliver(
                f"{sent.referral_id}:new:young_person",
                "young_person_link",
                context["young_email"],
                "referral_young_person",
                sent.referral_id,
                link=f"{self.base_url}/j/{sent.young_person_token}",
                **context,
            )

    async def done(self, done: Done) -> None:
        if done.transition in TELL_ADVISOR:
            context = await referral_context(done.referral_id)
            await self.deliver(
                f"{done.referral_id}:{done.transition}:{done.to_status}:{context['version']}",
                f"update_{done.transition}",
                context["referent_email"],
                "referral_update",
                done.referral_id,
                transition=done.transition,
                transition_label=done.transition.label,
                status_label=done.to_status.label,
                link=f"{self.base_url}/orientations/{done.referral_id}",
                **context,
            )
        if done.child_id and done.child_partner_token:
            await self.sent(Sent(done.child_id, done.child_partner_token, None))


async def referral_context(referral_id: UUID) -> dict[str, Any]:
    """What the email templates may show: names, never the young person's contact details
    except to the young person themselves."""
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
        "status": Status(row["status"]),
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
        "young_email": young["email"] if young["channel"] == "email" else "",
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
