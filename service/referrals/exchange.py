"""The referral exchange: send a referral with the young person's consent, let each party
act on it through the state machine, keep every step as an event. Domain code: it takes
plain values, reads what the rules need, lets the pure rules of service/referrals/decide.py
check them and build the change set, then writes it in one transaction."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import msgspec
from piccolo.table import Table

from conventions.store import applying_to
from conventions.tables import Convention
from directory.errors import Conflict, Forbidden, Invalid, NotFound
from directory.gazetteer import load_gazetteer
from directory.hours import local_date
from directory.raw import fetch
from directory.store import writing
from directory.tables import Person, Service, Structure
from service import outbox
from service.accounts.store import Actor, Role
from service.accounts.tables import User
from service.audit import store as audit
from service.db import insert_sql
from service.referrals.calendar import add_working_days
from service.referrals.decide import (
    CONSENT_REQUIRED,
    RACE_LOST,
    ActFacts,
    AlreadyAnswered,
    Entry,
    SendChanges,
    SendFacts,
    Target,
    TransitionChanges,
    Who,
    birth_year_problem,
    check_action,
    send_changes,
    send_problems,
    transition_changes,
)
from service.referrals.idempotency import Once
from service.referrals.machine import (
    AWAITING_PARTNER,
    ONCE_ONLY,
    REASON_LABELS,
    Party,
    Status,
    Transition,
    allowed,
)
from service.referrals.notify import announce_referral, enqueue
from service.referrals.phrases import PARTNER_LINK_LABEL, REDIRECTION_LABEL, event_sentence
from service.referrals.schemas import (
    Action,
    EventRead,
    ReferralCreate,
    ReferralRead,
)
from service.referrals.tables import (
    AccessLink,
    Appointment,
    Consent,
    Referral,
    ReferralEvent,
    YoungPerson,
)

# Re-exported: pages and tests name them through this module.
__all__ = [
    "CONSENT_REQUIRED",
    "AlreadyAnswered",
    "Who",
    "birth_year_problem",
]

READ, CHANGE = audit.Action.READ, audit.Action.CHANGE


@dataclass(frozen=True)
class Rules:
    """The exchange's settings that shape deadlines and links."""

    acknowledge_days: int = 5
    answer_days: int = 10
    partner_link_days: int = 14
    young_person_link_days: int = 90


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
    links = await fetch(AccessLink, _LINK_SQL, _digest(token))
    link = links[0] if links else None
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


_LINK_SQL = (
    "SELECT referral, party, expires_at, revoked_at FROM referral_link WHERE token_hash = {}"
)


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
    rows = await fetch(Referral, _ROW_SQL, referral_id)
    if not rows:
        raise NotFound("Orientation")
    return dict(rows[0])


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
    expires = now + timedelta(days=days)
    values = (uuid4(), referral_id, party.value, _digest(token), now, expires, None)
    await fetch(AccessLink, _LINK_INSERT, *values)
    return token


_LINK_INSERT = insert_sql(
    AccessLink, "id referral party token_hash created_at expires_at revoked_at"
)


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


async def _target(
    structure_id: UUID, service_id: UUID | None = None, contact_id: UUID | None = None
) -> Target:
    """The target's rows the rules look at (decide.target_problems)."""
    structure = await Structure.select(Structure.status).where(Structure.id == structure_id).first()
    service = contact = None
    if service_id is not None:
        service = (
            await Service.select(Service.structure, Service.domains)
            .where(Service.id == service_id)
            .first()
        )
    if contact_id is not None:
        contact = (
            await Person.select(Person.structure, Person.active)
            .where(Person.id == contact_id)
            .first()
        )
    return Target(structure_id, structure, service_id, service, contact_id, contact)


async def _send_facts(actor: Actor, data: ReferralCreate, now: datetime, rules: Rules) -> SendFacts:
    """What the send rules read from the database."""
    assert actor.structure_id is not None
    known = None
    if data.young_person_id is not None:
        known = (
            await YoungPerson.select(
                YoungPerson.id,
                YoungPerson.referent.structure.as_alias("structure"),
                YoungPerson.anonymised_at,
                YoungPerson.channel,
                YoungPerson.email,
            )
            .where(YoungPerson.id == data.young_person_id)
            .first()
        )
    return SendFacts(
        target=await _target(data.to_structure_id, data.to_service_id, data.to_contact_id),
        known_young=known,
        terms=await _terms(actor.structure_id, data.to_structure_id, now, rules),
    )


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
    facts = await _send_facts(actor, data, now, rules)
    errors = send_problems(actor, data, facts, local_date(now), load_gazetteer())
    if errors:
        raise Invalid(errors)
    return await _write_send(actor, send_changes(actor, data, facts, now), rules, now, once)


async def _write_send(
    actor: Actor, changes: SendChanges, rules: Rules, now: datetime, once: Once | None
) -> Sent:
    """Write a send's change set in one transaction, with its links and the partner's
    email: a referral never exists without them."""
    who = Who(Party.ADVISOR, actor, label=actor.name)
    async with writing():
        young_person_id = await _young_person_of(actor, changes, now)
        referral = Referral(young_person=young_person_id, **changes.referral)
        await referral.save()
        await Consent(
            referral=referral.id, given_at=now, collected_by=actor.user_id, shares=changes.shares
        ).save()
        await _record(referral.id, now, who, changes.entry)
        await _audit(who, CHANGE, referral.id, "send", now)
        partner_token = await _new_link(referral.id, Party.PARTNER, rules.partner_link_days, now)
        young_token = None
        if changes.young_link:
            young_token = await _new_link(
                referral.id, Party.YOUNG_PERSON, rules.young_person_link_days, now
            )
        emailed = young_token if changes.email_young_link else None
        await announce_referral(referral.id, partner_token, emailed, now)
        if once is not None:
            await once.remember(referral.id, partner_token, young_token, now)
    outbox.wake()
    return Sent(referral.id, partner_token, young_token)


async def _young_person_of(actor: Actor, changes: SendChanges, now: datetime) -> UUID:
    """The new young person's id once written, or the known one's, still there."""
    if changes.young is not None:
        row = YoungPerson(referent=actor.user_id, created_at=now, **changes.young)
        await row.save()
        return row.id
    assert changes.young_person_id is not None
    if not await YoungPerson.exists().where(YoungPerson.id == changes.young_person_id):
        raise NotFound("Jeune")  # checked above, but gone since: say so rather than crash
    return changes.young_person_id


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
    await fetch(
        ReferralEvent,
        _EVENT_INSERT,
        uuid4(),
        referral_id,
        at,
        who.party.value,
        who.user.user_id if who.user else None,
        who.label,
        transition.value,
        from_status.value,
        to_status.value,
        reason,
        note,
        private,
    )


_EVENT_INSERT = insert_sql(
    ReferralEvent,
    "id referral at actor_kind actor_user actor_label transition from_status to_status "
    "reason note private",
)


async def _record(referral_id: UUID, at: datetime, who: Who, entry: Entry) -> None:
    """Write a change set's history entry."""
    await _event(
        referral_id,
        at,
        who,
        entry.transition,
        entry.from_status,
        entry.to_status,
        reason=entry.reason,
        note=entry.note,
        private=entry.private,
    )


# ---- Acting ------------------------------------------------------------------------------


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
    facts = await _act_facts(referral_id, action, now, rules)
    rule = check_action(facts, action, who)
    changes = transition_changes(facts, action, rule, now)
    return await _write_transition(changes, who, rules, now)


async def _act_facts(referral_id: UUID, action: Action, now: datetime, rules: Rules) -> ActFacts:
    """What the rules of this transition read: the referral, and only what the action
    needs besides (the path, the young person's answer, the structures it names)."""
    path = [referral_id]
    if action.transition == Transition.WITHDRAW:
        # Consent is withdrawn from the whole path, wherever one stands on it: what is
        # cancelled is the referral still running, the latest of the chain.
        path = await chain(referral_id)
    row = await _row(path[-1])
    answered = action.transition in ONCE_ONLY and await _young_answer(row["id"]) is not None
    redirect, terms = None, {}
    to = action.redirect_to_structure_id
    if action.transition == Transition.REDIRECT and to is not None:
        redirect = await _target(to, action.redirect_to_service_id)
        terms = await _terms(row["from_structure"], to, now, rules)
    suggested = None
    if action.suggested_structure_id is not None:
        suggested = (
            await Structure.select(Structure.id, Structure.status)
            .where(Structure.id == action.suggested_structure_id)
            .first()
        )
    return ActFacts(row, path, answered, redirect, terms, suggested)


async def _write_transition(
    changes: TransitionChanges, who: Who, rules: Rules, now: datetime
) -> Done:
    """Write a transition's change set in one transaction. The update applies only to the
    version the rules read: of two simultaneous answers, the second finds none and
    changes nothing. The referent's email commits with the change."""
    referral_id, entry = changes.referral_id, changes.entry
    child_id = child_token = None
    async with writing():
        if not await _update_at_version(referral_id, changes.version, changes.columns):
            raise Conflict(RACE_LOST)
        await _record(referral_id, now, who, entry)
        await _audit(who, CHANGE, referral_id, entry.transition.value, now)
        if changes.erase_shared:
            await _erase_shared(changes.erase_shared, now)
        elif changes.cancel:
            await _revoke_partner_links([referral_id], now)
            await appointments.erase([referral_id])
        if changes.child is not None:
            child_id, child_token = await _redirect(changes.child, entry.note, rules, now)
            await _audit(who, CHANGE, child_id, "send", now)
            await announce_referral(child_id, child_token, None, now)
        if changes.mail is not None:
            await enqueue(changes.mail, now)
    outbox.wake()
    return Done(
        referral_id, entry.transition, entry.from_status, entry.to_status, child_id, child_token
    )


async def _update_at_version(referral_id: UUID, version: int, columns: dict[Any, Any]) -> bool:
    """Set these columns if the referral is still at `version`; False if it is not."""
    names = ", ".join(f'"{column._meta.db_column_name}" = {{}}' for column in columns)
    sql = f"UPDATE referral SET {names} WHERE id = {{}} AND version = {{}} RETURNING id"
    return bool(await fetch(Referral, sql, *columns.values(), referral_id, version))


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
    child: dict[str, Any], note: str, rules: Rules, now: datetime
) -> tuple[UUID, str]:
    """Write the redirection's new referral with a copy of the parent's consent, and its
    partner's link."""
    referral = Referral(**child)
    await referral.save()
    consent = await Consent.select().where(Consent.referral == child["parent"]).first()
    if consent is None:  # every referral is sent with one; never redirect without it
        raise Conflict(CONSENT_REQUIRED)
    await Consent(
        referral=referral.id,
        given_at=consent["given_at"],
        collected_by=consent["collected_by"],
        shares=consent["shares"],
    ).save()
    await _record(
        referral.id,
        now,
        Who(Party.PARTNER, label=REDIRECTION_LABEL),
        Entry(Transition.SEND, Status.DRAFT, Status.SENT, note=note),
    )
    token = await _new_link(referral.id, Party.PARTNER, rules.partner_link_days, now)
    return referral.id, token


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
    row = await _read_row(referral_id)
    await _audit(who, READ, referral_id)
    return referral_view(await _read_facts(row, now), who, now)


# Every response to an action reads the referral again, with what surrounds it. Written
# once as SQL (as service/accounts/store.py's actor lookups): rebuilding these joined
# Piccolo selects per request cost more than the queries, and one query for the referral,
# its names, young person, consent and appointment saves four round trips.
def _columns(table: type[Table], alias: str, prefix: str = "") -> str:
    return ", ".join(
        f'{alias}."{c._meta.db_column_name}" AS "{prefix}{c._meta.db_column_name}"'
        for c in table.all_columns()
    )


_JOINED = ("young.", "consent.", "appointment.")
_READ_SQL = (
    f"SELECT {_columns(Referral, 'r')}, "
    "fs.name AS from_structure_name, ts.name AS to_structure_name, "
    "sv.name AS to_service_name, ct.first_name AS contact_first_name, "
    "ct.last_name AS contact_last_name, u.name AS referent_name, u.email AS referent_email, "
    "cv.title AS convention_title, ss.name AS suggested_name, ss.status AS suggested_status, "
    f"{_columns(YoungPerson, 'y', 'young.')}, {_columns(Consent, 'c', 'consent.')}, "
    f"{_columns(Appointment, 'a', 'appointment.')} "
    f"FROM {Referral._meta.tablename} r "
    f"LEFT JOIN {Structure._meta.tablename} fs ON fs.id = r.from_structure "
    f"LEFT JOIN {Structure._meta.tablename} ts ON ts.id = r.to_structure "
    f"LEFT JOIN {Service._meta.tablename} sv ON sv.id = r.to_service "
    f"LEFT JOIN {Person._meta.tablename} ct ON ct.id = r.to_contact "
    f"LEFT JOIN {User._meta.tablename} u ON u.id = r.referent "
    f"LEFT JOIN {Convention._meta.tablename} cv ON cv.id = r.convention "
    f"LEFT JOIN {Structure._meta.tablename} ss ON ss.id = r.suggested_structure "
    f"LEFT JOIN {YoungPerson._meta.tablename} y ON y.id = r.young_person "
    f"LEFT JOIN {Consent._meta.tablename} c ON c.referral = r.id "
    f"LEFT JOIN {Appointment._meta.tablename} a ON a.referral = r.id "
    "WHERE r.id = {} LIMIT 1"
)
_EVENTS_SQL = (
    f"SELECT {_columns(ReferralEvent, 'e')} FROM {ReferralEvent._meta.tablename} e "
    "WHERE e.referral = {} ORDER BY e.at"
)
_ROW_SQL = f"SELECT {_columns(Referral, 'r')} FROM {Referral._meta.tablename} r WHERE r.id = {{}}"
_CHILDREN_SQL = f"SELECT id FROM {Referral._meta.tablename} WHERE parent = {{}}"


async def _read_row(referral_id: UUID) -> dict[str, Any]:
    """The referral with the names it shows, its young person, consent and appointment
    (keys prefixed `young.`, `consent.`, `appointment.`)."""
    rows = await fetch(Referral, _READ_SQL, referral_id)
    if not rows:
        raise NotFound("Orientation")
    return dict(rows[0])


@dataclass(frozen=True)
class ReadFacts:
    """A referral and what surrounds it, before anyone's view of it is cut out."""

    row: dict[str, Any]
    young: dict[str, Any]
    consent: dict[str, Any] | None
    events: list[dict[str, Any]]
    children: list[UUID]
    said: dict[str, Any] | None
    appointment: Any


def _split(joined: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The referral's own keys, and each joined table's row by prefix."""
    row: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {prefix: {} for prefix in _JOINED}
    for key, value in joined.items():
        prefix, dot, name = key.partition(".")
        if dot:
            parts[prefix + dot][name] = value
        else:
            row[key] = value
    return row, parts


async def _read_facts(joined: dict[str, Any], now: datetime) -> ReadFacts:
    row, parts = _split(joined)
    referral_id = row["id"]
    young = parts["young."]
    if young["id"] is None:  # the foreign key forbids it
        raise NotFound("Orientation")
    consent = parts["consent."] if parts["consent."]["id"] is not None else None
    appointment = parts["appointment."]
    events = [dict(event) for event in await fetch(ReferralEvent, _EVENTS_SQL, referral_id)]
    children = await fetch(Referral, _CHILDREN_SQL, referral_id)
    return ReadFacts(
        row=row,
        young=young,
        consent=consent,
        events=events,
        children=[c["id"] for c in children],
        said=_first_young_answer(events),
        appointment=appointments.view(appointment, now) if appointment["id"] else None,
    )


def _first_young_answer(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What _young_answer reads, taken from the events already read in order."""
    for event in events:
        if event["transition"] in _ONCE_ONLY_VALUES:
            return {k: event[k] for k in ("transition", "reason", "note", "at")}
    return None


_ONCE_ONLY_VALUES = frozenset(t.value for t in ONCE_ONLY)


def referral_view(facts: ReadFacts, who: Who, now: datetime) -> ReferralRead:
    """Cut `who`'s view out of a referral. A partner sees what the young person shared only
    while it works on the referral: once declined, redirected, closed or cancelled, it no
    longer needs it."""
    row, consent, said, party = facts.row, facts.consent, facts.said, who.party
    status = Status(row["status"])
    withdrawn = consent is None or consent["withdrawn_at"] is not None
    shares = set(consent["shares"] if consent else [])
    advisor = party == Party.ADVISOR
    partner_may_see = status.is_open and not withdrawn
    suggested = row["suggested_status"] == "active" and party != Party.YOUNG_PERSON
    said_words = frozenset({Transition(said["transition"])}) if said else frozenset()
    contact = (row["contact_first_name"], row["contact_last_name"])
    return ReferralRead(
        id=row["id"],
        status=status,
        status_label=status.label,
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
        to_contact_name=" ".join(n for n in contact if n),
        young_person_id=row["young_person"],
        young_person=_young_view(facts.young, shares, partner_may_see, party),
        consent_withdrawn=withdrawn,
        parent_id=row["parent"],
        convention_id=row["convention"],
        convention_title=row["convention_title"] or "",
        children_ids=facts.children,
        acknowledge_due=row["acknowledge_due"],
        answer_due=row["answer_due"],
        overdue=is_overdue(row, now),
        sent_at=row["sent_at"],
        closed_at=row["closed_at"],
        outcome=row["outcome"],
        decline_reason=row["decline_reason"] if party != Party.YOUNG_PERSON else "",
        private_note=row["private_note"] if advisor else "",
        suggested_structure_id=row["suggested_structure"] if suggested else None,
        suggested_structure_name=row["suggested_name"] if suggested else "",
        allowed=allowed(status, party, said_words),
        events=[
            _event_view(e, party, partner_may_see, row["to_structure_name"]) for e in facts.events
        ],
        appointment=facts.appointment,
        young_said=said["transition"] if said else "",
        young_said_reason=said["reason"] if said and party != Party.PARTNER else "",
        young_said_at=said["at"] if said else None,
        young_said_call_back=bool(said and said["note"]) and party != Party.PARTNER,
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
