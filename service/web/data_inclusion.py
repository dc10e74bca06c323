"""The coordinators' page to import data·inclusion files. The import runs in the
background; the page shows its progress (a <progress> bar that a small script refreshes,
or a link to reload without script) and then the report."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from directory.data_inclusion import DiImportError, Raw, Report, import_records, read_bytes
from directory.errors import Invalid
from service.accounts.store import Actor
from service.api.data_inclusion import MAX_UPLOAD, check_can_import

PATH = "/structures/import-data-inclusion"


@dataclass
class Job:
    """One import running in this server process."""

    owner: str
    total: int
    done: int = 0
    report: Report | None = None
    failure: str = ""
    task: asyncio.Task[None] | None = field(default=None, repr=False)


# Imports started by this process, by their key. Kept for the life of the process: a
# coordinator reads the report after the import; a restart forgets them, and the records
# already imported stay imported.
JOBS: dict[str, Job] = {}


async def _run(job: Job, raws: list[Raw]) -> None:
    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    try:
        job.report = await import_records(raws, progress)
    except Exception as error:  # the page must say it stopped, whatever stopped it
        job.failure = f"L'import s'est arrêté : {error}"


async def _uploaded(request: Request[Any, Any, Any]) -> list[Raw]:
    form = await request.form()
    uploads = [v for _, v in form.multi_items() if isinstance(v, UploadFile) and v.filename]
    if not uploads:
        raise Invalid({"files": "Choisissez au moins un fichier JSON ou CSV."})
    raws: list[Raw] = []
    try:
        for upload in uploads:
            raws += read_bytes(upload.filename, await upload.read())
    except DiImportError as error:
        raise Invalid({"files": str(error)}) from error
    return raws


def _job(job_id: str, actor: Actor) -> Job:
    job = JOBS.get(job_id)
    if job is None or job.owner != str(actor.user_id):
        raise NotFoundException("Import introuvable.")
    return job


class DataInclusionPages(Controller):
    path = PATH
    include_in_schema = False

    @get("/")
    async def form(self, actor: NamedDependency[Actor]) -> Template:
        check_can_import(actor)
        return Template("data_inclusion_import.html", context={"actor": actor, "errors": {}})

    @post("/", request_max_body_size=MAX_UPLOAD)
    async def start(
        self, request: Request[Any, Any, Any], actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        check_can_import(actor)
        try:
            raws = await _uploaded(request)
        except Invalid as error:
            context = {"actor": actor, "errors": error.errors}
            return Template("data_inclusion_import.html", context=context, status_code=400)
        job_id = secrets.token_urlsafe(12)
        job = JOBS[job_id] = Job(str(actor.user_id), len(raws))
        job.task = asyncio.create_task(_run(job, raws))
        return Redirect(f"{PATH}/{job_id}")

    @get("/{job_id:str}")
    async def show(self, job_id: FromPath[str], actor: NamedDependency[Actor]) -> Template:
        job = _job(job_id, actor)
        context = {"actor": actor, "job": job, "job_id": job_id, "errors": {}}
        return Template("data_inclusion_import.html", context=context)

    @get("/{job_id:str}/progress")
    async def progress(self, job_id: FromPath[str], actor: NamedDependency[Actor]) -> dict:
        job = _job(job_id, actor)
        finished = job.report is not None or bool(job.failure)
        return {"done": job.done, "total": job.total, "finished": finished}
