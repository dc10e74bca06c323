"""CSV import of the directory from the web (page and API): the uploaded files are put in a
fresh folder and imported by directory.csv_io, exactly as `maillage import` does; the
outcome and its report CSV are kept in the import's job row (service.import_jobs), so that
the result page (after the POST/redirect/GET) and the report download show them from any
server process."""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from uuid import UUID

from litestar.response import Response

from directory.csv_io import SPECS, CsvImportError, import_directory
from directory.errors import Invalid, NotFound
from service.accounts.store import Actor
from service.import_jobs import store as jobs
from service.permissions import check_can_read_import

_FILES = {spec.file for spec in SPECS}


@dataclass
class Outcome:
    """What an import from the web did, as the result page and the API show it."""

    id: UUID
    done: bool  # False: refused as a whole, nothing written
    keep_valid: bool
    message: str
    problems: list[str] = field(default_factory=list)  # why refused: the import, or rows
    warnings: list[str] = field(default_factory=list)
    refused: int = 0
    has_report: bool = False
    purged: bool = False  # the retention period is over: messages and report erased


def _named(uploads: list[tuple[str, bytes]]) -> dict[str, bytes]:
    named: dict[str, bytes] = {}
    for filename, content in uploads:
        name = Path(filename or "").name.lower()
        if name not in _FILES:
            raise Invalid(
                {
                    "files": f"Fichier « {filename} » inconnu : les fichiers s'appellent "
                    f"{', '.join(s.file for s in SPECS)}."
                }
            )
        if name in named:
            raise Invalid({"files": f"Le fichier {name} est envoyé deux fois."})
        named[name] = content
    if not named:
        raise Invalid({"files": "Choisissez au moins un fichier CSV."})
    return named


async def _import(
    job_id: UUID, named: dict[str, bytes], keep_valid: bool, started_by: str
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="maillage-import-") as tmp:
        for name, content in named.items():
            (Path(tmp) / name).write_bytes(content)
        try:
            result = await import_directory(Path(tmp), keep_valid=keep_valid, started_by=started_by)
        except CsvImportError as error:
            outcome = Outcome(
                job_id, False, keep_valid, "Import refusé, rien n'a été écrit.", error.problems
            )
            report = error.report
        else:
            outcome = Outcome(
                job_id,
                True,
                keep_valid,
                result.message,
                problems=result.problems,
                warnings=result.warnings,
                refused=result.refused,
            )
            report = result.report
    outcome.has_report = bool(report)
    summary = asdict(outcome) | {"id": str(job_id)}
    status = jobs.Status.DONE if outcome.done else jobs.Status.REFUSED
    await jobs.finish(job_id, status, summary, report or "")
    return outcome


async def run_upload(uploads: list[tuple[str, bytes]], keep_valid: bool, actor: Actor) -> Outcome:
    """Import the uploaded files, named as in docs/csv.md (structures.csv…)."""
    named = _named(uploads)
    job_id = await jobs.start(jobs.Kind.CSV, actor)
    try:
        return await _import(job_id, named, keep_valid, actor.name)
    except Exception as error:
        # The list must say it stopped; the error itself still reaches the server log.
        await jobs.fail(job_id, error)
        raise


async def readable_job(import_id: UUID, actor: Actor, kind: jobs.Kind) -> jobs.Job:
    """The job, if `actor` may read it (404 for another kind of import)."""
    job = await jobs.load(import_id)
    if job.kind != kind:
        raise NotFound("Import")
    check_can_read_import(actor, job.started_by)
    return job


def outcome_of(job: jobs.Job) -> Outcome:
    """The outcome of a CSV import, from its job row."""
    data = job.summary
    if job.status() in (jobs.Status.RUNNING, jobs.Status.INTERRUPTED, jobs.Status.FAILED):
        message = data.get("message") or f"Import {job.status().label}."
        return Outcome(job.id, False, False, message, purged=job.purged_at is not None)
    return Outcome(
        id=job.id,
        done=data.get("done", False),
        keep_valid=data.get("keep_valid", False),
        message=data.get("message", ""),
        problems=data.get("problems", []),
        warnings=data.get("warnings", []),
        refused=data.get("refused", 0),
        has_report=job.has_report,
        purged=job.purged_at is not None,
    )


async def load_outcome(import_id: UUID, actor: Actor) -> Outcome:
    return outcome_of(await readable_job(import_id, actor, jobs.Kind.CSV))


async def load_report(import_id: UUID, actor: Actor) -> str:
    job = await readable_job(import_id, actor, jobs.Kind.CSV)
    if not job.report:
        raise NotFound("Rapport d'import")
    return job.report


def report_response(import_id: UUID, report: str) -> Response:
    """The report CSV as a download."""
    return Response(
        report,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="rapport-import-{import_id}.csv"'},
    )
