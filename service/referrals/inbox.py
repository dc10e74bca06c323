"""Lists of referrals for the outbox (advisor side), the inbox (partner side), a young
person's journey, and wandering alerts. Each list only ever holds referrals the viewer's
structure sent or received."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from msgspec import Struct

from directory.errors import NotFound
from service.accounts.store import Actor, Role
from service.referrals.exchange import is_overdue
from service.referrals.machine import ONCE_ONLY, YOUNG_PERSON_SAYS, Status
from service.referrals.tables import Referral, ReferralEvent, YoungPerson

WANDERING_WINDOW = timedelta(days=90)
WANDERING_COUNT = 3


class ReferralSummary(Struct):
    id: UUID
    status: Status
    status_label: str
    domain: str
    urgency: str
    young_person_id: UUID
    young_first_name: str
    from_structure_name: str
    to_structure_name: str
    referent_name: str
    to_structure_id: UUID
    sent_at: datetime | None
    acknowledge_due: datetime | None
    answer_due: datetime | None
    overdue: bool
    parent_id: UUID | None
    # What the young person said on their page ("Le jeune dit y être allé·e"), if anything.
    young_says: str = ""


class Alert(Struct):
    young_person_id: UUID
    young_first_name: str
    referent_name: str
    kinds: list[str]
    messages: list[str]


def _summary(row: dict[str, Any], now: datetime) -> ReferralSummary:
    return ReferralSummary(
        id=row["id"],
        status=Status(row["status"]),
        status_label=Status(row["status"]).label,
        domain=row["domain"],
        urgency=row["urgency"],
        young_person_id=row["young_person"],
        young_first_name=row["young_first_name"],
        from_structure_name=row["from_structure_name"],
        to_structure_name=row["to_structure_name"],
        referent_name=row["referent_name"] or "",
        to_structure_id=row["to_structure"],
        sent_at=row["sent_at"],
        acknowledge_due=row["acknowledge_due"],
        answer_due=row["answer_due"],
        overdue=is_overdue(row, now),
        parent_id=row["parent"],
    )


def _query() -> Any:
    return Referral.select(
        *Referral.all_columns(),
        Referral.young_person.first_name.as_alias("young_first_name"),
        Referral.from_structure.name.as_alias("from_structure_name"),
        Referral.to_structure.name.as_alias("to_structure_name"),
        Referral.referent.name.as_alias("referent_name"),
    )


async def outbox(
    actor: Actor,
    status: str = "",
    overdue_only: bool = False,
    now: datetime | None = None,
    to_structure: UUID | None = None,
) -> list[ReferralSummary]:
    """Referrals sent by the viewer's structure (everyone's, for an admin), optionally
    only those sent to `to_structure`."""
    now = now or datetime.now(UTC)
    query = _query()
    if actor.role != Role.ADMIN:
        query = query.where(Referral.from_structure == actor.structure_id)
    if to_structure is not None:
        query = query.where(Referral.to_structure == to_structure)
    if status:
        query = query.where(Referral.status == status)
    rows = await query.order_by(Referral.sent_at, ascending=False)
    items = [_summary(row, now) for row in rows]
    await _add_young_answers(items)
    return [i for i in items if i.overdue] if overdue_only else items


async def _add_young_answers(items: list[ReferralSummary]) -> None:
    """The advisor reads the young person's own answer next to the referral's state."""
    if not items:
        return
    said = await ReferralEvent.select(ReferralEvent.referral, ReferralEvent.transition).where(
        ReferralEvent.referral.is_in([i.id for i in items])
        & ReferralEvent.transition.is_in([t.value for t in ONCE_ONLY])
    )
    words = {row["referral"]: YOUNG_PERSON_SAYS[row["transition"]] for row in said}
    for item in items:
        item.young_says = words.get(item.id, "")


async def inbox(
    actor: Actor, status: str = "", now: datetime | None = None
) -> list[ReferralSummary]:
    """Referrals received by the viewer's structure."""
    now = now or datetime.now(UTC)
    if actor.structure_id is None:
        return []
    query = _query().where(Referral.to_structure == actor.structure_id)
    if status:
        query = query.where(Referral.status == status)
    rows = await query.order_by(Referral.sent_at, ascending=False)
    items = [_summary(row, now) for row in rows]
    for item in items:
        # A partner keeps the young person's first name only while it works on the
        # referral (a withdrawal cancels it, so this covers withdrawn consent too).
        if not item.status.is_open:
            item.young_first_name = ""
    return items


async def journey(actor: Actor, young_person_id: UUID) -> list[ReferralSummary]:
    """Every referral of one young person across structures, oldest first: the chain."""
    young = (
        await YoungPerson.select(
            YoungPerson.id, YoungPerson.referent.structure.as_alias("structure")
        )
        .where(YoungPerson.id == young_person_id)
        .first()
    )
    if young is None or (actor.role != Role.ADMIN and young["structure"] != actor.structure_id):
        raise NotFound("Parcours")
    rows = await _query().where(Referral.young_person == young_person_id).order_by(Referral.sent_at)
    now = datetime.now(UTC)
    return [_summary(row, now) for row in rows]


def wandering(referrals: list[ReferralSummary], now: datetime) -> tuple[list[str], list[str]]:
    """The signs that a young person is being sent from office to office (errance)."""
    kinds: list[str] = []
    messages: list[str] = []
    recent = [r for r in referrals if r.sent_at and now - r.sent_at <= WANDERING_WINDOW]
    accepted_states = {Status.ACCEPTED, Status.IN_PROGRESS, Status.COMPLETED}
    if len(recent) >= WANDERING_COUNT and not any(r.status in accepted_states for r in recent):
        kinds.append("many_without_acceptance")
        messages.append(f"{len(recent)} orientations en 90 jours sans qu'aucune soit acceptée.")
    # By the structure's id: two homonym structures ("Foyer Jeunes Travailleurs" in two
    # towns) are two offices, and a return after the window is not a bounce.
    tries: dict[UUID, list[ReferralSummary]] = {}
    for r in recent:
        tries.setdefault(r.to_structure_id, []).append(r)
    bounced = sorted({tried[-1].to_structure_name for tried in tries.values() if len(tried) > 1})
    if bounced:
        kinds.append("bounce_back")
        messages.append("Renvoyé·e vers une structure déjà essayée : " + ", ".join(bounced) + ".")
    late = [r for r in referrals if r.overdue]
    if late:
        kinds.append("unanswered")
        messages.append(
            "Sans réponse après l'échéance : "
            + ", ".join(sorted({r.to_structure_name for r in late}))
            + "."
        )
    return kinds, messages


async def alerts(actor: Actor, now: datetime | None = None) -> list[Alert]:
    """Wandering alerts for the referent advisor (their young people) and coordinators
    (every young person of their structure)."""
    now = now or datetime.now(UTC)
    items = await outbox(actor, now=now)
    if actor.role == Role.ADVISOR:
        mine = {
            r["id"]
            for r in await YoungPerson.select(YoungPerson.id).where(
                YoungPerson.referent == actor.user_id
            )
        }
        items = [i for i in items if i.young_person_id in mine]
    by_young: dict[UUID, list[ReferralSummary]] = {}
    for item in items:
        by_young.setdefault(item.young_person_id, []).append(item)
    result = []
    for young_person_id, referrals in by_young.items():
        referrals.sort(key=lambda r: r.sent_at or now)
        kinds, messages = wandering(referrals, now)
        if kinds:
            result.append(
                Alert(
                    young_person_id=young_person_id,
                    young_first_name=referrals[0].young_first_name,
                    referent_name=referrals[0].referent_name,
                    kinds=kinds,
                    messages=messages,
                )
            )
    return sorted(result, key=lambda a: (-len(a.kinds), a.young_first_name))
