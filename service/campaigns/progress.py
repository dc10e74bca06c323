"""A campaign as it goes: who answered, who bounced, who still needs a phone call; the
reminders; and closing, which revokes the campaign's links.

Reminders: a target without an answer, mailed, not bounced, whose last mail is at least
REMIND_AFTER old, gets a reminder with a fresh link (its earlier links keep working until
they expire), at most MAX_REMINDERS. Running `remind` twice the same day sends nothing
more: the last mail is then too recent, and each reminder's outbox key is unique."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from directory.errors import Conflict, NotFound
from directory.store import writing
from directory.tables import Territory
from service import outbox
from service.campaigns.start import Candidate, helpline, mail
from service.campaigns.tables import Campaign, CampaignTarget, EntryLink
from service.departures import LostContact, lost_contacts
from service.referrals.tables import OutboxMessage

REMIND_AFTER = timedelta(days=7)
MAX_REMINDERS = 2


@dataclass(frozen=True)
class TargetRow:
    structure_id: UUID
    name: str
    phone: str
    email: str
    sent_at: datetime | None
    reminder_count: int
    answered_at: datetime | None
    outcome: str
    bounced: bool
    # When one of its links was last opened or used, if ever.
    opened_at: datetime | None = None

    @property
    def state(self) -> str:
        """Where this structure stands, in the words of the campaign page."""
        if self.outcome == "confirmed":
            return "a confirmé"
        if self.outcome == "corrected":
            return "a corrigé"
        if not self.email:
            return "sans courriel — à appeler"
        if self.bounced:
            return "courriel non distribué"
        if self.opened_at is not None:
            return "a ouvert le lien, sans répondre"
        if self.reminder_count:
            return (
                f"pas de réponse ({self.reminder_count} relance{'s' * (self.reminder_count > 1)})"
            )
        return "pas encore de réponse"

    @property
    def to_call(self) -> bool:
        """No answer after every reminder, a mail that bounced, or no email at all."""
        if self.outcome:
            return False
        return not self.email or self.bounced or self.reminder_count >= MAX_REMINDERS


@dataclass(frozen=True)
class Progress:
    id: UUID
    name: str
    scope: str
    older_than_months: int
    created_by_name: str
    created_at: datetime
    closes_at: datetime | None
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    targets: list[TargetRow] = field(default_factory=list)
    # Open, but past its end: its links have expired, nobody is reminded any more.
    ended: bool = False
    # Services and conventions of the targets whose named person has left: a call to make
    # while calling anyway (service.departures).
    lost: list[LostContact] = field(default_factory=list)

    @property
    def answered_percent(self) -> int:
        total = self.counts.get("targets", 0)
        answered = self.counts.get("confirmed", 0) + self.counts.get("corrected", 0)
        return round(100 * answered / total) if total else 0

    @property
    def to_call(self) -> list[TargetRow]:
        return [t for t in self.targets if t.to_call]


def _now() -> datetime:
    return datetime.now(UTC)


async def campaign_row(campaign_id: UUID) -> dict[str, Any]:
    row = await Campaign.select().where(Campaign.id == campaign_id).first()
    if row is None:
        raise NotFound("Campagne")
    return row


async def _bounced(campaign_id: UUID) -> set[UUID]:
    """Targets whose latest mail the outbox gave up delivering."""
    rows = (
        await OutboxMessage.select(OutboxMessage.key, OutboxMessage.given_up_at)
        .where(OutboxMessage.key.like(f"campaign:{campaign_id}:%"))
        .order_by(OutboxMessage.created_at)
    )
    latest: dict[str, Any] = {}
    for row in rows:
        latest[row["key"].split(":")[2]] = row["given_up_at"]
    return {UUID(structure) for structure, given_up in latest.items() if given_up is not None}


async def _sync_bounces(campaign_id: UUID) -> None:
    bounced = await _bounced(campaign_id)
    flagged = {
        row["structure"]
        for row in await CampaignTarget.select(CampaignTarget.structure).where(
            (CampaignTarget.campaign == campaign_id) & (CampaignTarget.bounced == True)  # noqa: E712
        )
    }
    if bounced == flagged:
        return
    async with writing():
        await CampaignTarget.update({CampaignTarget.bounced: False}).where(
            CampaignTarget.campaign == campaign_id
        )
        if bounced:
            await CampaignTarget.update({CampaignTarget.bounced: True}).where(
                (CampaignTarget.campaign == campaign_id)
                & CampaignTarget.structure.is_in(list(bounced))
            )


async def _opened(campaign_id: UUID) -> dict[UUID, datetime]:
    """When each target last opened one of the campaign's links."""
    rows = await EntryLink.select(EntryLink.structure, EntryLink.last_used_at).where(
        (EntryLink.campaign == campaign_id) & EntryLink.last_used_at.is_not_null()
    )
    opened: dict[UUID, datetime] = {}
    for row in rows:
        opened[row["structure"]] = max(
            row["last_used_at"], opened.get(row["structure"], row["last_used_at"])
        )
    return opened


async def _scope(row: dict[str, Any]) -> str:
    if row["territory"]:
        territory = await Territory.select(Territory.name).where(Territory.id == row["territory"])
        return f"territoire {territory[0]['name']}" if territory else "territoire supprimé"
    count = len(json.loads(row["selection"] or "[]"))
    return f"sélection de {count} structure{'s' * (count > 1)}"


def _counts(targets: list[TargetRow]) -> dict[str, int]:
    return {
        "targets": len(targets),
        "sent": sum(1 for t in targets if t.sent_at is not None),
        "confirmed": sum(1 for t in targets if t.outcome == "confirmed"),
        "corrected": sum(1 for t in targets if t.outcome == "corrected"),
        "no_answer": sum(1 for t in targets if not t.outcome and t.email and not t.bounced),
        "bounced": sum(1 for t in targets if t.bounced and not t.outcome),
        "no_email": sum(1 for t in targets if not t.email and not t.outcome),
        "to_call": sum(1 for t in targets if t.to_call),
    }


async def progress(campaign_id: UUID) -> Progress:
    row = await campaign_row(campaign_id)
    await _sync_bounces(campaign_id)
    rows = (
        await CampaignTarget.select(
            *CampaignTarget.all_columns(),
            CampaignTarget.structure.name.as_alias("name"),
            CampaignTarget.structure.phone.as_alias("phone"),
        )
        .where(CampaignTarget.campaign == campaign_id)
        .order_by(CampaignTarget.structure.name)
    )
    opened = await _opened(campaign_id)
    targets = [
        TargetRow(
            r["structure"],
            r["name"],
            r["phone"],
            r["email"],
            r["sent_at"],
            r["reminder_count"],
            r["answered_at"],
            r["outcome"],
            r["bounced"],
            opened.get(r["structure"]),
        )
        for r in rows
    ]
    return Progress(
        id=row["id"],
        name=row["name"],
        scope=await _scope(row),
        older_than_months=row["older_than_months"],
        created_by_name=row["created_by_name"],
        created_at=row["created_at"],
        closes_at=row["closes_at"],
        status=row["status"],
        counts=_counts(targets),
        targets=targets,
        ended=row["closes_at"] is not None and _now() >= row["closes_at"],
        lost=await lost_contacts([t.structure_id for t in targets]),
    )


async def list_campaigns() -> list[Progress]:
    rows = await Campaign.select(Campaign.id).order_by(Campaign.created_at, ascending=False)
    return [await progress(row["id"]) for row in rows]


async def remind(campaign_id: UUID, now: datetime | None = None) -> int:
    """Reminds who has not answered; returns how many reminders were written."""
    now = now or _now()
    campaign = await campaign_row(campaign_id)
    if campaign["status"] != "open":
        raise Conflict("Cette campagne est close : elle ne relance plus personne.")
    if campaign["closes_at"] is not None and now >= campaign["closes_at"]:
        raise Conflict("Cette campagne est arrivée à son terme : ses liens ont expiré.")
    await _sync_bounces(campaign_id)
    due = await CampaignTarget.select(
        *CampaignTarget.all_columns(),
        CampaignTarget.structure.name.as_alias("name"),
        CampaignTarget.structure.status.as_alias("structure_status"),
    ).where(
        (CampaignTarget.campaign == campaign_id)
        & (CampaignTarget.outcome == "")
        & (CampaignTarget.email != "")
        & (CampaignTarget.bounced == False)  # noqa: E712
        & (CampaignTarget.reminder_count < MAX_REMINDERS)
    )
    written = 0
    for target in due:
        last = target["reminded_at"] or target["sent_at"]
        if target["structure_status"] != "active" or (last and now - last < REMIND_AFTER):
            continue
        try:
            written += await _remind_one(campaign, target, now)
        except _AlreadySent:
            continue
    outbox.wake()
    return written


async def _remind_one(campaign: dict[str, Any], target: dict[str, Any], now: datetime) -> int:
    number = target["reminder_count"] + 1
    candidate = Candidate(target["structure"], target["name"], target["email"], "", None)
    async with writing():
        link_id, written = await mail(campaign, candidate, number, now)
        if not written:  # this reminder already went: nothing more, not even the link
            raise _AlreadySent()
        await CampaignTarget.update(
            {
                CampaignTarget.link: link_id,
                CampaignTarget.reminder_count: number,
                CampaignTarget.reminded_at: now,
            }
        ).where(CampaignTarget.id == target["id"])
    return 1


class _AlreadySent(Exception):
    pass


async def close(campaign_id: UUID, now: datetime | None = None) -> int:
    """Closes the campaign and revokes its links; returns how many links were revoked.
    Closing a closed campaign changes nothing."""
    now = now or _now()
    await campaign_row(campaign_id)
    async with writing():
        open_links = EntryLink.revoked_at.is_null() & (EntryLink.campaign == campaign_id)
        count = await EntryLink.count().where(open_links)
        await EntryLink.update({EntryLink.revoked_at: now}).where(open_links)
        await Campaign.update({Campaign.status: "closed", Campaign.closed_at: now}).where(
            (Campaign.id == campaign_id) & (Campaign.status == "open")
        )
    return count


async def helpline_for(campaign_id: UUID | None) -> dict[str, str] | None:
    """Who the partner may call, shown on its entry page when a campaign sent the link."""
    if campaign_id is None:
        return None
    row = await Campaign.select().where(Campaign.id == campaign_id).first()
    if row is None:
        return None
    found = await helpline(row)
    return {
        "name": found["helpline_name"],
        "phone": found["helpline_phone"],
        "email": found["helpline_email"],
    }
