"""Writing and reading import jobs. A job is created when an import starts, its progress is
written as it goes (with a heartbeat), and its outcome when it ends; every server process
reads the same row, so the progress page works whichever process answers it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from directory.data_inclusion import Report
from directory.errors import NotFound
from directory.store import writing
from service.accounts.store import Actor
from service.import_jobs.tables import ImportJob

# A running import writes its heartbeat every few seconds; one silent this long stopped
# with its server process (a restart, a crash) and is shown as interrupted.
STALE_AFTER = timedelta(minutes=5)
RECENT = 50  # jobs listed on the coordinators' page


class Kind(StrEnum):
    CSV = "csv"
    DATA_INCLUSION = "data-inclusion"

    @property
    def label(self) -> str:
        return "Fichiers CSV" if self == Kind.CSV else "data·inclusion"


class Status(StrEnum):
    RUNNING = "running"
    DONE = "done"
    REFUSED = "refused"  # refused as a whole, nothing written
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # never stored: a running job whose heartbeat went silent

    @property
    def label(self) -> str:
        return {
            "running": "en cours",
            "done": "terminé",
            "refused": "refusé",
            "failed": "arrêté par une erreur",
            "interrupted": "interrompu",
        }[self.value]


@dataclass(frozen=True)
class Job:
    """An import as the pages and the API show it."""

    id: UUID
    kind: Kind
    started_by: UUID | None
    started_by_name: str
    started_at: datetime
    heartbeat_at: datetime
    finished_at: datetime | None
    stored_status: Status
    done: int
    total: int
    summary: dict[str, Any]
    report: str
    purged_at: datetime | None

    def status(self, now: datetime | None = None) -> Status:
        """The stored status, except that a running job gone silent was interrupted."""
        now = now or datetime.now(UTC)
        if self.stored_status == Status.RUNNING and now - self.heartbeat_at > STALE_AFTER:
            return Status.INTERRUPTED
        return self.stored_status

    @property
    def has_report(self) -> bool:
        return bool(self.report)


def _job(row: dict) -> Job:
    return Job(
        id=row["id"],
        kind=Kind(row["kind"]),
        started_by=row["started_by"],
        started_by_name=row["started_by_name"],
        started_at=row["started_at"],
        heartbeat_at=row["heartbeat_at"],
        finished_at=row["finished_at"],
        stored_status=Status(row["status"]),
        done=row["done"],
        total=row["total"],
        summary=json.loads(row["summary"] or "{}"),
        report=row["report"],
        purged_at=row["purged_at"],
    )


async def start(kind: Kind, actor: Actor, total: int = 0, now: datetime | None = None) -> UUID:
    """A new running job, started by `actor`."""
    now = now or datetime.now(UTC)
    job_id = uuid4()
    async with writing():
        await ImportJob(
            id=job_id,
            kind=kind.value,
            started_by=actor.user_id,
            started_by_name=actor.name[:200],
            started_at=now,
            heartbeat_at=now,
            status=Status.RUNNING.value,
            total=total,
        ).save()
    return job_id


async def progress(job_id: UUID, done: int, total: int, now: datetime | None = None) -> None:
    """How far a running import got; also its heartbeat."""
    async with writing():
        await ImportJob.update(
            {
                ImportJob.done: done,
                ImportJob.total: total,
                ImportJob.heartbeat_at: now or datetime.now(UTC),
            }
        ).where((ImportJob.id == job_id) & (ImportJob.status == Status.RUNNING.value))


async def finish(
    job_id: UUID,
    status: Status,
    summary: dict[str, Any],
    report: str = "",
    done: int | None = None,
) -> None:
    """The outcome of an import: its status, summary and report."""
    now = datetime.now(UTC)
    values: dict[Any, Any] = {
        ImportJob.status: status.value,
        ImportJob.finished_at: now,
        ImportJob.heartbeat_at: now,
        ImportJob.summary: json.dumps(summary, ensure_ascii=False),
        ImportJob.report: report,
    }
    if done is not None:
        values[ImportJob.done] = done
    async with writing():
        await ImportJob.update(values).where(ImportJob.id == job_id)


async def load(job_id: UUID) -> Job:
    row = await ImportJob.select().where(ImportJob.id == job_id).first()
    if row is None:
        raise NotFound("Import")
    return _job(row)


async def recent(limit: int = RECENT) -> list[Job]:
    """The latest imports, newest first."""
    rows = await ImportJob.select().order_by(ImportJob.started_at, ascending=False).limit(limit)
    return [_job(row) for row in rows]


async def finish_data_inclusion(job_id: UUID, report: Report) -> None:
    """A data·inclusion import's outcome: the counts as summary (what the purge keeps),
    the refusals and their reasons as the report."""
    summary = {"structures": vars(report.structures), "services": vars(report.services)}
    report_json = json.dumps(report.as_dict(), ensure_ascii=False)
    done = await ImportJob.select(ImportJob.total).where(ImportJob.id == job_id).first()
    await finish(job_id, Status.DONE, summary, report_json, done=done["total"] if done else None)


async def fail(job_id: UUID, error: Exception, done: int | None = None) -> None:
    """An import stopped by an error: the page and the list say so."""
    await finish(job_id, Status.FAILED, {"message": f"L'import s'est arrêté : {error}"}, done=done)
