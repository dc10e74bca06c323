"""The mail outbox: a referral's emails commit with it and leave afterwards, through a real
SMTP server on 127.0.0.1; retries with backoff, each message once, the worker inside the
server, `maillage send-mail`, and retry keys that never make a second referral."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import msgspec
import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from service.accounts.store import Role, token_actor
from service.app import create_app
from service.cli import main
from service.outbox import courier_from_settings
from service.referrals import exchange
from service.referrals.idempotency import Once
from service.referrals.purge import purge
from service.referrals.schemas import ReferralCreate
from service.referrals.tables import IdempotencyKey, OutboxMessage, Referral
from service.settings import ROOT
from tests import factories as f
from tests.live import running_server
from tests.outbox import mail_settled

VALENCE = "26362"


class Territory:
    """A Mission Locale with an advisor, and a partner whose contact gets the emails."""

    async def build(self) -> Territory:
        self.mission_locale = await f.structure("Mission Locale Valence")
        self.advisor = await f.api_client_headers(Role.ADVISOR, of=self.mission_locale)
        self.partner = await f.structure("Foyer Jeunes Travailleurs", email="fjt@exemple.fr")
        await f.site(self.partner, VALENCE)
        self.contact = await f.person(self.partner, "Léna", "Faure", email="lena@fjt.exemple.fr")
        self.service = await f.service(self.partner, "Logement", contact_id=self.contact)
        return self


@pytest.fixture
async def t(database_url) -> Territory:
    return await Territory().build()


def _body(t: Territory, first_name: str = "Yanis", **young) -> dict:
    return {
        "to_structure_id": str(t.partner),
        "to_service_id": str(t.service),
        "domain": "housing",
        "message": "Hébergé chez un ami jusqu'à la fin du mois.",
        "young_person": {"first_name": first_name, "commune": VALENCE, **young},
        "consent": {"given": True, "shares": ["message"]},
    }


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, mail_outbox=tmp_path / "outbox", base_url="http://maillage.test")


@pytest.fixture
def smtp_settings(settings, threaded_smtp_server, tmp_path):
    """The app sending through the real SMTP server, its worker off: mail waits in the
    outbox until a courier runs, as after a crash."""
    return replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=threaded_smtp_server.port,
        smtp_starttls=False,
        mail_worker=False,
        mail_outbox=tmp_path / "never-written",
    )


@pytest.fixture
async def quiet_client(smtp_settings):
    async with AsyncTestClient(create_app(smtp_settings), base_url="http://127.0.0.1") as client:
        yield client


async def _send(client, t: Territory, headers: dict | None = None, **body) -> httpx.Response:
    return await client.post(
        "/api/v1/referrals", json=body or _body(t), headers={**t.advisor, **(headers or {})}
    )


def _pending() -> list[dict]:
    return OutboxMessage.select().where(
        OutboxMessage.sent_at.is_null() & OutboxMessage.given_up_at.is_null()
    )


def _our_log(caplog: pytest.LogCaptureFixture) -> str:
    """What Maillage logged (the test SMTP server logs every address it sees)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("service"))


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


# ---- a committed change always has its message ---------------------------------------------


async def test_a_referral_committed_without_sending_is_mailed_by_send_mail_later(
    quiet_client, t, smtp_settings, threaded_smtp_server, monkeypatch
):
    response = await _send(quiet_client, t, **_body(t, email="yanis@exemple.fr", channel="email"))
    assert response.status_code == 201, response.text
    sent = response.json()
    # The process "dies" here: the referral is committed, nothing was sent yet...
    assert threaded_smtp_server.inbox.envelopes == []
    assert sorted(m["kind"] for m in await _pending()) == ["new_referral", "young_person_link"]

    # ...and the cron job delivers what the lost process could not.
    monkeypatch.setenv("MAILLAGE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MAILLAGE_SMTP_PORT", str(threaded_smtp_server.port))
    monkeypatch.setenv("MAILLAGE_SMTP_STARTTLS", "false")
    monkeypatch.setenv("MAILLAGE_BASE_URL", "http://maillage.test")
    result = await asyncio.to_thread(
        CliRunner().invoke, main, ["--database-url", smtp_settings.database_url, "send-mail"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 courriel(s) envoyé(s)")
    to_partner, to_young = sorted(threaded_smtp_server.inbox.messages(), key=lambda m: m["To"])
    assert to_partner["To"] == "lena@fjt.exemple.fr"
    assert sent["partner_link"] in _text(to_partner)
    assert to_young["To"] == "yanis@exemple.fr" and sent["young_person_link"] in _text(to_young)
    assert await _pending() == []
    # Delivered: what the message said (its personal link) is no longer stored.
    assert {m["context"] for m in await OutboxMessage.select(OutboxMessage.context)} == {""}

    again = await asyncio.to_thread(
        CliRunner().invoke, main, ["--database-url", smtp_settings.database_url, "send-mail"]
    )
    assert again.output.startswith("0 courriel(s) envoyé(s)")
    assert len(threaded_smtp_server.inbox.envelopes) == 2


async def test_transitions_write_their_message_with_them(quiet_client, t):
    sent = (await _send(quiet_client, t)).json()
    token = sent["partner_link"].rsplit("/", 1)[1]
    accepted = await quiet_client.post(
        f"/api/v1/links/{token}/actions", json={"transition": "accept"}
    )
    assert accepted.status_code == 201
    kinds = sorted(m["kind"] for m in await _pending())
    assert kinds == ["new_referral", "update_accept"]
    # A refused transition changes nothing, and so announces nothing.
    refused = await quiet_client.post(
        f"/api/v1/links/{token}/actions", json={"transition": "acknowledge"}
    )
    assert refused.status_code == 409
    assert sorted(m["kind"] for m in await _pending()) == kinds


async def test_a_change_that_fails_in_its_transaction_leaves_no_message(t):
    """The messages are written before the last step of sending; that step failing (here,
    the retry key recorded by a request that won) takes the referral and its messages
    back with it."""
    actor = await token_actor(t.advisor["Authorization"].split()[1])
    data = msgspec.convert(_body(t, email="yanis@exemple.fr", channel="email"), ReferralCreate)
    once = Once.of(actor.user_id, "api", "cle-de-reessai-0001", msgspec.json.encode(data))
    await exchange.send(actor, data, exchange.Rules(), once=once)
    assert await Referral.count() == 1 and await OutboxMessage.count() == 2

    with pytest.raises((sqlite3.IntegrityError, asyncpg.UniqueViolationError)):
        await exchange.send(actor, data, exchange.Rules(), once=once)
    assert await Referral.count() == 1
    assert await OutboxMessage.count() == 2


# ---- delivery: retries with backoff, exactly once ---------------------------------------


async def test_delivery_is_retried_with_backoff_until_the_server_accepts(
    quiet_client, t, smtp_settings, threaded_smtp_server, caplog
):
    inbox = threaded_smtp_server.inbox
    assert (await _send(quiet_client, t)).status_code == 201
    courier = courier_from_settings(smtp_settings)
    start = datetime.now(UTC)
    inbox.busy = 2  # "451 try again later", twice

    first = await courier.deliver_due(now=start)
    assert (first.sent, first.retried) == (0, 1)
    [row] = await OutboxMessage.select()
    assert row["attempts"] == 1 and row["next_attempt_at"] == start + timedelta(minutes=1)
    assert "451" in row["last_error"] and "lena@" not in row["last_error"]

    early = await courier.deliver_due(now=start + timedelta(seconds=59))
    assert (early.sent, early.retried, inbox.attempts) == (0, 0, 1)  # not tried before its time

    second = await courier.deliver_due(now=start + timedelta(minutes=1))
    assert second.retried == 1 and inbox.attempts == 2
    [row] = await OutboxMessage.select()
    assert row["next_attempt_at"] == start + timedelta(minutes=3)  # the wait doubled
    assert (await courier.deliver_due(now=start + timedelta(minutes=2, seconds=59))).sent == 0

    third = await courier.deliver_due(now=start + timedelta(minutes=3))
    assert third.sent == 1 and len(inbox.envelopes) == 1
    assert inbox.messages()[0]["To"] == "lena@fjt.exemple.fr"
    assert (await courier.deliver_due(now=start + timedelta(days=1))).sent == 0
    assert len(inbox.envelopes) == 1
    # Maillage's log says which message failed, never to whom.
    assert "lena@fjt.exemple.fr" not in _our_log(caplog) and "451" in _our_log(caplog)


async def test_a_permanent_refusal_is_given_up_at_once(
    quiet_client, t, smtp_settings, threaded_smtp_server, caplog
):
    threaded_smtp_server.inbox.refused.add("lena@fjt.exemple.fr")
    await _send(quiet_client, t)
    courier = courier_from_settings(smtp_settings)
    with caplog.at_level(logging.ERROR, logger="service.outbox"):
        report = await courier.deliver_due()
    assert report.given_up == 1
    [row] = await OutboxMessage.select()
    assert row["given_up_at"] is not None and "550" in row["last_error"]
    assert (await courier.deliver_due(now=datetime.now(UTC) + timedelta(days=3))).given_up == 0
    assert threaded_smtp_server.inbox.attempts == 1
    assert "given up" in _our_log(caplog) and "lena@fjt.exemple.fr" not in _our_log(caplog)


def _send_mail_process(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MAILLAGE_SMTP_HOST": "127.0.0.1",
        "MAILLAGE_SMTP_PORT": str(port),
        "MAILLAGE_SMTP_STARTTLS": "false",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "service.cli", "--database-url", database_url, "send-mail"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def test_two_workers_at_once_send_each_message_exactly_once(
    quiet_client, t, smtp_settings, threaded_smtp_server
):
    for number in range(20):
        response = await _send(quiet_client, t, **_body(t, first_name=f"Jeune {number}"))
        assert response.status_code == 201
    assert len(await _pending()) == 20

    # Two real `maillage send-mail` processes, started together on the same outbox.
    workers = [
        _send_mail_process(smtp_settings.database_url, threaded_smtp_server.port) for _ in "ab"
    ]
    outputs = []
    for worker in workers:
        out, _ = await asyncio.to_thread(worker.communicate, timeout=120)
        assert worker.returncode == 0, out.decode()
        outputs.append(out.decode())
    sent_by = [int(re.search(r"(\d+) courriel\(s\) envoyé", out)[1]) for out in outputs]
    assert sum(sent_by) == 20, outputs
    messages = threaded_smtp_server.inbox.messages()
    assert len(messages) == 20
    assert len({m["Message-ID"] for m in messages}) == 20
    first_names = sorted(_text(m).split("un jeune, ")[1].split(",")[0] for m in messages)
    assert first_names == sorted(f"Jeune {n}" for n in range(20))
    assert await _pending() == []


async def test_a_round_that_outlives_half_its_lease_hands_the_rest_back(
    quiet_client, t, smtp_settings, threaded_smtp_server
):
    for number in range(3):
        response = await _send(quiet_client, t, **_body(t, first_name=f"Jeune {number}"))
        assert response.status_code == 201
    # A lease of nothing has run out before the first message: the whole round goes back.
    hasty = replace(courier_from_settings(smtp_settings), lease=timedelta(0))
    report = await hasty.deliver_due()
    assert (report.sent, report.retried, report.given_up) == (0, 0, 0)
    waiting = await _pending()
    assert len(waiting) == 3
    assert all(m["claimed_until"] is None and m["attempts"] == 0 for m in waiting)

    assert (await courier_from_settings(smtp_settings).deliver_due()).sent == 3
    assert len(threaded_smtp_server.inbox.messages()) == 3


# ---- the worker inside the server ----------------------------------------------------------


def test_the_server_delivers_by_itself(database_url, threaded_smtp_server, monkeypatch):
    async def territory() -> Territory:
        return await Territory().build()

    t = asyncio.run(territory())
    for name, value in {
        "MAILLAGE_SMTP_HOST": "127.0.0.1",
        "MAILLAGE_SMTP_PORT": str(threaded_smtp_server.port),
        "MAILLAGE_SMTP_STARTTLS": "false",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("MAILLAGE_MAIL_WORKER", raising=False)
    with running_server(database_url) as base:
        response = httpx.post(f"{base}/api/v1/referrals", json=_body(t), headers=t.advisor)
        assert response.status_code == 201, response.text
        inbox = threaded_smtp_server.inbox
        for _ in range(200):  # at most 10 s
            if inbox.envelopes:
                break
            time.sleep(0.05)
        [message] = inbox.messages()
    assert message["To"] == "lena@fjt.exemple.fr"
    assert response.json()["partner_link"] in _text(message)


# ---- retry keys ----------------------------------------------------------------------------


async def test_same_idempotency_key_and_body_gives_back_the_first_referral(quiet_client, t):
    key = {"Idempotency-Key": "5f0d3c1e-8a7b-4c2d-9e6f-1a2b3c4d5e6f"}
    first = await _send(quiet_client, t, key)
    again = await _send(quiet_client, t, key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()  # same referral, same personal links
    assert await Referral.count() == 1
    assert len(await _pending()) == 1
    # The links the retry gave back open the referral.
    token = again.json()["partner_link"].rsplit("/", 1)[1]
    assert (await quiet_client.get(f"/api/v1/links/{token}")).status_code == 200
    # Nothing in the database opens them without the key.
    [stored] = await IdempotencyKey.select()
    assert token not in str(stored) and key["Idempotency-Key"] not in str(stored)

    other = await _send(quiet_client, t, {"Idempotency-Key": "another-key-0000-0001"})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


async def test_same_idempotency_key_with_another_body_is_refused(quiet_client, t):
    key = {"Idempotency-Key": "5f0d3c1e-8a7b-4c2d-9e6f-1a2b3c4d5e6f"}
    assert (await _send(quiet_client, t, key)).status_code == 201
    changed = await _send(quiet_client, t, key, **_body(t, first_name="Inès"))
    assert changed.status_code == 409
    assert "a déjà servi pour une orientation différente" in changed.json()["detail"]
    assert await Referral.count() == 1

    short = await _send(quiet_client, t, {"Idempotency-Key": "abc"})
    assert short.status_code == 400
    assert "16 à 200 caractères" in short.json()["errors"]["idempotency_key"]


async def test_retries_racing_with_one_key_make_one_referral(quiet_client, t):
    key = {"Idempotency-Key": "course-0123456789-abcdef"}
    responses = await asyncio.gather(*(_send(quiet_client, t, key) for _ in range(5)))
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await Referral.count() == 1
    assert len(await _pending()) == 1


async def test_a_double_submitted_form_sends_once_and_shows_the_referral(client, t):
    await f.logged_in(client, Role.ADVISOR, of=t.mission_locale)
    url = f"/orientations/nouvelle?structure={t.partner}"
    page = await client.get(url)
    once = page.text.split('name="_once" value="')[1].split('"')[0]
    form = {
        "domain": "housing",
        "first_name": "Inès",
        "commune": "Valence (26)",
        "phone": "06 12 34 56 78",
        "channel": "sms",
        "consent": "on",
        "_once": once,
        "_csrf_token": f.csrf_token(page.text),
    }
    first = await client.post(url, data=form, follow_redirects=False)
    second = await client.post(url, data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    [row] = await Referral.select(Referral.id)
    assert first.headers["location"].startswith(f"/orientations/{row['id']}?")

    shown = await client.get(second.headers["location"])
    assert shown.status_code == 200 and "Orientation envoyée à Foyer" in shown.text
    assert 'id="partner-link">http://maillage.test/p/' in shown.text
    assert 'id="young-link">http://maillage.test/j/' in shown.text
    # A new form is a new key: a second young person is a second referral.
    fresh = await client.get(url)
    assert fresh.text.split('name="_once" value="')[1].split('"')[0] != once


# ---- purge erases the mail -----------------------------------------------------------------


async def test_purge_leaves_no_personal_data_in_stored_mail(t, settings, caplog):
    caplog.set_level(logging.DEBUG)
    outbox = settings.mail_outbox
    app = create_app(settings)
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as server:
        body = _body(t, first_name="Sidonie", email="sidonie.k@exemple.fr", channel="email")
        sent = (await _send(server, t, **body)).json()
        await mail_settled()
        cancelled = await server.post(
            f"/api/v1/referrals/{sent['id']}/actions",
            json={"transition": "cancel", "reason": "other", "note": "Sidonie a déménagé"},
            headers=t.advisor,
        )
        assert cancelled.status_code == 201, cancelled.text
        await mail_settled()
    files = list(outbox.glob("*.eml"))
    assert len(files) == 2
    assert any("Sidonie" in p.read_text() for p in files)
    assert "sidonie.k@exemple.fr" in {m["recipient"] for m in await OutboxMessage.select()}

    closed = (await Referral.select(Referral.closed_at).first())["closed_at"]
    report = await purge(24, now=closed + timedelta(days=800))
    assert report.anonymised == 1
    assert list(outbox.glob("*.eml")) == []
    for message in await OutboxMessage.select():
        assert (message["recipient"], message["context"], message["file"]) == ("", "", "")
        assert "Sidonie" not in str(message) and "sidonie" not in str(message)
    assert "sidonie" not in _our_log(caplog).lower()
