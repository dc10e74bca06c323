"""`maillage remind`: reminders before and at each deadline, overdue notices to the
referent advisor and the coordinators, and expiry of referrals left unanswered long after
their deadline. Idempotent: every message has a unique key in the outbox (service/outbox.py),
so a second run the same day writes nothing again. The messages are delivered by the mail
worker, or by `maillage send-mail`."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from directory.errors import Conflict
from directory.hours import LOCAL_TIME
from directory.store import writing
from service import outbox
from service.accounts.tables import User
from service.referrals import appointments, exchange
from service.referrals.calendar import subtract_working_days
from service.referrals.exchange import Rules, Who, _new_link
from service.referrals.machine import Party, Status, Transition
from service.referrals.schemas import Action
from service.referrals.tables import Referral


@dataclass
class RemindReport:
    reminders: int = 0
    overdue_notices: int = 0
    expired: int = 0
    conventions_expiring: int = 0
    referents_left: int = 0
    appointment_reminders: int = 0
    appointment_questions: int = 0

    def describe(self) -> str:
        return (
            f"{self.reminders} relance(s) aux partenaires, {self.overdue_notices} avis de retard "
            f"aux conseillers et coordinateurs, {self.expired} orientation(s) expirée(s), "
            f"{self.conventions_expiring} avis de fin de convention, "
            f"{self.referents_left} avis de départ de référent·e, "
            f"{self.appointment_reminders} rappel(s) de rendez-vous aux jeunes, "
            f"{self.appointment_questions} question(s) « le jeune est-il venu ? » aux partenaires."
        )


def _stage(row: dict[str, Any]) -> tuple[str, datetime | None]:
    """Which deadline runs now: acknowledging a sent referral, or answering one received."""
    if row["status"] == Status.SENT.value:
        return "acknowledge", row["acknowledge_due"]
    return "answer", row["answer_due"]


async def run_reminders(
    rules: Rules,
    expire_after_days: int = 30,
    now: datetime | None = None,
) -> RemindReport:
    now = now or datetime.now(UTC)
    report = RemindReport()
    waiting = await Referral.select().where(
        Referral.status.is_in([Status.SENT.value, Status.RECEIVED.value])
    )
    for row in waiting:
        stage, due = _stage(row)
        if due is None:
            continue
        if now > row["answer_due"] + timedelta(days=expire_after_days):
            await _expire(row, rules, now)
            report.expired += 1
            continue
        day = due.date().isoformat()
        if now >= due:
            report.reminders += await _remind_partner(row, "at", stage, day, rules, now)
            report.overdue_notices += await _tell_overdue(row, stage, day, now)
        elif now >= subtract_working_days(due, 1):  # the working day before
            report.reminders += await _remind_partner(row, "before", stage, day, rules, now)
    report.appointment_reminders, report.appointment_questions = await appointments.remind(
        rules, now
    )
    from service.convention_watch import watch_conventions

    report.conventions_expiring, report.referents_left = await watch_conventions(
        now.astimezone(LOCAL_TIME).date(), now
    )
    outbox.wake()
    return report


async def _remind_partner(
    row: dict[str, Any], when: str, stage: str, day: str, rules: Rules, now: datetime
) -> int:
    key = f"{row['id']}:remind:{stage}:{when}:{day}"
    if await outbox.exists(key):
        return 0
    async with writing():
        # The partner's earlier link may be lost or close to expiry: each reminder carries
        # a fresh one, alongside the old ones until they expire; both commit together.
        token = await _new_link(row["id"], Party.PARTNER, rules.partner_link_days, now)
        written = await outbox.enqueue(
            key,
            f"reminder_{stage}_{when}",
            "referral_reminder",
            audience="partner",
            referral_id=row["id"],
            context={"link": f"/p/{token}", "stage": stage, "when": when},
            now=now,
        )
    return int(written)


async def _tell_overdue(row: dict[str, Any], stage: str, day: str, now: datetime) -> int:
    referent = await exchange.referent_of(row["id"])
    recipients = {referent["email"] if referent else ""}
    coordinators = await User.select(User.email).where(
        (User.structure == row["from_structure"])
        & (User.role == "coordinator")
        & (User.active == True)  # noqa: E712
    )
    recipients.update(c["email"] for c in coordinators)
    count = 0
    for recipient in sorted(r for r in recipients if r):
        async with writing():
            written = await outbox.enqueue(
                f"{row['id']}:overdue:{stage}:{day}:{recipient}",
                f"overdue_{stage}",
                "referral_overdue",
                to=recipient,
                referral_id=row["id"],
                context={"stage": stage, "link": f"/orientations/{row['id']}"},
                now=now,
            )
        count += int(written)
    return count


async def _expire(row: dict[str, Any], rules: Rules, now: datetime) -> None:
    who = Who(Party.SYSTEM, label="Maillage (délai dépassé)")
    # The referent is told through the outbox, in the transition's own transaction.
    with contextlib.suppress(Conflict):  # someone answered meanwhile: nothing to expire
        await exchange.act(
            row["id"],
            Action(transition=Transition.EXPIRE, expected_version=row["version"]),
            who,
            rules,
            now,
        )
