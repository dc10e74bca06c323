"""The coordinators' list of recent imports: who imported what kind of files when, the
counts, and a link to each report; both kinds of import, from the job rows."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.response import Template

from service.accounts.store import Actor
from service.api.imports import check_can_import
from service.import_jobs import store as jobs


def counts(job: jobs.Job) -> str:
    """The counts of an import, in a few French words."""
    data = job.summary
    if job.kind == jobs.Kind.DATA_INCLUSION and "structures" in data:
        s, v = data["structures"], data["services"]
        written = s["created"] + s["updated"] + v["created"] + v["updated"]
        refused = s["refused"] + v["refused"]
        return f"{written} écrit(s), {refused} refusé(s) sur {job.total}"
    if job.kind == jobs.Kind.CSV and "done" in data:
        if not data["done"]:
            return "rien n'a été écrit"
        return f"{data.get('refused', 0)} ligne(s) refusée(s)"
    return f"{job.done} traité(s) sur {job.total}" if job.total else ""


def link(job: jobs.Job) -> str:
    if job.kind == jobs.Kind.CSV:
        return f"/structures/import/{job.id}"
    return f"/structures/import-data-inclusion/{job.id}"


class ImportListPage(Controller):
    path = "/structures/imports"
    include_in_schema = False

    @get("/")
    async def recent(self, actor: NamedDependency[Actor]) -> Template:
        check_can_import(actor)
        rows = [(job, job.status(), counts(job), link(job)) for job in await jobs.recent()]
        return Template(
            "import_list.html",
            context={"actor": actor, "rows": rows, "recent": jobs.RECENT},
        )
