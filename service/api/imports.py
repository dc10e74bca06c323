"""CSV import of the directory through the API: the same files, checks and modes as
`maillage import` (docs/csv.md), for coordinators and admins."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import File, Response
from msgspec import Struct

from directory.errors import Forbidden
from service.accounts.store import Actor
from service.imports import Outcome, load_outcome, report_path, run_upload
from service.settings import Settings


class ImportOut(Struct):
    id: UUID
    done: bool  # False: the import was refused as a whole and nothing was written
    keep_valid: bool
    message: str
    problems: list[str]  # why it was refused (file, line, column, reason)
    warnings: list[str]  # values read in a way to check (file, line, column, what)
    refused: int  # rows refused, when valid rows are kept
    report_url: str | None  # the report CSV: refused rows and rows with warnings


def check_can_import(actor: Actor) -> None:
    if not actor.can_edit_directory:
        raise Forbidden("Seuls les coordinateurs et administrateurs importent l'annuaire.")


def _out(outcome: Outcome) -> ImportOut:
    url = f"/api/v1/directory/imports/{outcome.id}/report.csv" if outcome.has_report else None
    return ImportOut(
        outcome.id,
        outcome.done,
        outcome.keep_valid,
        outcome.message,
        outcome.problems,
        outcome.warnings,
        outcome.refused,
        url,
    )


class ImportController(Controller):
    path = "/directory"

    @post(
        "/import",
        summary="Import CSV files (multipart: structures.csv, sites.csv…)",
        description="All or nothing by default (422 when anything is wrong, nothing written); "
        "with keep_valid=true every valid row is written and the refused rows are listed, "
        "with their reasons, in the report CSV.",
    )
    async def upload(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        keep_valid: FromQuery[bool] = False,
    ) -> Response[ImportOut]:
        check_can_import(actor)
        form = await request.form()
        uploads = [
            (value.filename, await value.read())
            for key in form
            for value in form.getall(key)
            if isinstance(value, UploadFile)
        ]
        outcome = await run_upload(uploads, keep_valid, settings.media_dir)
        return Response(_out(outcome), status_code=200 if outcome.done else 422)

    @get("/imports/{import_id:uuid}", summary="The outcome of an import")
    async def read(
        self,
        import_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
    ) -> ImportOut:
        check_can_import(actor)
        return _out(load_outcome(import_id, settings.media_dir))

    @get(
        "/imports/{import_id:uuid}/report.csv",
        summary="An import's report: refused rows and rows with warnings (CSV, semicolons)",
    )
    async def report(
        self,
        import_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
    ) -> File:
        check_can_import(actor)
        return File(
            path=report_path(import_id, settings.media_dir),
            filename=f"rapport-import-{import_id}.csv",
            media_type="text/csv; charset=utf-8",
        )
