"""What the referral pages show, built apart from HTTP: the lists, one referral's page for
each party, and the forms on it (an action, an appointment) read into the exchange's terms.
The handlers in service.web.referrals only choose the template and the status."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec

from directory import store
from directory.errors import Conflict, Invalid
from directory.hours import LOCAL_TIME
from directory.tables import Structure
from service import i18n
from service.accounts.store import Actor
from service.audit import store as audit
from service.forms import french
from service.referrals import appointments, exchange, inbox, suggestions
from service.referrals.idempotency import Once
from service.referrals.machine import (
    CANCEL_REASONS,
    COULD_NOT_GO_REASONS,
    DECLINE_REASONS,
    FAILURE_REASONS,
    HOLD_REASONS,
    OUTCOMES,
    REASON_LABELS,
    YOUNG_PERSON_SAYS,
    Party,
    Transition,
)
from service.referrals.schemas import Action, AppointmentIn, ReferralRead
from service.referrals.tables import Referral

# What the audit trail's change codes mean, in the words of the history above it.
TRANSITION_LABELS = {
    **{t.value: t.label for t in Transition},
    "partner_link": "Envoyer un nouveau lien au partenaire",
    "purge": "Effacement des données personnelles (purge)",
}
REASONS = {
    Transition.DECLINE: DECLINE_REASONS,
    Transition.CLOSE: OUTCOMES,
    Transition.CLOSE_FAILED: FAILURE_REASONS,
    Transition.NO_SHOW: FAILURE_REASONS,
    Transition.HOLD: HOLD_REASONS,
    Transition.CANCEL: CANCEL_REASONS,
    Transition.COULD_NOT_GO: COULD_NOT_GO_REASONS,
}
LINK_RENEWED = "Un nouveau lien a été envoyé au partenaire ; l'ancien ne fonctionne plus."
# What each appointment field needs, when its shape is wrong (msgspec says it in English).
_APPOINTMENT_FIELDS = {
    "date": "Indiquez la date du rendez-vous (jour, mois, année).",
    "time": "Indiquez l'heure du rendez-vous, par exemple 14:30.",
    "place": "Indiquez le lieu du rendez-vous (300 caractères au plus).",
    "ask_for": "« Qui demander » tient en 120 caractères au plus.",
    "bring": "« À apporter » tient en 1 000 caractères au plus.",
}


class Refused(Exception):
    """A form on the referral page was not taken: the page comes back with `status` and
    what `page` says (the errors, the form as it was typed, the action left open)."""

    def __init__(self, status: int, **page: Any) -> None:
        super().__init__(page.get("errors"))
        self.status = status
        self.page = page


# ---- lists ------------------------------------------------------------------------------


async def outbox_context(
    actor: Actor, status: str, overdue: bool, to_structure: UUID | None = None
) -> dict[str, Any]:
    """The referrals this advisor sent, with the alerts that ask for a next step;
    `to_structure` keeps those sent to one partner (the network page links here)."""
    return {
        "actor": actor,
        "items": await inbox.outbox(actor, status, overdue_only=overdue, to_structure=to_structure),
        "to_structure": to_structure,
        "alerts": await inbox.alerts(actor),
        "box": "out",
        "status": status,
        "overdue": overdue,
    }


async def inbox_context(actor: Actor, status: str) -> dict[str, Any]:
    """The referrals this structure received."""
    return {
        "actor": actor,
        "items": await inbox.inbox(actor, status),
        "alerts": [],
        "box": "in",
        "status": status,
        "overdue": False,
    }


async def journey_context(actor: Actor, young_person_id: UUID) -> dict[str, Any]:
    """One young person's referrals in order, with what the path says (bounces, loops)."""
    items = await inbox.journey(actor, young_person_id)
    _kinds, messages = inbox.wandering(items, datetime.now(UTC))
    return {"actor": actor, "items": items, "messages": messages}


# ---- one referral -------------------------------------------------------------------------


async def referral_context(
    referral_id: UUID,
    who: exchange.Who,
    actor: Actor | None,
    base: str,
    errors: dict[str, str] | None = None,
    notice: str = "",
    partner_link: str = "",
    open_action: str = "",
    just_sent: bool = False,
    young_link: str = "",
    appointment_form: dict[str, str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The template and context of one referral's page as `who` sees it: the advisor's
    and partner's page with its actions, or the young person's plain page."""
    referral = await exchange.read(referral_id, who)
    young = who.party == Party.YOUNG_PERSON
    where = home = None
    if young:
        where = await where_to_go(referral.to_structure_id, referral.to_service_id)
        home = await home_of(referral.from_structure_id, referral.referent_email)
    # The referent side sees who opened the referral: the trail names actors only.
    trail = (
        await audit.of_subject("referral", referral_id, limit=50)
        if who.party == Party.ADVISOR and actor
        else []
    )
    context = {
        "actor": actor,
        "r": referral,
        "party": who.party.value,
        "base": base,
        "errors": errors or {},
        "reasons": {t.value: r for t, r in REASONS.items()},
        "structures": await _redirect_targets(referral),
        "suggestable": (
            await suggestions.nearby_structures(referral)
            if Transition.DECLINE in referral.allowed
            else []
        ),
        "notice": notice,
        "partner_link": partner_link,
        "just_sent": just_sent,
        "young_link": young_link,
        "where": where,
        "home": home,
        "young_person_says": YOUNG_PERSON_SAYS,
        "reason_labels": REASON_LABELS,
        "open_action": open_action,
        "trail": trail,
        "transition_labels": TRANSITION_LABELS,
        "appointment_form": appointment_form or appointment_values(referral),
        "no_papers": appointments.NO_PAPERS,
        # The partner sees how fresh its own record is, and can confirm it from the link.
        "own_record": (
            await store.get_structure(referral.to_structure_id)
            if who.party == Party.PARTNER
            else None
        ),
        # The young person's page speaks their language; staff pages stay French.
        **(i18n.jinja_context(referral.language) if young else {}),
    }
    return ("young_person_link.html" if young else "referral.html"), context


async def _redirect_targets(referral: ReferralRead) -> list[dict[str, Any]]:
    """The active structures a partner may redirect to: neither end of this referral."""
    if Transition.REDIRECT not in referral.allowed:
        return []
    ends = [referral.to_structure_id, referral.from_structure_id]
    return list(
        await Structure.select(Structure.id, Structure.name)
        .where((Structure.status == "active") & (Structure.id.not_in(ends)))
        .order_by(Structure.name)
    )


async def links_just_sent(
    actor: Actor, referral_id: UUID, key: str, base_url: str
) -> dict[str, Any]:
    """The personal links of a referral this advisor has just sent from the form, found
    again with the form's one-time key (they are not stored in clear)."""
    if not key:
        return {}
    try:
        remembered = await Once.of(actor.user_id, "form", key, b"").recall(datetime.now(UTC))
    except Invalid:
        return {}
    if remembered is None or remembered.referral_id != referral_id:
        return {}
    row = (
        await Referral.select(Referral.young_person.channel.as_alias("channel"))
        .where(Referral.id == referral_id)
        .first()
    )
    by_sms = row is not None and row["channel"] == "sms"
    return {
        "just_sent": True,
        "partner_link": f"{base_url}/p/{remembered.partner_token}",
        "young_link": (
            f"{base_url}/j/{remembered.young_person_token}"
            if by_sms and remembered.young_person_token
            else ""
        ),
    }


def appointment_values(referral: ReferralRead) -> dict[str, str]:
    """The appointment form, filled with the current appointment to change it."""
    found = referral.appointment
    if found is None:
        return {}
    local = found.starts_at.astimezone(LOCAL_TIME)
    return {
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "place": found.place,
        "ask_for": found.ask_for,
        "bring": found.bring,
    }


async def home_of(structure_id: UUID, referent_email: str) -> dict[str, Any]:
    """Whom the young person calls and where they go back to: their advisor's phone when
    the directory lists them among their Mission Locale's people, else its front desk."""
    structure = await store.get_structure(structure_id)
    person = next(
        (
            p
            for p in structure.people
            if p.active and referent_email and p.email.lower() == referent_email.lower()
        ),
        None,
    )
    phone = (person.phone if person else "") or structure.phone
    site = structure.sites[0] if structure.sites else None
    return {"structure": structure, "site": site, "phone": phone}


async def where_to_go(structure_id: UUID, service_id: UUID | None) -> dict[str, Any]:
    """Where the young person goes: the service's site or the structure's first one, and
    whom to ask for."""
    structure = await store.get_structure(structure_id)
    site_id = None
    contact_id = None
    for service in structure.services:
        if service.id == service_id:
            site_id, contact_id = service.site_id, service.contact_id
    sites = structure.sites
    site = next((s for s in sites if s.id == site_id), sites[0] if sites else None)
    people = {p.id: p for p in structure.people if p.active}
    contact = people.get(contact_id) if contact_id else None
    return {"structure": structure, "site": site, "contact": contact}


# ---- the forms on a referral's page ---------------------------------------------------------


async def act_from_form(
    referral_id: UUID, who: exchange.Who, form: Mapping[str, Any], rules: exchange.Rules
) -> Transition:
    """One of the page's action forms, applied; raises Refused with the page to show."""
    raw = {
        k: v for k, v in form.items() if k not in ("_csrf_token", "_once") and str(v).strip() != ""
    }
    try:
        action = msgspec.convert(raw, Action, strict=False)
        done = await exchange.act(referral_id, action, who, rules)
    except msgspec.ValidationError as error:
        raise Refused(400, errors={"form": french(str(error))}) from None
    except Invalid as error:
        raise Refused(400, errors=error.errors, open_action=raw.get("transition", "")) from None
    except Conflict as error:
        message = str(error)
        if who.party == Party.YOUNG_PERSON and not isinstance(error, exchange.AlreadyAnswered):
            message = i18n.YOUNG_PERSON_CONFLICT
        raise Refused(409, errors={"form": message}) from None
    return done.transition


async def appointment_from_form(
    referral_id: UUID, who: exchange.Who, form: Mapping[str, Any]
) -> None:
    """The partner's appointment form, given; raises Refused with the form as typed."""
    values = {
        k: str(form.get(k, "")).strip() for k in ("date", "time", "place", "ask_for", "bring")
    }
    try:
        data = msgspec.convert(values, AppointmentIn, strict=False)
        await appointments.give(referral_id, data, who)
    except msgspec.ValidationError as error:
        field = str(error).rsplit("$.", 1)[-1].rstrip("`")
        errors = {field: _APPOINTMENT_FIELDS.get(field, french(str(error)))}
        raise Refused(400, errors=errors, appointment_form=values) from None
    except Invalid as error:
        raise Refused(400, errors=error.errors, appointment_form=values) from None
    except Conflict as error:
        raise Refused(409, errors={"form": str(error)}) from None
