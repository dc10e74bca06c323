"""`maillage purge`: a retention period after a young person's last referral closed, their
personal data is erased. Referrals, their statuses, dates and domains stay for statistics,
with the young person's commune and age range; the trail of events stays, without the
notes that could name someone; the personal links that opened the referrals are deleted."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from directory.store import writing
from service.audit import store as audit
from service.outbox import erase_mail
from service.referrals import appointments
from service.referrals.machine import OPEN
from service.referrals.tables import AccessLink, Referral, ReferralEvent, YoungPerson

ANONYMOUS = "Anonyme"


@dataclass(frozen=True)
class Erasure:
    """One young person whose data goes, and the referrals it is erased from."""

    young_person_id: UUID
    referral_ids: list[UUID]
    last_closed: datetime


@dataclass
class PurgeReport:
    """What a purge erased, or would erase in a dry run: counts and identifiers only, so
    the report itself can be read by a coordinator and kept in a log."""

    now: datetime
    limit: datetime
    dry_run: bool = False
    erasures: list[Erasure] = field(default_factory=list)
    messages: int = 0
    private_notes: int = 0
    event_notes: int = 0
    links: int = 0

    @property
    def anonymised(self) -> int:
        return len(self.erasures)

    @property
    def referrals(self) -> int:
        return sum(len(e.referral_ids) for e in self.erasures)

    def describe(self) -> str:
        verb = "seraient" if self.dry_run else ""
        count = self.anonymised
        lines = [
            f"Purge au {_day(self.now)} : jeunes dont la dernière orientation s'est close "
            f"avant le {_day(self.limit)}.",
        ]
        if self.dry_run:
            lines.append("Simulation : rien n'a été effacé.")
        lines.append(f"{count} jeune(s) {verb + ' ' if verb else ''}anonymisé(s).")
        if count:
            erased = "Seraient effacés" if self.dry_run else "Effacés"
            lines.append(
                f"{erased} : prénom, année de naissance, téléphone, courriel de {count} "
                f"jeune(s) ; {self.messages} message(s) d'orientation ; "
                f"{self.private_notes} message(s) du partenaire au conseiller ; "
                f"{self.event_notes} note(s) d'historique ; {self.links} lien(s) personnel(s)."
            )
            lines.append(
                f"Gardés pour les statistiques : {self.referrals} orientation(s) (états, "
                "dates, domaines), la commune et la tranche d'âge."
            )
            lines.append("Détail (sans donnée personnelle) :")
            lines.extend(
                f"  jeune {e.young_person_id} : {len(e.referral_ids)} orientation(s), "
                f"dernière close le {_day(e.last_closed)}"
                for e in self.erasures
            )
        return "\n".join(lines)


def _day(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y")


def _months_ago(now: datetime, months: int) -> datetime:
    # A month is taken as 30.44 days: retention is about a legal period, not a calendar.
    return now - timedelta(days=round(months * 30.44))


async def due(retention_months: int, now: datetime) -> list[Erasure]:
    """Young people not yet anonymised whose referrals are all closed, the last of them
    longer ago than the retention period."""
    limit = _months_ago(now, retention_months)
    rows = await Referral.select(
        Referral.id, Referral.young_person, Referral.status, Referral.closed_at
    ).where(Referral.young_person.anonymised_at.is_null())
    by_young: dict[UUID, list[dict]] = {}
    for row in rows:
        by_young.setdefault(row["young_person"], []).append(row)
    found = []
    for young_person_id, referrals in by_young.items():
        if any(r["status"] in OPEN or r["closed_at"] is None for r in referrals):
            continue
        last_closed = max(r["closed_at"] for r in referrals)
        if last_closed <= limit:
            ids = [r["id"] for r in referrals]
            found.append(Erasure(young_person_id, ids, last_closed))
    return sorted(found, key=lambda e: e.last_closed)


async def _count(report: PurgeReport) -> None:
    ids = [i for e in report.erasures for i in e.referral_ids]
    if not ids:
        return
    report.messages = await Referral.count().where(
        Referral.id.is_in(ids) & (Referral.message != "")
    )
    report.private_notes = await Referral.count().where(
        Referral.id.is_in(ids) & (Referral.private_note != "")
    )
    report.event_notes = await ReferralEvent.count().where(
        ReferralEvent.referral.is_in(ids) & (ReferralEvent.note != "")
    )
    report.links = await AccessLink.count().where(AccessLink.referral.is_in(ids))


async def _erase(erasure: Erasure, now: datetime) -> None:
    """Everything personal about one young person, in one short transaction."""
    ids = erasure.referral_ids
    async with writing():
        await YoungPerson.update(
            {
                YoungPerson.first_name: ANONYMOUS,
                YoungPerson.birth_year: None,
                YoungPerson.phone: "",
                YoungPerson.email: "",
                YoungPerson.channel: "",
                YoungPerson.anonymised_at: now,
            }
        ).where(YoungPerson.id == erasure.young_person_id)
        await Referral.update({Referral.message: "", Referral.private_note: ""}).where(
            Referral.id.is_in(ids)
        )
        await ReferralEvent.update({ReferralEvent.note: ""}).where(
            ReferralEvent.referral.is_in(ids)
        )
        await AccessLink.delete().where(AccessLink.referral.is_in(ids))
        await appointments.erase(ids)
        await erase_mail(ids, now)
        for referral_id in ids:
            await audit.record(
                audit.Action.CHANGE,
                "referral",
                referral_id,
                actor_kind=audit.ActorKind.SYSTEM,
                actor_label="maillage purge",
                detail="purge",
                at=now,
            )


async def purge(
    retention_months: int = 24, now: datetime | None = None, dry_run: bool = False
) -> PurgeReport:
    """Erase, or with `dry_run` only list, the young people due; `now` is the moment the
    retention period is counted back from."""
    now = now or datetime.now(UTC)
    report = PurgeReport(now, _months_ago(now, retention_months), dry_run)
    report.erasures = await due(retention_months, now)
    await _count(report)
    if not dry_run:
        for erasure in report.erasures:
            await _erase(erasure, now)
    return report
