"""Re-orienting a young person after a referral that led nowhere (declined, expired, the
young person did not come): the same young person, consent and need go to another
structure, and the journey continues with the same referent."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from directory.errors import Conflict, Forbidden, Invalid
from directory.tables import Structure
from service.accounts.store import Actor
from service.forms import french
from service.referrals import exchange
from service.referrals.machine import DECLINE_REASONS, FAILURE_REASONS, Party, Status
from service.referrals.schemas import SHAREABLE, ReferralCreate, ReferralRead
from service.referrals.send_form import LANGUAGE_CHOICES, LANGUAGE_HELP

REORIENTABLE = {Status.DECLINED, Status.EXPIRED, Status.FAILED}
NOT_REORIENTABLE = (
    "Cette orientation est encore en cours ou déjà aboutie : on ne réoriente qu'après un "
    "refus, une orientation expirée ou un jeune qui n'a pas pu venir."
)


async def ended_referral(actor: Actor, referral_id: UUID) -> ReferralRead:
    """The referral to start again from: the referent side's, and one that led nowhere."""
    who = await exchange.who_for_user(actor, referral_id)
    if who.party != Party.ADVISOR:
        raise Forbidden("Seule la structure qui a orienté le jeune peut le réorienter.")
    referral = await exchange.read(referral_id, who)
    if referral.status not in REORIENTABLE:
        raise Conflict(NOT_REORIENTABLE)
    return referral


async def page_context(
    actor: Actor, referral_id: UUID, structure_id: UUID | None = None
) -> dict[str, Any]:
    """What the re-orientation form shows: the young person, the need and message of the
    first referral, the partner's words, and the structures one can turn to, the one the
    partner suggested chosen already."""
    referral = await ended_referral(actor, referral_id)
    rows = (
        await Structure.select(Structure.id, Structure.name)
        .where(
            (Structure.status == "active")
            & (Structure.id.not_in([referral.to_structure_id, referral.from_structure_id]))
        )
        .order_by(Structure.name)
    )
    suggested = _suggested(referral, rows)
    chosen = structure_id or (suggested[0]["id"] if len(suggested) == 1 else None)
    return {
        "actor": actor,
        "r": referral,
        "structure_options": [(str(row["id"]), row["name"]) for row in rows],
        "suggested": suggested,
        "suggested_by_partner": referral.suggested_structure_id is not None,
        "why": DECLINE_REASONS.get(referral.decline_reason)
        or FAILURE_REASONS.get(referral.outcome, ""),
        "values": {
            "to_structure_id": str(chosen or ""),
            "domain": str(referral.domain),
            "message": referral.message,
            "consent": True,
            "language": referral.language,
            "shares": ["age", "commune", "message"],
        },
        "shareable": SHAREABLE,
        "languages": LANGUAGE_CHOICES,
        "language_help": LANGUAGE_HELP,
        "errors": {},
    }


def _suggested(referral: ReferralRead, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The structure the partner suggested when declining; for referrals declined without
    one, those its message names (a free-text note often says "voyez plutôt X")."""
    if referral.suggested_structure_id is not None:
        return [r for r in rows if r["id"] == referral.suggested_structure_id]
    note = referral.private_note.casefold()
    return [r for r in rows if note and r["name"].casefold() in note]


def create_from_form(referral: ReferralRead, form: Any) -> ReferralCreate:
    """The re-orientation form -> a further referral for the same young person; every
    error at once."""
    errors: dict[str, str] = {}
    target = str(form.get("to_structure_id", "")).strip()
    if not target:
        errors["to_structure_id"] = "Choisissez la structure vers laquelle réorienter le jeune."
    elif target == str(referral.to_structure_id):
        errors["to_structure_id"] = "Cette structure a déjà répondu : choisissez-en une autre."
    if form.get("consent") in (None, "", "off"):
        errors["consent"] = exchange.CONSENT_REQUIRED
    if not form.get("domain"):
        errors["domain"] = "Choisissez le domaine du besoin."
    raw = {
        "to_structure_id": target or str(referral.to_structure_id),
        "domain": form.get("domain") or str(referral.domain),
        "young_person_id": str(referral.young_person_id),
        "consent": {"given": True, "shares": form.getall("shares", [])},
        "message": str(form.get("message", "")),
        "urgency": form.get("urgency", "normal"),
        "language": form.get("language") or referral.language,
    }
    try:
        data = msgspec.convert(raw, ReferralCreate, strict=False)
    except msgspec.ValidationError as error:
        path = str(error).rsplit("$.", 1)[-1].rstrip("`").split(".")[-1]
        errors.setdefault(path or "form", french(str(error)))
        raise Invalid(errors) from error
    if errors:
        raise Invalid(errors)
    return data


async def submit(
    actor: Actor, referral_id: UUID, form: Any, rules: exchange.Rules
) -> tuple[exchange.Sent | None, dict[str, Any]]:
    """Sends the further referral once per form key (a reload finds the first one and its
    links), or gives the page again with every error and what was typed."""
    referral = await ended_referral(actor, referral_id)
    try:
        data = create_from_form(referral, form)
        key = str(form.get("_once", "")) or None
        sent = await exchange.send_once(actor, data, rules, key, scope="form")
    except Invalid as error:
        context = await page_context(actor, referral_id)
        context["values"] = {**dict(form.items()), "shares": form.getall("shares", [])}
        return None, {**context, "errors": error.errors}
    return sent, {}
