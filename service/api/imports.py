"""CSV import of the directory through the API: the same files, checks and modes as
`maillage import` (docs/csv.md), for coordinators and admins."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Response
from msgspec import Struct

from directory.errors import Forbidden, Invalid
from service.accounts.store import Actor
from service.imports import Outcome, load_outcome, load_report, report_response, run_upload


class ImportOut(Struct):
    id: UUID
    done: bool  # False: the import was refused as a whole and nothing was written
    keep_valid: bool
    message: str
    problems: list[str]  # why it was refused (file, line, column, reason)
    warnings: list[str]  # values read in a way to check (file, line, column, what)
    refused: int  # rows refused, when valid rows are kept
    report_url: str | None  # the report CSV: refused rows and rows with warnings


@dataclass
class ImportFiles:
    """One part per file of docs/csv.md; any of them may be left out."""

    structures: UploadFile | None = None
    sites: UploadFile | None = None
    services: UploadFile | None = None
    people: UploadFile | None = None
    relationships: UploadFile | None = None


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
        summary="Import CSV files (multipart: structures, sites, services, people…)",
        description="All or nothing by default (422 when anything is wrong, nothing written); "
        "with keep_valid=true every valid row is written and the refused rows are listed, "
        "with their reasons, in the report CSV.",
        responses={
            422: ResponseSpec(
                data_container=ImportOut,
                description="Import refusé, rien n'a été écrit : `problems` dit pourquoi.",
                generate_examples=False,
            )
        },
    )
    async def upload(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        data: Annotated[ImportFiles, Body(media_type=RequestEncodingType.MULTI_PART)],
        keep_valid: FromQuery[bool] = False,
    ) -> Response[ImportOut]:
        check_can_import(actor)
        parts = [field.name for field in fields(ImportFiles)]
        unknown = [name for name in await request.form() if name not in parts]
        if unknown:
            # A misnamed part would otherwise be dropped without a word.
            raise Invalid(
                {
                    "files": f"Partie inconnue « {unknown[0]} » (parties possibles : "
                    f"{', '.join(parts)})."
                }
            )
        uploads = [
            (f"{field.name}.csv", await upload.read())
            for field in fields(data)
            if isinstance(upload := getattr(data, field.name), UploadFile)
        ]
        outcome = await run_upload(uploads, keep_valid, actor)
        return Response(_out(outcome), status_code=200 if outcome.done else 422)

    @get("/imports/{import_id:uuid}", summary="The outcome of an import")
    async def read(self, import_id: FromPath[UUID], actor: NamedDependency[Actor]) -> ImportOut:
        return _out(await load_outcome(import_id, actor))

    @get(
        "/imports/{import_id:uuid}/report.csv",
        summary="An import's report: refused rows and rows with warnings (CSV, semicolons)",
    )
    async def report(self, import_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Response:
        return report_response(import_id, await load_report(import_id, actor))
