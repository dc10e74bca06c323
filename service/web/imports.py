"""The coordinator's import page: upload the CSV files of docs/csv.md, choose between all
or nothing and keeping the valid rows, then read the outcome and download the report."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

from directory.errors import Invalid
from service.accounts.store import Actor
from service.api.imports import check_can_import
from service.imports import load_outcome, load_report, report_response, run_upload

MODES = {"tout": False, "valides": True}
SHOWN = 50  # problems and warnings listed on the page; the report has them all


def _form(actor: Actor, values: dict[str, Any], errors: dict[str, str]) -> Template:
    return Template(
        "import.html",
        context={"actor": actor, "values": values, "errors": errors},
        status_code=400 if errors else 200,
    )


class ImportPages(Controller):
    path = "/structures/import"
    include_in_schema = False

    @get("/")
    async def form(self, actor: NamedDependency[Actor]) -> Template:
        check_can_import(actor)
        return _form(actor, {}, {})

    @post("/")
    async def upload(self, request: Request, actor: NamedDependency[Actor]) -> Template | Redirect:
        check_can_import(actor)
        form = await request.form()
        mode = str(form.get("mode", ""))
        errors: dict[str, str] = {}
        if mode not in MODES:
            errors["mode"] = "Choisissez ce que l'import fait des lignes refusées."
        files = [f for f in form.getall("fichiers", []) if isinstance(f, UploadFile) and f.filename]
        if not files:
            errors["fichiers"] = "Choisissez au moins un fichier CSV."
        if errors:
            return _form(actor, {"mode": mode}, errors)
        uploads = [(f.filename, await f.read()) for f in files]
        try:
            outcome = await run_upload(uploads, MODES[mode], actor)
        except Invalid as error:
            return _form(actor, {"mode": mode}, {"fichiers": error.errors["files"]})
        return Redirect(f"/structures/import/{outcome.id}")

    @get("/{import_id:uuid}")
    async def outcome(self, import_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Template:
        outcome = await load_outcome(import_id, actor)
        context = {"actor": actor, "o": outcome, "shown": SHOWN}
        return Template("import_result.html", context=context)

    @get("/{import_id:uuid}/rapport.csv")
    async def report(self, import_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Response:
        return report_response(import_id, await load_report(import_id, actor))
