"""Writing and reading the audit trail. Entries name the actor, the record and a code for
what was done; coordinators and admins read them, and the referent advisor reads a
referral's own."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from msgspec import Struct

from directory.store import write_one
from service.accounts.store import Actor, Role
from service.audit.tables import AuditEntry
from service.db import insert_sql
from service.referrals.tables import Referral


class ActorKind(StrEnum):
    ACCOUNT = "account"
    PARTNER_LINK = "partner_link"
    YOUNG_PERSON_LINK = "young_person_link"
    SYSTEM = "system"


class Action(StrEnum):
    READ = "read"
    CHANGE = "change"

    @property
    def label(self) -> str:
        return "a consulté" if self == Action.READ else "a modifié"


class AuditRead(Struct):
    at: datetime
    actor_kind: ActorKind
    actor_user_id: UUID | None
    actor_label: str
    action: Action
    action_label: str
    subject_kind: str
    subject_id: UUID | None
    detail: str


_INSERT = insert_sql(
    AuditEntry, "id at actor_kind actor_user actor_label action subject_kind subject_id detail"
)


async def record(
    action: Action,
    subject_kind: str,
    subject_id: UUID | None,
    *,
    actor_kind: ActorKind,
    actor_label: str,
    actor_user: UUID | None = None,
    detail: str = "",
    at: datetime | None = None,
) -> None:
    """Write one entry; inside a caller's transaction it commits with the change itself."""
    await write_one(
        AuditEntry,
        _INSERT,
        uuid4(),
        at or datetime.now(UTC),
        actor_kind.value,
        actor_user,
        actor_label[:200],
        action.value,
        subject_kind,
        subject_id,
        detail[:120],
    )


def _view(row: dict) -> AuditRead:
    action = Action(row["action"])
    return AuditRead(
        at=row["at"],
        actor_kind=ActorKind(row["actor_kind"]),
        actor_user_id=row["actor_user"],
        actor_label=row["actor_label"],
        action=action,
        action_label=action.label,
        subject_kind=row["subject_kind"],
        subject_id=row["subject_id"],
        detail=row["detail"],
    )


async def of_subject(subject_kind: str, subject_id: UUID, limit: int = 200) -> list[AuditRead]:
    """One record's trail, newest first (the caller has checked who may read it)."""
    rows = (
        await AuditEntry.select()
        .where((AuditEntry.subject_kind == subject_kind) & (AuditEntry.subject_id == subject_id))
        .order_by(AuditEntry.at, ascending=False)
        .limit(limit)
    )
    return [_view(row) for row in rows]


async def trail(
    actor: Actor,
    subject_kind: str = "",
    subject_id: UUID | None = None,
    actor_user: UUID | None = None,
    limit: int = 200,
) -> list[AuditRead]:
    """The trail for coordinators and admins, newest first. A coordinator keeps the whole
    directory, so reads its whole trail, but only the referrals of their own structure."""
    query = AuditEntry.select()
    if subject_kind:
        query = query.where(AuditEntry.subject_kind == subject_kind)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    if actor_user is not None:
        query = query.where(AuditEntry.actor_user == actor_user)
    if actor.role != Role.ADMIN:
        mine = Referral.select(Referral.id).where(
            (Referral.from_structure == actor.structure_id)
            | (Referral.to_structure == actor.structure_id)
        )
        query = query.where(
            (AuditEntry.subject_kind != "referral") | AuditEntry.subject_id.is_in(mine)
        )
    rows = await query.order_by(AuditEntry.at, ascending=False).limit(limit)
    return [_view(row) for row in rows]
