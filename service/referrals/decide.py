"""The referral exchange's rules, as pure functions: given what was read from the database
(the "facts"), say every problem with a request at once, or build the change set that the
exchange then writes in one transaction. Nothing here reads the clock or the database, so
each rule can be tested on plain values (tests/service/test_exchange_rules.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from directory.errors import Conflict, Invalid
from directory.gazetteer import Gazetteer
from directory.validation import email_problem, normalise_phone
from directory.vocabulary import DOMAIN_LABELS, Domain
from service.accounts.store import Actor
from service.referrals.calendar import shift_for_pause
from service.referrals.machine import IllegalTransition, Party, Rule, Status, Transition, rule_for
from service.referrals.notify import Mail, transition_mail
from service.referrals.schemas import Action, ReferralCreate, YoungPersonIn
from service.referrals.tables import Referral

CONSENT_REQUIRED = (
    "Sans le consentement du jeune, l'orientation ne peut pas partir (libre adhésion)."
)
# Missions Locales follow young people from 16 to 25. The margin lets an advisor refer a
# 15-year-old leaving school or someone still followed after 25, and still catches typos.
YOUNGEST_AGE, OLDEST_AGE = 14, 35
RACE_LOST = (
    "Quelqu'un d'autre vient d'agir sur cette orientation : rechargez la page pour voir où "
    "elle en est."
)
INACTIVE = "Cette structure n'est pas active : elle ne reçoit pas d'orientation."
# Transitions by which the partner answers; the first answer also acknowledges.
ANSWERS = frozenset({Transition.ACCEPT, Transition.DECLINE, Transition.REDIRECT})


@dataclass(frozen=True)
class Who:
    """Who acts: an account, or the holder of a personal link to one referral."""

    party: Party
    user: Actor | None = None
    link_referral: UUID | None = None
    label: str = ""


class AlreadyAnswered(Conflict):
    """The young person's answer is given once; a second one is refused, kindly."""


@dataclass(frozen=True)
class Entry:
    """One history entry: events are written once and never changed."""

    transition: Transition
    from_status: Status
    to_status: Status
    reason: str = ""
    note: str = ""
    private: bool = False


def birth_year_problem(birth_year: int | None, today: date) -> str:
    """Why a birth year cannot be right this year, or ''. Bounds relative to today, so
    that the form never starts refusing real young people as years go by."""
    if birth_year is None:
        return ""
    first, last = today.year - OLDEST_AGE, today.year - YOUNGEST_AGE
    if not first <= birth_year <= last:
        return f"L'année de naissance doit être comprise entre {first} et {last}."
    return ""


# ---- Where a referral goes ---------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The structure, service and contact a referral is sent to, as the database has them
    (None where the id names nothing)."""

    structure_id: UUID
    structure: dict[str, Any] | None
    service_id: UUID | None = None
    service: dict[str, Any] | None = None
    contact_id: UUID | None = None
    contact: dict[str, Any] | None = None


def target_problems(target: Target, field: str, domain: str, domain_field: str) -> dict[str, str]:
    """What is wrong with a target: an unknown or closed structure, a service or person
    from elsewhere, a need the chosen service does not cover. The form only offers the
    right ones; the API is checked here all the same."""
    errors: dict[str, str] = {}
    if target.structure is None:
        errors[field] = "Structure introuvable."
    elif target.structure["status"] != "active":
        errors[field] = INACTIVE
    service = target.service
    if target.service_id is not None:
        if service is None or service["structure"] != target.structure_id:
            errors["to_service_id"] = "Ce service n'appartient pas à la structure choisie."
        elif problem := domain_problem(domain, service["domains"]):
            errors[domain_field] = problem
    if target.contact_id is not None:
        person = target.contact
        if person is None or person["structure"] != target.structure_id:
            errors["to_contact_id"] = "Cette personne ne travaille pas dans la structure choisie."
        elif not person["active"]:
            errors["to_contact_id"] = "Cette personne a quitté la structure."
    return errors


def domain_problem(domain: str, service_domains: list[str] | None) -> str:
    """Why a service cannot take a need of this domain, or ''. A service that lists no
    domain takes any need, as on the send form."""
    if not service_domains or domain in service_domains:
        return ""
    covered = ", ".join(_domain_label(d) for d in service_domains)
    return (
        f"Ce service ne couvre pas le domaine « {_domain_label(domain)} » : choisissez l'un "
        f"de ses domaines ({covered}) ou un autre service."
    )


def _domain_label(value: str) -> str:
    try:
        return DOMAIN_LABELS[Domain(value)]
    except ValueError:
        return value


# ---- Sending -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SendFacts:
    """What the send rules read: the target, the young person already known (if one is
    named), and the deadlines that will apply."""

    target: Target
    known_young: dict[str, Any] | None
    terms: dict[str, Any]


@dataclass(frozen=True)
class SendChanges:
    """Everything a send writes: the young person when new, the referral, its consent,
    and which personal links go out."""

    young: dict[str, Any] | None
    young_person_id: UUID | None
    referral: dict[str, Any]
    shares: list[str]
    entry: Entry
    young_link: bool
    email_young_link: bool


def send_problems(
    actor: Actor, data: ReferralCreate, facts: SendFacts, today: date, gazetteer: Gazetteer
) -> dict[str, str]:
    """Every reason a referral cannot leave, at once, so a form shows them all."""
    errors: dict[str, str] = {}
    if not data.consent.given:
        errors["consent"] = CONSENT_REQUIRED
    if data.to_structure_id == actor.structure_id:
        errors["to_structure_id"] = "On n'oriente pas vers sa propre structure."
    errors.update(target_problems(facts.target, "to_structure_id", data.domain.value, "domain"))
    if data.young_person_id is not None:
        known = facts.known_young
        if known is None or known["structure"] != actor.structure_id:
            errors["young_person_id"] = "Jeune introuvable dans votre structure."
        elif known["anonymised_at"] is not None:
            errors["young_person_id"] = "Les données de ce jeune ont été effacées."
    elif data.young_person is None:
        errors["young_person"] = "Indiquez au moins le prénom (ou un pseudonyme) et la commune."
    else:
        errors.update(young_person_problems(data.young_person, today, gazetteer))
    return errors


def young_person_problems(
    person: YoungPersonIn, today: date, gazetteer: Gazetteer
) -> dict[str, str]:
    """What is wrong with a new young person's details: contact details that cannot
    reach them, a channel without its address, an unknown commune."""
    errors: dict[str, str] = {}
    if problem := normalise_phone(person.phone)[1]:
        errors["phone"] = problem
    if problem := email_problem(person.email):
        errors["email"] = problem
    if problem := birth_year_problem(person.birth_year, today):
        errors["birth_year"] = problem
    if gazetteer.get(person.commune) is None:
        errors["commune"] = f"Aucune commune n'a le code INSEE {person.commune}."
    if person.channel == "email" and not person.email:
        errors["channel"] = "Pour être prévenu·e par courriel, il faut une adresse."
    if person.channel == "sms" and not person.phone:
        errors["channel"] = "Pour être prévenu·e par SMS, il faut un numéro."
    return errors


def send_changes(
    actor: Actor, data: ReferralCreate, facts: SendFacts, now: datetime
) -> SendChanges:
    """The rows a send writes, once `send_problems` found nothing. One line per referral
    column: a new field of the send payload is one more line here."""
    young = _new_young(data.young_person) if data.young_person_id is None else None
    contact = young or facts.known_young or {}
    channel, has_email = contact.get("channel", ""), bool(contact.get("email"))
    referral = {
        "from_structure": actor.structure_id,
        "referent": actor.user_id,
        "to_structure": data.to_structure_id,
        "to_service": data.to_service_id,
        "to_contact": data.to_contact_id,
        "domain": data.domain.value,
        "urgency": data.urgency,
        "language": data.language,
        "message": data.message.strip(),
        "status": Status.SENT.value,
        "version": 1,
        "sent_at": now,
        "created_at": now,
        **facts.terms,
    }
    return SendChanges(
        young=young,
        young_person_id=data.young_person_id,
        referral=referral,
        shares=sorted(set(data.consent.shares)),
        entry=Entry(Transition.SEND, Status.DRAFT, Status.SENT),
        # Email links are sent by Maillage; an SMS link is shown to the advisor to send.
        young_link=(channel == "email" and has_email) or channel == "sms",
        email_young_link=channel == "email" and has_email,
    )


def _new_young(person: YoungPersonIn | None) -> dict[str, Any]:
    """A new young person's row, as little as the referral needs."""
    assert person is not None  # send_problems refuses a referral without one
    return {
        "first_name": person.first_name.strip(),
        "birth_year": person.birth_year,
        "age_range": person.age_range,
        "commune": person.commune,
        "phone": normalise_phone(person.phone)[0],
        "email": person.email.strip().lower(),
        "channel": person.channel,
    }


# ---- Acting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActFacts:
    """What the rules of one transition read: the referral as it stands, the path it
    belongs to, the young person's earlier answer, and the structures the action names."""

    row: dict[str, Any]
    path: list[UUID]
    answered: bool = False
    redirect: Target | None = None
    redirect_terms: dict[str, Any] = field(default_factory=dict)
    suggested: dict[str, Any] | None = None


@dataclass(frozen=True)
class TransitionChanges:
    """Everything a transition writes: the referral's new columns (applied only if its
    version is still the one read), the history entry, what is erased, the redirected
    referral, and the mail to the referent."""

    referral_id: UUID
    version: int
    columns: dict[Any, Any]
    entry: Entry
    erase_shared: list[UUID]
    cancel: bool
    child: dict[str, Any] | None
    mail: Mail | None


def check_action(facts: ActFacts, action: Action, who: Who) -> Rule:
    """The rule that allows this transition now, or why not: a refusal by the state
    machine or a lost race is a Conflict; input problems come together as Invalid."""
    status = Status(facts.row["status"])
    try:
        rule = rule_for(status, action.transition, who.party)
    except IllegalTransition as error:
        raise Conflict(str(error)) from error
    if rule.once and facts.answered:
        raise AlreadyAnswered(
            "Vous avez déjà répondu pour cette orientation : votre réponse est bien "
            "enregistrée et votre conseiller·ère l'a reçue."
        )
    if action.expected_version is not None and action.expected_version != facts.row["version"]:
        raise Conflict(
            "Cette orientation a changé depuis que vous l'avez ouverte : rechargez la page."
        )
    errors = action_problems(facts, action, rule)
    if errors:
        raise Invalid(errors)
    return rule


def action_problems(facts: ActFacts, action: Action, rule: Rule) -> dict[str, str]:
    """Every input problem of an allowed transition, at once."""
    errors: dict[str, str] = {}
    if rule.needs_reason and action.reason not in rule.reasons:
        errors["reason"] = "Choisissez une raison dans la liste."
    if action.reason == "other" and not action.note.strip():
        errors["note"] = "Précisez la raison dans le message."
    if action.transition == Transition.REDIRECT:
        errors.update(_redirect_problems(facts, action))
    if action.suggested_structure_id is not None and (problem := suggestion_problem(facts, action)):
        errors["suggested_structure_id"] = problem
    return errors


def _redirect_problems(facts: ActFacts, action: Action) -> dict[str, str]:
    field_name = "redirect_to_structure_id"
    if action.redirect_to_structure_id is None:
        return {field_name: "Choisissez la structure vers qui réorienter."}
    if action.redirect_to_structure_id in (facts.row["to_structure"], facts.row["from_structure"]):
        return {field_name: "Choisissez une autre structure."}
    assert facts.redirect is not None  # loaded whenever a structure is named
    return target_problems(facts.redirect, field_name, facts.row["domain"], "to_service_id")


def suggestion_problem(facts: ActFacts, action: Action) -> str:
    """Why the structure a declining partner suggests cannot be offered to the advisor."""
    if action.transition != Transition.DECLINE:
        return "On ne suggère une autre structure qu'en refusant l'orientation."
    if facts.suggested is None:
        return "La structure suggérée est introuvable dans l'annuaire."
    if action.suggested_structure_id == facts.row["to_structure"]:
        return "Suggérez une autre structure que la vôtre, qui refuse l'orientation."
    if action.suggested_structure_id == facts.row["from_structure"]:
        return "C'est la structure qui a orienté le jeune : suggérez-en une autre."
    if facts.suggested["status"] != "active":
        return INACTIVE
    return ""


def transition_changes(
    facts: ActFacts, action: Action, rule: Rule, now: datetime
) -> TransitionChanges:
    """The change set of a transition `check_action` allowed."""
    row = facts.row
    status = Status(row["status"])
    target = _target_status(rule, status, row)
    note = action.note.strip()
    if action.transition == Transition.COULD_NOT_GO and action.call_back:
        note = "Je voudrais être recontacté·e."
    redirect = action.transition == Transition.REDIRECT
    return TransitionChanges(
        referral_id=row["id"],
        version=row["version"],
        columns=_columns(row, action, status, target, now),
        entry=Entry(
            action.transition,
            status,
            target,
            reason=action.reason,
            note=note,
            private=action.transition == Transition.DECLINE,
        ),
        erase_shared=facts.path if action.transition == Transition.WITHDRAW else [],
        # A cancelled referral, even one sent by mistake, is no one's business any more.
        cancel=target == Status.CANCELLED,
        child=child_referral(row, action, facts.redirect_terms, now) if redirect else None,
        mail=transition_mail(
            row["id"],
            action.transition,
            target,
            row["version"] + 1,
            reason=action.reason,
            call_back=action.call_back,
        ),
    )


def _target_status(rule: Rule, status: Status, row: dict[str, Any]) -> Status:
    if rule.stays:
        return status
    if rule.to is None:
        return Status(row["held_from"])
    return rule.to


def _columns(
    row: dict[str, Any], action: Action, status: Status, target: Status, now: datetime
) -> dict[Any, Any]:
    """The referral's columns a transition sets: state and version always, then the dates
    and details each transition records."""
    t = action.transition
    changes: dict[Any, Any] = {Referral.status: target.value, Referral.version: row["version"] + 1}
    if t == Transition.ACKNOWLEDGE or (t in ANSWERS and row["acknowledged_at"] is None):
        changes[Referral.acknowledged_at] = now
    if t in ANSWERS:
        changes[Referral.answered_at] = now
    if t == Transition.DECLINE:
        changes[Referral.decline_reason] = action.reason
        changes[Referral.private_note] = action.note.strip()
        changes[Referral.suggested_structure] = action.suggested_structure_id
    if t == Transition.CLOSE:
        changes[Referral.outcome] = action.reason
    if t == Transition.HOLD:
        changes[Referral.held_from] = status.value
        changes[Referral.held_since] = now
    if t == Transition.RESUME:
        changes.update(_resumed(row, now))
    if not target.is_open:
        changes[Referral.closed_at] = now
    return changes


def _resumed(row: dict[str, Any], now: datetime) -> dict[Any, Any]:
    """Deadlines move on by the length of the pause: the partner is not late for it."""
    held_since = row["held_since"] or now
    changes: dict[Any, Any] = {Referral.held_from: "", Referral.held_since: None}
    for column, key in (
        (Referral.acknowledge_due, "acknowledge_due"),
        (Referral.answer_due, "answer_due"),
    ):
        if row[key] is not None:
            changes[column] = shift_for_pause(row[key], held_since, now)
    return changes


def child_referral(
    parent: dict[str, Any], action: Action, terms: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The new, linked referral of a redirection: same young person, same referent, same
    need and message, to the structure the partner named."""
    return {
        "young_person": parent["young_person"],
        "parent": parent["id"],
        "from_structure": parent["from_structure"],
        "referent": parent["referent"],
        "to_structure": action.redirect_to_structure_id,
        "to_service": action.redirect_to_service_id,
        "domain": parent["domain"],
        "urgency": parent["urgency"],
        "language": parent["language"],
        "message": parent["message"],
        "status": Status.SENT.value,
        "version": 1,
        "sent_at": now,
        "created_at": now,
        **terms,
    }
