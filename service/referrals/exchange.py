"""The referral exchange: send a referral with the young person's consent, let each party
act on it through the state machine, keep every step as an event. Domain code: it takes
plain values, checks the rules, writes in one transaction and raises domain errors."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
import msgspec

from conventions.store import applying_to
from directory.errors import Conflict, Forbidden, Invalid, NotFound
from directory.gazetteer import load_gazetteer
from directory.hours import local_date
from directory.store import writing
from directory.tables import Person, Service, Structure
from directory.validation import email_problem, normalise_phone
from service import outbox
from service.accounts.store import Actor, Role
from service.accounts.tables import User
from service.audit import store as audit
from service.referrals.calendar import add_working_days, shift_for_pause
from service.referrals.idempotency import Once
from service.referrals.machine import (
    AWAITING_PARTNER,
    ONCE_ONLY,
    REASON_LABELS,
    IllegalTransition,
    Party,
    Status,
    Transition,
    allowed,
    rule_for,
)
from service.referrals.notify import announce_referral, announce_transition
from service.referrals.phrases import PARTNER_LINK_LABEL, REDIRECTION_LABEL, event_sentence
from service.referrals.schemas import (
    Action,
    EventRead,
    ReferralCreate,
    ReferralRead,
)
from service.referrals.tables import (
    AccessLink,
    Consent,
    Referral,
    ReferralEvent,
    YoungPerson,
)

READ, CHANGE = audit.Action.READ, audit.Action.CHANGE
CONSENT_REQUIRED = (
    "Sans le consentement du jeune, l'orientation ne peut pas partir (libre adhésion)."
)
# Missions Locales follow young people from 16 to 25. The margin lets an advisor refer a
# 15-year-old leaving school or someone still followed after 25, and still catches typos.
YOUNGEST_AGE, OLDEST_AGE = 14, 35


def birth_year_problem(birth_year: int | None, today: date) -> str:
    """Why a birth year cannot be right this year, or ''. Bounds relative to today, so
    that the form never starts refusing real young people as years go by."""
    if birth_year is None:
        return ""
    first, last = today.year - OLDEST_AGE, today.year - YOUNGEST_AGE
    if not first <= birth_year <= last:
        return f"L'année de naissance doit être comprise entre {first} et {last}."
    return ""


@dataclass(frozen=True)
class Rules:
    """The exchange's settings that shape deadlines and links."""

    acknowledge_days: int = 5
    answer_days: int = 10
    partner_link_days: int = 14
    young_person_link_days: int = 90


@dataclass(frozen=True)
class Who:
    """Who acts: an account, or the holder of a personal link to one referral."""

    party: Party
    user: Actor | None = None
    link_referral: UUID | None = None
    label: str = ""


@dataclass(frozen=True)
class Sent:
    """A new referral and the personal links to hand out (shown once, never stored)."""

    referral_id: UUID
    partner_token: str
    young_person_token: str | None


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---- Who may see and act -----------------------------------------------------------------


def party_of(actor: Actor, row: dict[str, Any]) -> Party | None:
    """An account's part in a referral: its sending structure's people act as the advisor
    side (the referent stays the one who sent it), its receiving structure's as partner."""
    if actor.structure_id is not None and actor.structure_id == row["from_structure"]:
        return Party.ADVISOR
    if actor.user_id == row["referent"]:
        return Party.ADVISOR
    if actor.structure_id is not None and actor.structure_id == row["to_structure"]:
        return Party.PARTNER
    if actor.role == Role.ADMIN:
        return Party.ADVISOR
    return None


async def who_for_user(actor: Actor, referral_id: UUID) -> Who:
    row = await _row(referral_id)
    party = party_of(actor, row)
    if party is None:
        # Say "not found" rather than "forbidden": a referral's existence is private too.
        raise NotFound("Orientation")
    return Who(party=party, user=actor, label=actor.name)


async def who_for_link(token: str) -> tuple[Who, UUID]:
    """The party and referral a personal link opens; an unknown, expired or revoked link
    opens nothing."""
    link = await AccessLink.select().where(AccessLink.token_hash == _digest(token)).first()
    if link is None:
        raise Forbidden("Ce lien n'est pas valide.")
    if link["revoked_at"] is not None:
        referral = await Referral.select(Referral.status).where(Referral.id == link["referral"])
        if referral and referral[0]["status"] == Status.CANCELLED:
            # No new link will come: say so rather than send the partner asking for one.
            raise Forbidden(
                "Ce lien a été désactivé : l'orientation a été annulée, ou le jeune a retiré "
                "son consentement. Il n'y a plus rien à faire de votre côté."
            )
        raise Forbidden("Ce lien a été désactivé. Demandez un nouveau lien au conseiller.")
    if link["expires_at"] < _now():
        raise Forbidden("Ce lien a expiré. Demandez un nouveau lien au conseiller.")
    party = Party(link["party"])
    referral_id = link["referral"]
    if party == Party.YOUNG_PERSON:
        # The young person's one link follows their path: after a redirection it opens
        # the referral they are sent to now, never the structure that passed them on.
        referral_id = (await chain(referral_id))[-1]
    label = PARTNER_LINK_LABEL if party == Party.PARTNER else "Le jeune"
    return Who(party=party, link_referral=referral_id, label=label), referral_id


async def chain(referral_id: UUID) -> list[UUID]:
    """The referrals of one path, first to latest: a redirection links a child to its
    parent, and a redirected referral has one child."""
    ids = [referral_id]
    while True:
        row = await Referral.select(Referral.parent).where(Referral.id == ids[0]).first()
        if row is None or row["parent"] is None or row["parent"] in ids:
            break
        ids.insert(0, row["parent"])
    while True:
        child = (
            await Referral.select(Referral.id)
            .where(Referral.parent == ids[-1])
            .order_by(Referral.created_at, ascending=False)
            .first()
        )
        if child is None or child["id"] in ids:
            break
        ids.append(child["id"])
    return ids


async def _row(referral_id: UUID) -> dict[str, Any]:
    row = await Referral.select().where(Referral.id == referral_id).first()
    if row is None:
        raise NotFound("Orientation")
    return row


_LINK_KINDS = {
    Party.PARTNER: audit.ActorKind.PARTNER_LINK,
    Party.YOUNG_PERSON: audit.ActorKind.YOUNG_PERSON_LINK,
}


async def _audit(
    who: Who, action: audit.Action, referral_id: UUID, detail: str = "", at: datetime | None = None
) -> None:
    """Who read or changed this referral; a personal link is named by its kind only."""
    if who.user is not None:
        kind, user = audit.ActorKind.ACCOUNT, who.user.user_id
    else:
        kind, user = _LINK_KINDS.get(who.party, audit.ActorKind.SYSTEM), None
    await audit.record(
        action,
        "referral",
        referral_id,
        actor_kind=kind,
        actor_label=who.label or (who.user.name if who.user else "Maillage"),
        actor_user=user,
        detail=detail,
        at=at,
    )


# ---- Sending -----------------------------------------------------------------------------


async def _new_link(referral_id: UUID, party: Party, days: int, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    await AccessLink(
        referral=referral_id,
        party=party.value,
        token_hash=_digest(token),
        created_at=now,
        expires_at=now + timedelta(days=days),
    ).save()
    return token


async def _terms(
    from_structure: UUID, to_structure: UUID, now: datetime, rules: Rules
) -> dict[str, Any]:
    """Deadlines from the convention in force between the two structures, if it commits to
    delays, else from the exchange's defaults."""
    convention = await applying_to(from_structure, to_structure, local_date(now))
    acknowledge = rules.acknowledge_days
    answer = rules.answer_days
    if convention is not None:
        acknowledge = convention.acknowledge_days or acknowledge
        answer = max(convention.answer_days or answer, acknowledge)
    return {
        "acknowledge_due": add_working_days(now, acknowledge),
        "answer_due": add_working_days(now, answer),
        "convention": convention.id if convention else None,
    }


async def _check_target(
    structure_id: UUID, service_id: UUID | None, contact_id: UUID | None, field: str
) -> dict[str, str]:
    errors: dict[str, str] = {}
    structure = await Structure.select(Structure.status).where(Structure.id == structure_id).first()
    if structure is None:
        errors[field] = "Structure introuvable."
    elif structure["status"] != "active":
        errors[field] = "Cette structure n'est pas active : elle ne reçoit pas d'orientation."
    if service_id is not None:
        service = await Service.select(Service.structure).where(Service.id == service_id).first()
        if service is None or service["structure"] != structure_id:
            errors["to_service_id"] = "Ce service n'appartient pas à la structure choisie."
    if contact_id is not None:
        person = (
            await Person.select(Person.structure, Person.active)
            .where(Person.id == contact_id)
            .first()
        )
        if person is None or person["structure"] != structure_id:
            errors["to_contact_id"] = "Cette personne ne travaille pas dans la structure choisie."
        elif not person["active"]:
            errors["to_contact_id"] = "Cette personne a quitté la structure."
    return errors


async def send(
    actor: Actor,
    data: ReferralCreate,
    rules: Rules,
    now: datetime | None = None,
    once: Once | None = None,
) -> Sent:
    """An advisor hands a young person over to a partner. Nothing leaves without consent,
    and no identity document or number is ever asked for. With `once`, the client's retry
    key is recorded with the referral (see send_once)."""
    now = now or _now()
    if actor.structure_id is None:
        raise Forbidden("Votre compte n'est rattaché à aucune structure : il ne peut pas orienter.")
    errors: dict[str, str] = {}
    if not data.consent.given:
        errors["consent"] = CONSENT_REQUIRED
    if data.to_structure_id == actor.structure_id:
        errors["to_structure_id"] = "On n'oriente pas vers sa propre structure."
    errors.update(
        await _check_target(
            data.to_structure_id, data.to_service_id, data.to_contact_id, "to_structure_id"
        )
    )
    young: dict[str, Any] | None = None
    if data.young_person_id is not None:
        existing = (
            await YoungPerson.select(
                YoungPerson.id,
                YoungPerson.referent.structure.as_alias("structure"),
                YoungPerson.anonymised_at,
            )
            .where(YoungPerson.id == data.young_person_id)
            .first()
        )
        if existing is None or existing["structure"] != actor.structure_id:
            errors["young_person_id"] = "Jeune introuvable dans votre structure."
        elif existing["anonymised_at"] is not None:
            errors["young_person_id"] = "Les données de ce jeune ont été effacées."
    elif data.young_person is None:
        errors["young_person"] = "Indiquez au moins le prénom (ou un pseudonyme) et la commune."
    else:
        person = data.young_person
        phone, problem = normalise_phone(person.phone)
        if problem:
            errors["phone"] = problem
        if problem := email_problem(person.email):
            errors["email"] = problem
        if problem := birth_year_problem(person.birth_year, local_date(now)):
            errors["birth_year"] = problem
        if load_gazetteer().get(person.commune) is None:
            errors["commune"] = f"Aucune commune n'a le code INSEE {person.commune}."
        if person.channel == "email" and not person.email:
            errors["channel"] = "Pour être prévenu·e par courriel, il faut une adresse."
        if person.channel == "sms" and not person.phone:
            errors["channel"] = "Pour être prévenu·e par SMS, il faut un numéro."
        young = {
            "first_name": person.first_name.strip(),
            "birth_year": person.birth_year,
            "age_range": person.age_range,
            "commune": person.commune,
            "phone": phone,
            "email": person.email.strip().lower(),
            "channel": person.channel,
        }
    if errors:
        raise Invalid(errors)

    async with writing():
        if young is not None:
            row = YoungPerson(referent=actor.user_id, created_at=now, **young)
            await row.save()
            young_person_id = row.id
            channel = young["channel"]
            has_email = bool(young["email"])
        else:
            assert data.young_person_id is not None
            young_person_id = data.young_person_id
            known = (
                await YoungPerson.select(YoungPerson.channel, YoungPerson.email)
                .where(YoungPerson.id == young_person_id)
                .first()
            )
            if known is None:  # checked above, but gone since: say so rather than crash
                raise NotFound("Jeune")
            channel, has_email = known["channel"], bool(known["email"])
        referral = Referral(
            young_person=young_person_id,
            from_structure=actor.structure_id,
            referent=actor.user_id,
            to_structure=data.to_structure_id,
            to_service=data.to_service_id,
            to_contact=data.to_contact_id,
            domain=data.domain.value,
            urgency=data.urgency,
            language=data.language,
            message=data.message.strip(),
            status=Status.SENT.value,
            version=1,
            sent_at=now,
            created_at=now,
            **await _terms(actor.structure_id, data.to_structure_id, now, rules),
        )
        await referral.save()
        await Consent(
            referral=referral.id,
            given_at=now,
            collected_by=actor.user_id,
            shares=sorted(set(data.consent.shares)),
        ).save()
        await _event(
            referral.id,
            now,
            Who(Party.ADVISOR, actor, label=actor.name),
            Transition.SEND,
            Status.DRAFT,
            Status.SENT,
        )
        await _audit(Who(Party.ADVISOR, actor, label=actor.name), CHANGE, referral.id, "send", now)
        partner_token = await _new_link(referral.id, Party.PARTNER, rules.partner_link_days, now)
        young_token = None
        # Email links are sent by Maillage; an SMS link is shown to the advisor to send.
        if (channel == "email" and has_email) or channel == "sms":
            young_token = await _new_link(
                referral.id, Party.YOUNG_PERSON, rules.young_person_link_days, now
            )
        # The emails commit with the referral: a referral never exists without them.
        await announce_referral(
            referral.id, partner_token, young_token if channel == "email" else None, now
        )
        if once is not None:
            await once.remember(referral.id, partner_token, young_token, now)
    outbox.wake()
    return Sent(referral.id, partner_token, young_token)


async def send_once(
    actor: Actor,
    data: ReferralCreate,
    rules: Rules,
    key: str | None,
    scope: str,
    now: datetime | None = None,
) -> Sent:
    """`send`, safe to retry: the same key gives back the first referral and its links
    instead of a second referral. `scope` names where the key came from (the API, the
    form); the form's one-time key stands for its first submission whatever it holds."""
    if not key:
        return await send(actor, data, rules, now)
    now = now or _now()
    request = b"" if scope == "form" else msgspec.json.encode(data)
    once = Once.of(actor.user_id, scope, key, request)
    try:
        earlier = await once.recall(now)
        if earlier is None:
            return await send(actor, data, rules, now, once)
    except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
        # The same key committed meanwhile, in another request: this one wrote nothing.
        earlier = await once.recall(now)
        if earlier is None:
            raise
    return Sent(earlier.referral_id, earlier.partner_token, earlier.young_person_token)


async def _event(
    referral_id: UUID,
    at: datetime,
    who: Who,
    transition: Transition,
    from_status: Status,
    to_status: Status,
    reason: str = "",
    note: str = "",
    private: bool = False,
) -> None:
    await ReferralEvent(
        referral=referral_id,
        at=at,
        actor_kind=who.party.value,
        actor_user=who.user.user_id if who.user else None,
        actor_label=who.label,
        transition=transition.value,
        from_status=from_status.value,
        to_status=to_status.value,
        reason=reason,
        note=note,
        private=private,
    ).save()


# ---- Acting ------------------------------------------------------------------------------


class AlreadyAnswered(Conflict):
    """The young person's answer is given once; a second one is refused, kindly."""


@dataclass(frozen=True)
class Done:
    """What a transition did, for the notifications that follow it."""

    referral_id: UUID
    transition: Transition
    from_status: Status
    to_status: Status
    child_id: UUID | None = None
    child_partner_token: str | None = None


async def act(
    referral_id: UUID, action: Action, who: Who, rules: Rules, now: datetime | None = None
) -> Done:
    """Apply one transition. Illegal ones raise Conflict and change nothing; of two parties
    acting at once exactly one wins, the other gets Conflict."""
    now = now or _now()
    if who.link_referral is not None and who.link_referral != referral_id:
        raise Forbidden("Ce lien ne concerne pas cette orientation.")
    path = [referral_id]
    if action.transition == Transition.WITHDRAW:
        # Consent is withdrawn from the whole path, wherever one stands on it: what is
        # cancelled is the referral still running, the latest of the chain.
        path = await chain(referral_id)
        referral_id = path[-1]
    row = await _row(referral_id)
    status = Status(row["status"])
    try:
        rule = rule_for(status, action.transition, who.party)
    except IllegalTransition as error:
        raise Conflict(str(error)) from error
    if rule.once and await _young_answer(referral_id):
        raise AlreadyAnswered(
            "Vous avez déjà répondu pour cette orientation : votre réponse est bien "
            "enregistrée et votre conseiller·ère l'a reçue."
        )
    if action.expected_version is not None and action.expected_version != row["version"]:
        raise Conflict(
            "Cette orientation a changé depuis que vous l'avez ouverte : rechargez la page."
        )
    errors: dict[str, str] = {}
    if rule.needs_reason and action.reason not in rule.reasons:
        errors["reason"] = "Choisissez une raison dans la liste."
    if action.reason == "other" and not action.note.strip():
        errors["note"] = "Précisez la raison dans le message."
    if action.transition == Transition.REDIRECT:
        if action.redirect_to_structure_id is None:
            errors["redirect_to_structure_id"] = "Choisissez la structure vers qui réorienter."
        elif action.redirect_to_structure_id in (row["to_structure"], row["from_structure"]):
            errors["redirect_to_structure_id"] = "Choisissez une autre structure."
        else:
            errors.update(
                await _check_target(
                    action.redirect_to_structure_id,
                    action.redirect_to_service_id,
                    None,
                    "redirect_to_structure_id",
                )
            )
    if errors:
        raise Invalid(errors)

    if rule.stays:
        target = status
    elif rule.to is None:
        target = Status(row["held_from"])
    else:
        target = rule.to
    changes: dict[Any, Any] = {Referral.status: target.value, Referral.version: row["version"] + 1}
    if action.transition == Transition.ACKNOWLEDGE or (
        action.transition in {Transition.ACCEPT, Transition.DECLINE, Transition.REDIRECT}
        and row["acknowledged_at"] is None
    ):
        changes[Referral.acknowledged_at] = now
    if action.transition in {Transition.ACCEPT, Transition.DECLINE, Transition.REDIRECT}:
        changes[Referral.answered_at] = now
    if action.transition == Transition.DECLINE:
        changes[Referral.decline_reason] = action.reason
        changes[Referral.private_note] = action.note.strip()
    if action.transition == Transition.CLOSE:
        changes[Referral.outcome] = action.reason
    if action.transition == Transition.HOLD:
        changes[Referral.held_from] = status.value
        changes[Referral.held_since] = now
    if action.transition == Transition.RESUME:
        held_since = row["held_since"] or now
        for column, key in (
            (Referral.acknowledge_due, "acknowledge_due"),
            (Referral.answer_due, "answer_due"),
        ):
            if row[key] is not None:
                changes[column] = shift_for_pause(row[key], held_since, now)
        changes[Referral.held_from] = ""
        changes[Referral.held_since] = None
    if not target.is_open:
        changes[Referral.closed_at] = now

    private = action.transition == Transition.DECLINE
    note = action.note.strip()
    if action.transition == Transition.COULD_NOT_GO and action.call_back:
        note = "Je voudrais être recontacté·e."
    child_id: UUID | None = None
    child_token: str | None = None
    async with writing():
        updated = (
            await Referral.update(changes)
            .where((Referral.id == referral_id) & (Referral.version == row["version"]))
            .returning(Referral.id)
        )
        if not updated:
            raise Conflict(
                "Quelqu'un d'autre vient d'agir sur cette orientation : rechargez la page "
                "pour voir où elle en est."
            )
        await _event(
            referral_id,
            now,
            who,
            action.transition,
            status,
            target,
            reason=action.reason,
            note=note,
            private=private,
        )
        await _audit(who, CHANGE, referral_id, action.transition.value, now)
        if action.transition == Transition.WITHDRAW:
            await _erase_shared(path, now)
        elif target == Status.CANCELLED:
            # A cancelled referral, even one sent by mistake, is no one's business any more.
            await _revoke_partner_links([referral_id], now)
            await appointments.erase([referral_id])
        if action.transition == Transition.REDIRECT:
            assert action.redirect_to_structure_id is not None
            child_id, child_token = await _redirect(row, action, now, rules)
            await _audit(who, CHANGE, child_id, "send", now)
            await announce_referral(child_id, child_token, None, now)
        await announce_transition(
            referral_id,
            action.transition,
            target,
            row["version"] + 1,
            now,
            reason=action.reason,
            call_back=action.call_back,
        )
    outbox.wake()
    return Done(referral_id, action.transition, status, target, child_id, child_token)


async def _young_answer(referral_id: UUID) -> dict[str, Any] | None:
    """The young person's once-only answer on this referral, if they gave one."""
    return (
        await ReferralEvent.select(
            ReferralEvent.transition, ReferralEvent.reason, ReferralEvent.note, ReferralEvent.at
        )
        .where(
            (ReferralEvent.referral == referral_id)
            & ReferralEvent.transition.is_in([t.value for t in ONCE_ONLY])
        )
        .order_by(ReferralEvent.at)
        .first()
    )


async def _revoke_partner_links(referral_ids: list[UUID], now: datetime) -> None:
    await AccessLink.update({AccessLink.revoked_at: now}).where(
        AccessLink.referral.is_in(referral_ids)
        & (AccessLink.party == Party.PARTNER.value)
        & AccessLink.revoked_at.is_null()
    )


async def _erase_shared(referral_ids: list[UUID], now: datetime) -> None:
    """Withdrawing consent erases what was shared with every partner of the path: the
    message (copied along redirections), what the consent shared, and the partners'
    links."""
    await Referral.update({Referral.message: ""}).where(Referral.id.is_in(referral_ids))
    await Consent.update({Consent.withdrawn_at: now, Consent.shares: []}).where(
        Consent.referral.is_in(referral_ids) & Consent.withdrawn_at.is_null()
    )
    await _revoke_partner_links(referral_ids, now)
    await appointments.erase(referral_ids)


async def _redirect(
    parent: dict[str, Any], action: Action, now: datetime, rules: Rules
) -> tuple[UUID, str]:
    """The new, linked referral: same young person, same referent, same consent."""
    assert action.redirect_to_structure_id is not None
    child = Referral(
        young_person=parent["young_person"],
        parent=parent["id"],
        from_structure=parent["from_structure"],
        referent=parent["referent"],
        to_structure=action.redirect_to_structure_id,
        to_service=action.redirect_to_service_id,
        domain=parent["domain"],
        urgency=parent["urgency"],
        language=parent["language"],
        message=parent["message"],
        status=Status.SENT.value,
        version=1,
        sent_at=now,
        created_at=now,
        **await _terms(parent["from_structure"], action.redirect_to_structure_id, now, rules),
    )
    await child.save()
    consent = await Consent.select().where(Consent.referral == parent["id"]).first()
    if consent is None:  # every referral is sent with one; never redirect without it
        raise Conflict(CONSENT_REQUIRED)
    await Consent(
        referral=child.id,
        given_at=consent["given_at"],
        collected_by=consent["collected_by"],
        shares=consent["shares"],
    ).save()
    await _event(
        child.id,
        now,
        Who(Party.PARTNER, label=REDIRECTION_LABEL),
        Transition.SEND,
        Status.DRAFT,
        Status.SENT,
        note=action.note.strip(),
    )
    token = await _new_link(child.id, Party.PARTNER, rules.partner_link_days, now)
    return child.id, token


async def renew_partner_link(
    referral_id: UUID, who: Who, rules: Rules, now: datetime | None = None
) -> str:
    """The advisor sends a fresh link; the old ones stop working."""
    if who.party != Party.ADVISOR:
        raise Forbidden("Seul le conseiller peut renouveler le lien du partenaire.")
    row = await _row(referral_id)
    if not Status(row["status"]).is_open:
        raise Conflict("Cette orientation est close : son lien n'est plus renouvelé.")
    now = now or _now()
    async with writing():
        await AccessLink.update({AccessLink.revoked_at: now}).where(
            (AccessLink.referral == referral_id)
            & (AccessLink.party == Party.PARTNER.value)
            & AccessLink.revoked_at.is_null()
        )
        await _audit(who, CHANGE, referral_id, "partner_link", now)
        token = await _new_link(referral_id, Party.PARTNER, rules.partner_link_days, now)
        await announce_referral(referral_id, token, None, now, renewal=True)
    outbox.wake()
    return token


# ---- Reading -----------------------------------------------------------------------------


def is_overdue(row: dict[str, Any], now: datetime) -> bool:
    status = Status(row["status"])
    if status not in AWAITING_PARTNER:
        return False
    due = row["acknowledge_due"] if status == Status.SENT else row["answer_due"]
    return due is not None and due < now


async def read(referral_id: UUID, who: Who, now: datetime | None = None) -> ReferralRead:
    """The referral as `who` may see it: a partner sees only what the young person agreed
    to share; nobody but the advisor side reads a decline message."""
    now = now or _now()
    if who.link_referral is not None and who.link_referral != referral_id:
        raise Forbidden("Ce lien ne concerne pas cette orientation.")
    row = (
        await Referral.select(
            *Referral.all_columns(),
            Referral.from_structure.name.as_alias("from_structure_name"),
            Referral.to_structure.name.as_alias("to_structure_name"),
            Referral.to_service.name.as_alias("to_service_name"),
            Referral.to_contact.first_name.as_alias("contact_first_name"),
            Referral.to_contact.last_name.as_alias("contact_last_name"),
            Referral.referent.name.as_alias("referent_name"),
            Referral.referent.email.as_alias("referent_email"),
            Referral.convention.title.as_alias("convention_title"),
        )
        .where(Referral.id == referral_id)
        .first()
    )
    if row is None:
        raise NotFound("Orientation")
    await _audit(who, READ, referral_id)
    young = await YoungPerson.select().where(YoungPerson.id == row["young_person"]).first()
    if young is None:  # the foreign key forbids it; say so to the type checker
        raise NotFound("Orientation")
    consent = await Consent.select().where(Consent.referral == referral_id).first()
    withdrawn = consent is None or consent["withdrawn_at"] is not None
    shares = set(consent["shares"] if consent else [])
    advisor = who.party == Party.ADVISOR
    # A partner sees what the young person shared only while it works on the referral:
    # once declined, redirected, closed or cancelled, it no longer needs it.
    partner_may_see = Status(row["status"]).is_open and not withdrawn
    events = (
        await ReferralEvent.select()
        .where(ReferralEvent.referral == referral_id)
        .order_by(ReferralEvent.at)
    )
    children = await Referral.select(Referral.id).where(Referral.parent == referral_id)
    said = await _young_answer(referral_id)
    said_words = frozenset({Transition(said["transition"])}) if said else frozenset()
    return ReferralRead(
        id=row["id"],
        status=Status(row["status"]),
        status_label=Status(row["status"]).label,
        version=row["version"],
        domain=row["domain"],
        urgency=row["urgency"],
        message=row["message"] if advisor or ("message" in shares and partner_may_see) else "",
        from_structure_id=row["from_structure"],
        from_structure_name=row["from_structure_name"],
        referent_name=row["referent_name"] or "",
        referent_email=row["referent_email"] or "",
        to_structure_id=row["to_structure"],
        to_structure_name=row["to_structure_name"],
        to_service_id=row["to_service"],
        to_service_name=row["to_service_name"] or "",
        to_contact_name=" ".join(
            n for n in (row["contact_first_name"], row["contact_last_name"]) if n
        ),
        young_person_id=row["young_person"],
        young_person=_young_view(young, shares, partner_may_see, who.party),
        consent_withdrawn=withdrawn,
        parent_id=row["parent"],
        convention_id=row["convention"],
        convention_title=row["convention_title"] or "",
        children_ids=[c["id"] for c in children],
        acknowledge_due=row["acknowledge_due"],
        answer_due=row["answer_due"],
        overdue=is_overdue(row, now),
        sent_at=row["sent_at"],
        closed_at=row["closed_at"],
        outcome=row["outcome"],
        decline_reason=row["decline_reason"] if who.party != Party.YOUNG_PERSON else "",
        private_note=row["private_note"] if advisor else "",
        allowed=allowed(Status(row["status"]), who.party, said_words),
        events=[
            _event_view(e, who.party, partner_may_see, row["to_structure_name"]) for e in events
        ],
        appointment=await appointments.of(referral_id, now),
        young_said=said["transition"] if said else "",
        young_said_reason=said["reason"] if said and who.party != Party.PARTNER else "",
        young_said_at=said["at"] if said else None,
        young_said_call_back=bool(said and said["note"]) and who.party != Party.PARTNER,
        language=row["language"],
    )


def _young_view(
    young: dict[str, Any], shares: set[str], partner_may_see: bool, party: Party
) -> dict[str, object]:
    if party in (Party.ADVISOR, Party.YOUNG_PERSON):
        keep = {"first_name", "birth_year", "age_range", "commune", "phone", "email", "channel"}
        return {k: young[k] for k in keep}
    if not partner_may_see:
        return {}
    view: dict[str, object] = {"first_name": young["first_name"]}
    if "age" in shares:
        view.update(birth_year=young["birth_year"], age_range=young["age_range"])
    for field in ("commune", "phone", "email"):
        if field in shares:
            view[field] = young[field]
    return view


def _event_view(
    event: dict[str, Any], party: Party, partner_may_see: bool, partner_name: str
) -> EventRead:
    # Notes are free text and may name the young person: a partner reads them only while
    # it works on the referral.
    hidden = (
        party == Party.YOUNG_PERSON
        or (event["private"] and party != Party.ADVISOR)
        or (party == Party.PARTNER and not partner_may_see)
    )
    reason = "" if party == Party.YOUNG_PERSON else event["reason"]
    return EventRead(
        at=event["at"],
        actor_kind=event["actor_kind"],
        actor_label=event["actor_label"],
        transition=event["transition"],
        transition_label=Transition(event["transition"]).label,
        sentence=event_sentence(
            Transition(event["transition"]),
            event["actor_kind"],
            event["actor_label"],
            partner_name,
        ),
        from_status=event["from_status"],
        to_status=event["to_status"],
        reason=reason,
        reason_label=REASON_LABELS.get(reason, reason),
        note="" if hidden else event["note"],
    )


async def referent_of(referral_id: UUID) -> dict[str, Any] | None:
    row = await Referral.select(Referral.referent).where(Referral.id == referral_id).first()
    if row is None or row["referent"] is None:
        return None
    return await User.select(User.name, User.email).where(User.id == row["referent"]).first()


# The appointment module builds on this one (events, links); imported last to avoid a cycle.
from service.referrals import appointments  # noqa: E402
