"""The mail outbox: a message is written into the database in the same transaction as the
change it announces, and delivered afterwards by a worker, so that a committed change
always has its message, even if the process dies before sending it.

- `enqueue` writes a message; call it inside the change's transaction. A message's key is
  unique: enqueueing the same key twice writes it once (reminders rely on it).
- `Courier.deliver_due` sends what is due: it claims a round of messages for a while (a
  lease), so that two workers at once never both send one, then records the delivery, or the
  failure and when to try again (exponential backoff). A permanent refusal, or too many
  failures, gives up and says so in the log.
- `MailWorker` runs a courier inside the server; `maillage send-mail` runs one from cron.
- `erase_mail` forgets what the mail of given referrals said and to whom, and deletes
  their .eml files: `maillage purge` calls it.

Once delivered, a message's body (which may carry a personal link) is erased from the
database. Between an SMTP server's acceptance and the database recording it there is a
window of milliseconds in which a crash makes the message go again once its lease ends;
its Message-ID stays the same, so mail clients show it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from piccolo.columns.combination import Combinable
from piccolo.engine.sqlite import SQLiteEngine

from directory.raw import fetch
from directory.store import writing
from service.i18n import jinja_context
from service.mail import Email, Mailer, MailError, TemplatedMail, mailer_from_settings
from service.referrals.tables import OutboxMessage

if TYPE_CHECKING:
    from service.settings import Settings

log = logging.getLogger(__name__)

# Far longer than one SMTP exchange (10 s timeout), short enough that a message held by a
# killed worker goes again within a minute or so.
LEASE = timedelta(minutes=1)
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=6)
# 1, 2, 4 … minutes, then every 6 hours: about two days of trying in all.
MAX_ATTEMPTS = 16
ROUND = 200  # messages a worker takes on between two looks at the clock

ContextSource = Callable[[UUID], Awaitable[dict[str, Any]]]


def _now() -> datetime:
    return datetime.now(UTC)


# ---- Writing -----------------------------------------------------------------------------


async def enqueue(
    key: str,
    kind: str,
    template: str,
    *,
    to: str = "",
    audience: str = "",
    referral_id: UUID | None = None,
    context: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """Write one message, to `to` or to the referral's `audience` (partner, referent,
    young_person) as known at delivery. Returns False when its key was already written."""
    if not to and not audience:
        raise ValueError("a message needs a recipient or an audience")
    now = now or _now()
    inserted = await fetch(
        OutboxMessage,
        _ENQUEUE_SQL,
        uuid4(),
        key,
        referral_id,
        kind,
        to,
        audience,
        template,
        json.dumps(context or {}, ensure_ascii=False),
        now,
        now,
    )
    return bool(inserted)


# Written once: Piccolo's insert rebuilt it from the row's columns for every message.
_ENQUEUE_COLUMNS = [
    "id",
    "key",
    "referral",
    "kind",
    "recipient",
    "audience",
    "template",
    "context",
    "created_at",
    "next_attempt_at",
    "attempts",
    "claimed_until",
    "last_error",
    "file",
    "sent_at",
    "given_up_at",
]
# Every column, so that a new one cannot be forgotten here.
assert set(_ENQUEUE_COLUMNS) == {c._meta.db_column_name for c in OutboxMessage.all_columns()}
_QUOTED = ", ".join(f'"{name}"' for name in _ENQUEUE_COLUMNS)
_ENQUEUE_SQL = (
    f"INSERT INTO mail_outbox ({_QUOTED}) "
    "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 0, NULL, '', '', NULL, NULL) "
    'ON CONFLICT ("key") DO NOTHING RETURNING id'
)


async def exists(key: str) -> bool:
    return await OutboxMessage.exists().where(OutboxMessage.key == key)


# The workers of this process, woken when a change with mail has committed. Their event
# loops may differ from the caller's (a test client runs the app in a thread of its own).
_sleepers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
_sleepers_lock = threading.Lock()


def wake() -> None:
    """Tell this process's workers that a message is waiting: call it after the commit."""
    with _sleepers_lock:
        sleepers = list(_sleepers)
    for loop, event in sleepers:
        with contextlib.suppress(RuntimeError):  # that loop has just closed
            loop.call_soon_threadsafe(event.set)


# ---- Delivering --------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    given_up: int = 0

    def describe(self) -> str:
        return (
            f"{self.sent} courriel(s) envoyé(s), {self.retried} à réessayer plus tard, "
            f"{self.given_up} abandonné(s)."
        )


def backoff(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_WAIT)


_pending = OutboxMessage.sent_at.is_null() & OutboxMessage.given_up_at.is_null()


def _claimable(now: datetime) -> Combinable:
    """Waiting, due, and held by no worker's lease."""
    return (
        _pending
        & (OutboxMessage.next_attempt_at <= now)
        & (OutboxMessage.claimed_until.is_null() | (OutboxMessage.claimed_until < now))
    )


def _on_sqlite() -> bool:
    return isinstance(OutboxMessage._meta.db, SQLiteEngine)


async def _write(query: Any) -> Any:
    """One write statement. On PostgreSQL a single statement is its own transaction, so it
    goes alone (BEGIN and COMMIT would be two more round trips per message); on SQLite it
    queues behind this process's other writers."""
    if _on_sqlite():
        async with writing():
            return await query
    return await query


@dataclass
class Courier:
    """Delivers the outbox through a mailer. `context_for` gives what the templates may
    show about a referral, read at delivery time."""

    mailer: Mailer
    base_url: str
    context_for: ContextSource | None = None
    lease: timedelta = LEASE
    templates: TemplatedMail = field(default_factory=TemplatedMail)

    async def deliver_due(self, now: datetime | None = None, limit: int = ROUND) -> DeliveryReport:
        now = now or _now()
        report = DeliveryReport()
        claimed = await self._claim_due(now, limit)
        started = time.monotonic()
        for done, row in enumerate(claimed):
            # The round holds its messages for one lease: when a slow mail server has used
            # half of it, hand the rest back rather than let another worker send them too.
            if time.monotonic() - started >= self.lease.total_seconds() / 2:
                await self._release(claimed[done:])
                break
            await self._deliver(row, now, report)
        return report

    async def _release(self, rows: list[dict[str, Any]]) -> None:
        """Give claimed messages back, undelivered and as if never attempted."""
        await _write(
            OutboxMessage.update(
                {
                    OutboxMessage.claimed_until: None,
                    OutboxMessage.attempts: OutboxMessage.attempts - 1,
                }
            ).where(OutboxMessage.id.is_in([row["id"] for row in rows]))
        )

    async def _claim_due(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        """Take up to `limit` due messages for the lease in one statement. On PostgreSQL the
        inner select skips rows that another worker is claiming (SKIP LOCKED): two server
        processes split the due messages instead of both trying each one in turn."""
        due = (
            OutboxMessage.select(OutboxMessage.id)
            .where(_claimable(now))
            .order_by(OutboxMessage.next_attempt_at)
            .limit(limit)
        )
        if not _on_sqlite():  # SQLite has one writer at a time and no row locks
            due = due.lock_rows(skip_locked=True)
        claim = (
            OutboxMessage.update(
                {
                    OutboxMessage.claimed_until: now + self.lease,
                    OutboxMessage.attempts: OutboxMessage.attempts + 1,
                }
            )
            .where(OutboxMessage.id.is_in(due) & _claimable(now))
            .returning(*OutboxMessage.all_columns())
        )
        rows: list[dict[str, Any]] = await _write(claim)
        return sorted(rows, key=lambda row: row["next_attempt_at"])

    async def _deliver(self, row: dict[str, Any], now: datetime, report: DeliveryReport) -> None:
        try:
            email = await self.compose(row)
        except Exception as error:  # a template or data mistake: said, retried, given up
            log.exception("mail %s (%s) could not be composed", row["id"], row["kind"])
            await self._failed(row, now, f"could not compose: {error!r}", False, report)
            return
        if email is None:
            await self._give_up(row, now, "no e-mail address to send to")
            report.given_up += 1
            return
        try:
            where = await self.mailer.send(email)
        except MailError as error:
            # The error names the recipient: keep it out of the log and of the table.
            reason = str(error).replace(email.to, "<recipient>")
            await self._failed(row, now, reason, error.permanent, report)
            return
        await self._done(row, now, email.to, str(where or ""))
        report.sent += 1

    async def _failed(
        self,
        row: dict[str, Any],
        now: datetime,
        reason: str,
        permanent: bool,
        report: DeliveryReport,
    ) -> None:
        if permanent or row["attempts"] >= MAX_ATTEMPTS:
            await self._give_up(row, now, reason)
            report.given_up += 1
        else:
            await self._retry(row, now, reason)
            report.retried += 1

    async def compose(self, row: dict[str, Any]) -> Email | None:
        """The message as it reads now; None when there is nobody to send it to."""
        context: dict[str, Any] = {}
        if row["referral"] is not None and self.context_for is not None:
            context = await self.context_for(row["referral"])
        context.update(json.loads(row["context"] or "{}"))
        if str(context.get("link", "")).startswith("/"):
            context["link"] = f"{self.base_url}{context['link']}"
        to = row["recipient"] or context.get(f"{row['audience']}_email", "")
        if not to:
            return None
        # The young person reads their emails in their language; staff read French.
        lang = context.get("language", "fr") if row["audience"] == "young_person" else "fr"
        context.update(jinja_context(lang))
        email = self.templates.render(row["template"], to, base_url=self.base_url, **context)
        headers = {"Content-Language": context["lang"]}
        if row["referral"]:
            headers["X-Maillage-Referral"] = str(row["referral"])
        return replace(email, headers=headers, message_id=str(row["id"]))

    async def _done(self, row: dict[str, Any], now: datetime, to: str, file: str) -> None:
        await _write(
            OutboxMessage.update(
                {
                    OutboxMessage.sent_at: now,
                    OutboxMessage.recipient: to,
                    OutboxMessage.file: file,
                    OutboxMessage.context: "",
                    OutboxMessage.claimed_until: None,
                    OutboxMessage.next_attempt_at: None,
                    OutboxMessage.last_error: "",
                }
            ).where(OutboxMessage.id == row["id"])
        )
        log.info("mail %s (%s) sent", row["id"], row["kind"])

    async def _retry(self, row: dict[str, Any], now: datetime, reason: str) -> None:
        wait = backoff(row["attempts"])
        await _write(
            OutboxMessage.update(
                {
                    OutboxMessage.claimed_until: None,
                    OutboxMessage.next_attempt_at: now + wait,
                    OutboxMessage.last_error: reason,
                }
            ).where(OutboxMessage.id == row["id"])
        )
        log.warning(
            "mail %s (%s) failed, attempt %d, next in %s: %s",
            row["id"],
            row["kind"],
            row["attempts"],
            wait,
            reason,
        )

    async def _give_up(self, row: dict[str, Any], now: datetime, reason: str) -> None:
        await _write(
            OutboxMessage.update(
                {
                    OutboxMessage.given_up_at: now,
                    OutboxMessage.context: "",
                    OutboxMessage.claimed_until: None,
                    OutboxMessage.next_attempt_at: None,
                    OutboxMessage.last_error: reason,
                }
            ).where(OutboxMessage.id == row["id"])
        )
        log.error(
            "mail %s (%s) given up after %d attempt(s): %s",
            row["id"],
            row["kind"],
            row["attempts"],
            reason,
        )


def courier_from_settings(settings: Settings) -> Courier:
    """The courier the server and `maillage send-mail` use: the configured mailer, and
    what a referral's emails may say read at delivery time."""
    from service.referrals.notify import referral_context

    return Courier(mailer_from_settings(settings), settings.base_url, referral_context)


class MailWorker:
    """A courier inside the server: delivers at once when woken after a commit, and every
    `poll_seconds` anyway (retries, and messages written by other processes)."""

    def __init__(self, courier: Courier, poll_seconds: float = 5.0) -> None:
        self.courier = courier
        self.poll_seconds = poll_seconds
        self._stop = False
        self._task: asyncio.Task[None] | None = None
        self._event: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()
        with _sleepers_lock:
            _sleepers.add((self._loop, self._event))
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Waits for the current round: cancelling it mid-query would leave a database
        connection open, and a message claimed but unrecorded."""
        self._stop = True
        if self._event is not None and self._loop is not None:
            self._event.set()
            with _sleepers_lock:
                _sleepers.discard((self._loop, self._event))
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        assert self._event is not None
        while not self._stop:
            self._event.clear()
            try:
                # A full round may have left more behind: go on without waiting.
                while not self._stop:
                    report = await self.courier.deliver_due(limit=ROUND)
                    if report.sent + report.retried + report.given_up < ROUND:
                        break
            except Exception:  # one failed round must not stop the next ones
                log.exception("mail delivery round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), self.poll_seconds)


# ---- Erasing -----------------------------------------------------------------------------


async def erase_mail(referral_ids: Iterable[UUID], now: datetime | None = None) -> int:
    """Forget what the mail of these referrals said and to whom: empty the recipient, the
    body and the error of their messages, never send those still waiting, and delete the
    .eml files written for them. Returns the number of messages erased."""
    ids = list(referral_ids)
    if not ids:
        return 0
    files = await OutboxMessage.select(OutboxMessage.file).where(
        OutboxMessage.referral.is_in(ids) & (OutboxMessage.file != "")
    )
    now = now or _now()
    async with writing():
        erased = (
            await OutboxMessage.update(
                {
                    OutboxMessage.recipient: "",
                    OutboxMessage.context: "",
                    OutboxMessage.last_error: "",
                    OutboxMessage.file: "",
                    OutboxMessage.claimed_until: None,
                    OutboxMessage.next_attempt_at: None,
                }
            )
            .where(OutboxMessage.referral.is_in(ids))
            .returning(OutboxMessage.id)
        )
        await OutboxMessage.update({OutboxMessage.given_up_at: now}).where(
            OutboxMessage.referral.is_in(ids) & _pending
        )
    for row in files:
        Path(row["file"]).unlink(missing_ok=True)
    return len(erased)
