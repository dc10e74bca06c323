"""Import reports name partner staff (names, emails, phones of the files' people): a
retention period after an import started, `maillage purge` erases its report and the
messages of its summary, keeping who imported what kind of file when, and the counts. Each
erasure leaves an audit mark."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from directory.store import writing
from service.audit import store as audit
from service.import_jobs.tables import ImportJob

# What a summary keeps after the purge: counts and flags, never a message naming someone.
_KEPT = {"structures", "services", "done", "keep_valid", "refused", "id"}


@dataclass
class ImportPurgeReport:
    """What a purge of import reports erased, or would erase in a dry run."""

    now: datetime
    limit: datetime
    dry_run: bool = False
    job_ids: list[UUID] = field(default_factory=list)
    legacy_folders: int = 0

    def describe(self) -> str:
        day = self.limit.strftime("%d/%m/%Y")
        verb = "seraient effacés" if self.dry_run else "effacés"
        return (
            f"Comptes rendus d'import lancés avant le {day} : {len(self.job_ids)} {verb} "
            "(noms, courriels et téléphones des partenaires qu'ils citent) ; gardés : qui a "
            "importé quoi, quand, et les nombres."
        ) + (
            f"\nAnciens dossiers de rapports d'import (media/imports) : "
            f"{self.legacy_folders} {verb}."
            if self.legacy_folders
            else ""
        )


def _counts_only(summary: str) -> str:
    data = json.loads(summary or "{}")
    return json.dumps({k: v for k, v in data.items() if k in _KEPT}, ensure_ascii=False)


async def _erase(row: dict, now: datetime) -> None:
    """One job's report and messages, with its audit mark, in one transaction."""
    async with writing():
        await ImportJob.update(
            {
                ImportJob.report: "",
                ImportJob.summary: _counts_only(row["summary"]),
                ImportJob.purged_at: now,
            }
        ).where(ImportJob.id == row["id"])
        await audit.record(
            audit.Action.CHANGE,
            "import",
            row["id"],
            actor_kind=audit.ActorKind.SYSTEM,
            actor_label="maillage purge",
            detail="purge",
            at=now,
        )


def _legacy_folders(media_dir: Path | None, limit: datetime) -> list[Path]:
    """Report folders written under media/imports before reports moved to the database:
    the app no longer reads them, and they are erased after the same retention period."""
    root = media_dir / "imports" if media_dir else None
    if root is None or not root.is_dir():
        return []
    return [
        folder
        for folder in root.iterdir()
        if folder.is_dir() and datetime.fromtimestamp(folder.stat().st_mtime, UTC) <= limit
    ]


async def purge_reports(
    retention_days: int = 30,
    now: datetime | None = None,
    dry_run: bool = False,
    media_dir: Path | None = None,
) -> ImportPurgeReport:
    """Erase, or with `dry_run` only count, the reports of imports started more than
    `retention_days` before `now` (a running one is left until it ends)."""
    now = now or datetime.now(UTC)
    report = ImportPurgeReport(now, now - timedelta(days=retention_days), dry_run)
    rows = await ImportJob.select(ImportJob.id, ImportJob.summary).where(
        (ImportJob.started_at <= report.limit)
        & ImportJob.purged_at.is_null()
        & (ImportJob.status != "running")
    )
    report.job_ids = [row["id"] for row in rows]
    legacy = _legacy_folders(media_dir, report.limit)
    report.legacy_folders = len(legacy)
    if not dry_run:
        for row in rows:
            await _erase(row, now)
        for folder in legacy:
            shutil.rmtree(folder)
    return report
