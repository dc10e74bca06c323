"""The send form of the referral pages: its fields turned into a ReferralCreate with every
error at once (one's own structure included), and what the page shows. Kept apart from
the handlers so that they stay one call and a response."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import UUID

import msgspec

from directory import store
from directory.errors import Invalid
from directory.gazetteer import AmbiguousPlace, UnknownPlace, load_gazetteer
from directory.vocabulary import Domain
from service.accounts.store import Actor
from service.forms import french
from service.referrals import exchange
from service.referrals.schemas import AGE_RANGES, SHAREABLE, ReferralCreate

# The order of the form's fields: the error summary lists them in the order one reads them.
FIELD_ORDER = [
    "to_structure_id",
    "domain",
    "to_service_id",
    "to_contact_id",
    "message",
    "urgency",
    "first_name",
    "age_range",
    "birth_year",
    "commune",
    "phone",
    "email",
    "channel",
    "language",
    "shares",
    "consent",
]


def _in_form_order(errors: dict[str, str]) -> dict[str, str]:
    rank = {name: i for i, name in enumerate(FIELD_ORDER)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


# The young person's language, in the staff's French (the young person's page names each
# language in its own words).
LANGUAGE_CHOICES = [("fr", "Français"), ("en", "Anglais (English)"), ("ar", "Arabe (العربية)")]
LANGUAGE_HELP = (
    "Sa page et ses courriels seront dans cette langue ; il pourra en changer sur sa page."
)

OWN_STRUCTURE = (
    "C'est votre propre structure : choisissez une structure partenaire pour orienter le jeune."
)


def referral_form(form: Any, structure_id: str, actor: Actor) -> ReferralCreate:
    """The send form -> ReferralCreate; every field error at once, in French, the target
    included (one's own structure is refused with the rest, not after it)."""
    errors: dict[str, str] = {}
    if actor.structure_id is not None and str(actor.structure_id) == structure_id:
        errors["to_structure_id"] = OWN_STRUCTURE
    commune = str(form.get("commune", "")).strip()
    if commune:
        try:
            commune = load_gazetteer().resolve(commune).insee
        except (AmbiguousPlace, UnknownPlace) as error:
            if load_gazetteer().get(commune) is None:
                errors["commune"] = str(error)
    else:
        errors["commune"] = "Indiquez la commune du jeune."
    if not str(form.get("first_name", "")).strip():
        errors["first_name"] = "Indiquez un prénom ou un pseudonyme."
    consent = form.get("consent") not in (None, "", "off")
    if not consent:
        errors["consent"] = exchange.CONSENT_REQUIRED
    if not form.get("domain"):
        errors["domain"] = "Choisissez le domaine du besoin."
    birth_year = str(form.get("birth_year", "")).strip()
    young = {
        "first_name": str(form.get("first_name", "")).strip() or "?",
        "commune": commune if "commune" not in errors else "00000",
        "age_range": form.get("age_range", ""),
        "phone": str(form.get("phone", "")).strip(),
        "email": str(form.get("email", "")).strip(),
        "channel": form.get("channel", ""),
    }
    if birth_year:
        young["birth_year"] = birth_year
    raw: dict[str, Any] = {
        "to_structure_id": structure_id,
        "domain": form.get("domain") or "employment",
        "young_person": young,
        "consent": {"given": consent, "shares": form.getall("shares", [])},
        "message": str(form.get("message", "")),
        "urgency": form.get("urgency", "normal"),
        "language": form.get("language") or "fr",
    }
    for key in ("to_service_id", "to_contact_id"):
        if form.get(key):
            raw[key] = form.get(key)
    try:
        data = msgspec.convert(raw, ReferralCreate, strict=False)
    except msgspec.ValidationError as error:
        path = str(error).rsplit("$.", 1)[-1].rstrip("`").split(".")[-1]
        errors.setdefault(path or "form", french(str(error)))
        raise Invalid(_in_form_order(errors)) from error
    if errors:
        raise Invalid(_in_form_order(errors))
    return data


def service_domains(target: Any, service_id: object) -> list[str]:
    """The domains a referral to this service can be for: the service's own, or every
    domain when no service (or one without domains) is chosen."""
    for service in target.services:
        if str(service.id) == str(service_id or "") and service.domains:
            return [str(d) for d in service.domains]
    return [d.value for d in Domain]


def page_context(
    actor: Actor, target: Any, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    offered = service_domains(target, values.get("to_service_id"))
    return {
        "actor": actor,
        "target": target,
        "values": values,
        "errors": errors,
        "domains": [(d.value, d.label) for d in Domain if d.value in offered],
        "age_ranges": AGE_RANGES,
        "languages": LANGUAGE_CHOICES,
        "language_help": LANGUAGE_HELP,
        "shareable": SHAREABLE,
    }


async def blank_context(
    actor: Actor, structure_id: UUID, service_id: UUID | None, domain: str
) -> dict[str, Any]:
    """The empty form, with a fresh one-time key; one's own structure is refused at once,
    before anything is typed."""
    target = await store.get_structure(structure_id)
    offered = service_domains(target, service_id)
    if domain not in offered:
        # A need the service does not cover pre-selects nothing; a one-domain service, its own.
        domain = offered[0] if len(offered) == 1 else ""
    values = {
        "to_service_id": service_id,
        "domain": domain,
        "urgency": "normal",
        "language": "fr",
        "shares": ["age", "commune", "message"],
        "_once": secrets.token_urlsafe(24),
    }
    errors = {"to_structure_id": OWN_STRUCTURE} if actor.structure_id == target.id else {}
    return page_context(actor, target, values, errors)


async def submit(
    actor: Actor, structure_id: UUID, form: Any, rules: exchange.Rules
) -> tuple[exchange.Sent | None, dict[str, Any]]:
    """Sends the referral once per form key; or the page again with every error."""
    target = await store.get_structure(structure_id)
    # The form's one-time key: a second submission finds the referral the first made.
    once = str(form.get("_once", "")) or secrets.token_urlsafe(24)
    values = {**dict(form.items()), "shares": form.getall("shares", []), "_once": once}
    try:
        data = referral_form(form, str(structure_id), actor)
        sent = await exchange.send_once(actor, data, rules, once, scope="form")
    except Invalid as error:
        return None, page_context(actor, target, values, _in_form_order(error.errors))
    return sent, page_context(actor, target, values, {})
