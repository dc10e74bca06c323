"""The coordinators' page to import data·inclusion files. The import runs in the
background; the page shows its progress (a <progress> bar that a small script refreshes,
or a link to reload without script) and then the report. Progress and report live in the
import's job row (service.import_jobs), so any server process shows them, after a restart
too."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from directory.data_inclusion import DiImportError, Raw, import_records, read_bytes
from directory.errors import Invalid, NotFound
from service.accounts.store import Actor
from service.api.data_inclusion import MAX_UPLOAD, check_can_import
from service.import_jobs import store as jobs
from service.imports import readable_job

PATH = "/structures/import-data-inclusion"
log = logging.getLogger(__name__)
# Progress is written to the database at most this often (seconds), heartbeat included.
PROGRESS_EVERY = 1.0

# The tasks of this process's running imports: only so that they are not garbage
# collected mid-way. Their state is in the database.
_TASKS: set[asyncio.Task[None]] = set()


async def _write_progress(job_id: UUID, state: list[int]) -> None:
    """Writes `state` (done, total) every PROGRESS_EVERY seconds until cancelled."""
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        try:
            await jobs.progress(job_id, state[0], state[1])
        except Exception:  # a missed heartbeat must not stop the import itself
            log.exception("import %s: progress not written", job_id)


async def _run(job_id: UUID, raws: list[Raw], started_by: str) -> None:
    state = [0, len(raws)]

    def progress(done: int, total: int) -> None:
        state[0], state[1] = done, total

    writer = asyncio.create_task(_write_progress(job_id, state))
    try:
        report = await import_records(raws, progress, started_by)
    except Exception as error:  # the page must say it stopped, whatever stopped it
        # A progress write racing with this one only touches a running job: no effect.
        await jobs.fail(job_id, error, done=state[0])
        return
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
    await jobs.finish_data_inclusion(job_id, report)


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


async def _job(job_id: str, actor: Actor) -> jobs.Job:
    try:
        key = UUID(job_id)
    except ValueError:
        raise NotFound("Import") from None
    return await readable_job(key, actor, jobs.Kind.DATA_INCLUSION)


def _context(actor: Actor, job: jobs.Job) -> dict[str, Any]:
    report = json.loads(job.report) if job.report else None
    return {"actor": actor, "job": job, "status": job.status(), "report": report, "errors": {}}


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
        job_id = await jobs.start(jobs.Kind.DATA_INCLUSION, actor, len(raws))
        task = asyncio.create_task(_run(job_id, raws, actor.name))
        _TASKS.add(task)
        task.add_done_callback(_TASKS.discard)
        return Redirect(f"{PATH}/{job_id}")

    @get("/{job_id:str}")
    async def show(self, job_id: FromPath[str], actor: NamedDependency[Actor]) -> Template:
        job = await _job(job_id, actor)
        return Template("data_inclusion_import.html", context=_context(actor, job))

    @get("/{job_id:str}/progress")
    async def progress(self, job_id: FromPath[str], actor: NamedDependency[Actor]) -> dict:
        job = await _job(job_id, actor)
        status = job.status()
        finished = status != jobs.Status.RUNNING
        return {"done": job.done, "total": job.total, "finished": finished, "status": status}
