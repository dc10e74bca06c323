"""data·inclusion v1 through the API: import files (coordinators, admins) and export the
directory."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency

from directory.data_inclusion import (
    DiImportError,
    Raw,
    export_records,
    import_records,
    read_bytes,
)
from directory.errors import Forbidden, Invalid
from service.accounts.store import Actor
from service.import_jobs import store as jobs

# A national file is larger: import it with `maillage import-di` on the server.
MAX_UPLOAD = 20 * 1024 * 1024


def check_can_import(actor: Actor) -> None:
    if not actor.can_edit_directory:
        raise Forbidden("Seuls les coordinateurs et administrateurs importent des données.")


async def read_request(request: Request[Any, Any, Any]) -> list[Raw]:
    """The records of a multipart upload (one or more files) or of a JSON body."""
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("multipart/form-data"):
            form = await request.form()
            uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
            if not uploads:
                raise Invalid({"files": "Aucun fichier reçu : joignez un fichier JSON ou CSV."})
            raws: list[Raw] = []
            for upload in uploads:
                raws += read_bytes(upload.filename or "fichier", await upload.read())
            return raws
        return list(read_bytes("corps JSON", await request.body()))
    except DiImportError as error:
        raise Invalid({"files": str(error)}) from error


class DataInclusionController(Controller):
    path = "/"

    @post(
        "/imports/data-inclusion",
        summary="Import data·inclusion v1 structures and services (coordinators, admins)",
        description=(
            "A multipart upload (field `files`, JSON or CSV files) or a JSON body: a list of "
            "records, or an object with `structures` and `services` lists. Every valid record "
            "is created or updated by (source, id); the report lists the refused ones with "
            "their reasons."
        ),
        request_max_body_size=MAX_UPLOAD,
        status_code=200,
    )
    async def import_di(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor]
    ) -> dict[str, Any]:
        check_can_import(actor)
        raws = await read_request(request)
        job_id = await jobs.start(jobs.Kind.DATA_INCLUSION, actor, len(raws))
        try:
            report = await import_records(raws, started_by=actor.name)
        except Exception as error:
            await jobs.fail(job_id, error)
            raise
        await jobs.finish_data_inclusion(job_id, report)
        return report.as_dict()

    @get("/exports/data-inclusion", summary="The directory as data·inclusion v1 records")
    async def export_di(self) -> dict[str, Any]:
        export = await export_records()
        return {"structures": export.structures, "services": export.services}
