"""`maillage purge`: a retention period after a young person's last referral closed, their
personal data is anonymised. Referrals, their statuses and dates stay for statistics; the
audit trail stays, without the notes that could name someone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from directory.store import writing
from service.outbox import erase_mail
from service.referrals.machine import OPEN
from service.referrals.tables import Referral, ReferralEvent, YoungPerson

ANONYMOUS = "Anonyme"


@dataclass
class PurgeReport:
    anonymised: int

    def describe(self) -> str:
        return f"{self.anonymised} jeune(s) anonymisé(s)."


def _months_ago(now: datetime, months: int) -> datetime:
    # A month is taken as 30.44 days: retention is about a legal period, not a calendar.
    return now - timedelta(days=round(months * 30.44))


async def purge(retention_months: int = 24, now: datetime | None = None) -> PurgeReport:
    now = now or datetime.now(UTC)
    limit = _months_ago(now, retention_months)
    candidates = await YoungPerson.select(YoungPerson.id).where(YoungPerson.anonymised_at.is_null())
    count = 0
    for young in candidates:
        referrals = await Referral.select(Referral.id, Referral.status, Referral.closed_at).where(
            Referral.young_person == young["id"]
        )
        if not referrals or any(r["status"] in OPEN for r in referrals):
            continue
        last_closed = max(r["closed_at"] for r in referrals if r["closed_at"] is not None)
        if last_closed > limit:
            continue
        ids = [r["id"] for r in referrals]
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
            ).where(YoungPerson.id == young["id"])
            await Referral.update({Referral.message: "", Referral.private_note: ""}).where(
                Referral.id.is_in(ids)
            )
            await ReferralEvent.update({ReferralEvent.note: ""}).where(
                ReferralEvent.referral.is_in(ids)
            )
            await erase_mail(ids, now)
        count += 1
    return PurgeReport(count)
