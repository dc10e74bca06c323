"""Deadlines, reminders, expiry and purge: `maillage remind` and `maillage purge`, with
time moved forward by passing `now` to the same functions the commands run."""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from service.accounts.store import Actor, Role, token_actor
from service.cli import main
from service.mail import OutboxMailer
from service.outbox import Courier
from service.referrals import exchange
from service.referrals.calendar import (
    is_working_day,
    subtract_working_days,
    working_days_between,
)
from service.referrals.exchange import Rules, Who
from service.referrals.machine import Party, Transition
from service.referrals.notify import referral_context
from service.referrals.purge import purge
from service.referrals.reminders import run_reminders
from service.referrals.schemas import Action, ReferralCreate
from service.referrals.tables import Referral, ReferralEvent, YoungPerson
from tests import factories as f

# Reads the clock: .ci/run also runs it at fixed awkward dates.
pytestmark = pytest.mark.dated

RULES = Rules()


class Remind:
    """`maillage remind` at a given moment, then the mail worker at the same moment."""

    def __init__(self, outbox: Path) -> None:
        mailer = OutboxMailer(outbox, "maillage@exemple.fr")
        self.courier = Courier(mailer, "http://maillage.test", referral_context)

    async def __call__(self, rules: Rules, *args, now: datetime):
        report = await run_reminders(rules, *args, now=now)
        await self.courier.deliver_due(now=now)
        return report


async def _setup(outbox: Path) -> tuple[Actor, Remind, exchange.Sent]:
    mission_locale = await f.structure("Mission Locale")
    headers = await f.api_client_headers(Role.ADVISOR, of=mission_locale)
    actor = await token_actor(headers["Authorization"].split()[1])
    await f.user(Role.COORDINATOR, of=mission_locale, email="coordination@exemple.fr")
    partner = await f.structure("Foyer", email="foyer@exemple.fr")
    await f.site(partner, "26362")
    data = msgspec.convert(
        {
            "to_structure_id": str(partner),
            "domain": "housing",
            "young_person": {"first_name": "Sami", "commune": "26362"},
            "consent": {"given": True, "shares": ["message"]},
            "message": "Besoin d'un logement.",
        },
        ReferralCreate,
    )
    sent = await exchange.send(actor, data, RULES)
    return actor, Remind(outbox), sent


def _mails(outbox: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(outbox.glob("*.eml"))
    ]


async def test_partner_is_reminded_before_and_at_the_deadline_once_each(database_url, tmp_path):
    _actor, remind, sent = await _setup(tmp_path)
    row = await Referral.objects().first()
    due = row.acknowledge_due
    # The reminder goes out the working day before: on a Friday for a Monday deadline.
    window = subtract_working_days(due, 1)
    assert is_working_day(window) and working_days_between(window, due) == 1

    quiet = await remind(RULES, now=window - timedelta(minutes=1))
    assert (quiet.reminders, quiet.overdue_notices) == (0, 0)

    before = await remind(RULES, now=due - timedelta(hours=2))
    assert before.reminders == 1
    again = await remind(RULES, now=due - timedelta(hours=1))
    assert again.reminders == 0

    at = await remind(RULES, now=due + timedelta(hours=1))
    assert at.reminders == 1 and at.overdue_notices == 2  # referent and coordinator
    assert (await remind(RULES, now=due + timedelta(hours=3))).reminders == 0

    reminders = [m for m in _mails(tmp_path) if m["To"] == "foyer@exemple.fr"]
    assert [m["Subject"].split(" :")[0] for m in reminders] == [
        "Nouvelle orientation de Mission Locale vers Foyer",
        "Rappel",
        "Aujourd'hui",
    ]
    link = next(
        line
        for line in reminders[-1].get_body(("plain",)).get_content().splitlines()
        if "/p/" in line
    ).strip()
    who, _ = await exchange.who_for_link(link.rsplit("/", 1)[1])
    assert who.party == Party.PARTNER  # the reminder's fresh link works
    overdue = [m for m in _mails(tmp_path) if m["Subject"].startswith("En retard")]
    assert sorted(m["To"] for m in overdue) == sorted(
        ["coordination@exemple.fr", (await exchange.referent_of(sent.referral_id))["email"]]
    )


async def test_referral_expires_long_after_its_deadline(database_url, tmp_path):
    _actor, remind, _sent = await _setup(tmp_path)
    row = await Referral.objects().first()
    still = await remind(RULES, 30, now=row.answer_due + timedelta(days=29))
    assert still.expired == 0
    report = await remind(RULES, 30, now=row.answer_due + timedelta(days=31))
    assert report.expired == 1
    row = await Referral.objects().first()
    assert row.status == "expired" and row.closed_at is not None
    last = await ReferralEvent.objects().order_by(ReferralEvent.at, ascending=False).first()
    assert (last.transition, last.actor_kind) == ("expire", "system")
    again = await remind(RULES, 30, now=row.answer_due + timedelta(days=32))
    assert again.expired == 0
    assert any("expirée" in m["Subject"].lower() for m in _mails(tmp_path))


async def test_hold_pauses_the_deadlines(database_url, tmp_path):
    actor, _remind, sent = await _setup(tmp_path)
    before = await Referral.objects().first()
    advisor = Who(Party.ADVISOR, actor)
    start = before.sent_at + timedelta(hours=1)
    resumed = start + timedelta(days=7)
    await exchange.act(
        sent.referral_id,
        Action(Transition.HOLD, reason="young_person_time"),
        advisor,
        RULES,
        now=start,
    )
    await exchange.act(sent.referral_id, Action(Transition.RESUME), advisor, RULES, now=resumed)
    after = await Referral.objects().first()
    assert after.status == "sent"
    # The week on hold is the young person's own time: the partner has, after resuming,
    # exactly the working time it had left when the referral was put on hold.
    for field in ("acknowledge_due", "answer_due"):
        left_at_hold = working_days_between(start, getattr(before, field))
        left_at_resume = working_days_between(resumed, getattr(after, field))
        assert left_at_resume == pytest.approx(left_at_hold), field
        on_hold = timedelta(days=working_days_between(start, resumed))
        assert getattr(after, field) - getattr(before, field) >= on_hold, field


def test_remind_command_twice_sends_nothing_twice(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MAILLAGE_MAIL_OUTBOX", str(tmp_path))
    asyncio.run(_setup(tmp_path))
    past = datetime.now(UTC) - timedelta(hours=1)
    asyncio.run(
        Referral.update({Referral.acknowledge_due: past}).where(Referral.id.is_not_null()).run()
    )
    runner = CliRunner()
    first = runner.invoke(main, ["--database-url", database_url, "remind"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("1 relance(s)")
    count = len(list(tmp_path.glob("*.eml")))
    second = runner.invoke(main, ["--database-url", database_url, "remind"])
    assert second.output.startswith("0 relance(s)") and "0 avis de retard" in second.output
    assert len(list(tmp_path.glob("*.eml"))) == count


async def test_purge_anonymises_after_the_retention_period_only(database_url, tmp_path):
    actor, _remind, sent = await _setup(tmp_path)
    advisor = Who(Party.ADVISOR, actor)
    await exchange.act(
        sent.referral_id,
        Action(Transition.CANCEL, reason="other", note="Sami a déménagé"),
        advisor,
        RULES,
    )
    closed = (await Referral.objects().first()).closed_at
    early = await purge(24, now=closed + timedelta(days=700))
    assert early.anonymised == 0
    late = await purge(24, now=closed + timedelta(days=740))
    assert late.anonymised == 1
    young = await YoungPerson.objects().first()
    assert young.first_name == "Anonyme" and young.anonymised_at is not None
    assert young.commune == "26362"  # kept for statistics
    row = await Referral.objects().first()
    assert (row.status, row.message, row.domain) == ("cancelled", "", "housing")
    events = await ReferralEvent.objects()
    assert [e.transition for e in events] == ["send", "cancel"]  # the trail survives
    assert all("Sami" not in e.note for e in events)
    assert (await purge(24, now=closed + timedelta(days=800))).anonymised == 0


async def test_purge_leaves_young_people_with_an_open_referral(database_url, tmp_path):
    await _setup(tmp_path)
    report = await purge(0, now=datetime.now(UTC) + timedelta(days=3000))
    assert report.anonymised == 0


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_purge_command(database_url):
    result = CliRunner().invoke(main, ["--database-url", database_url, "purge"])
    assert result.exit_code == 0 and "anonymisé" in result.output


async def test_reminders_can_run_inside_the_server(settings, tmp_path):
    from dataclasses import replace

    from litestar.testing import AsyncTestClient

    from service.app import create_app

    await _setup(tmp_path / "setup")
    await Referral.update({Referral.acknowledge_due: datetime.now(UTC) - timedelta(hours=1)}).where(
        Referral.id.is_not_null()
    )
    outbox = tmp_path / "server"
    app = create_app(replace(settings, mail_outbox=outbox, remind_every_minutes=60))
    async with AsyncTestClient(app, base_url="http://127.0.0.1"):
        for _ in range(200):
            subjects = [m["Subject"] for m in _mails(outbox)]
            if any(s.startswith("Aujourd'hui") for s in subjects):
                break
            await asyncio.sleep(0.05)
    assert any(s.startswith("Aujourd'hui") for s in subjects), subjects
