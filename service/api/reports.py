"""Reports of wrong data through the API: advisors and coordinators report, coordinators
read every report and close them; an advisor reads its own."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from msgspec import Struct

from directory.errors import Invalid
from service.accounts.store import Actor
from service.reports import store
from service.reports.store import CloseIn, Filed, ReportIn, ReportRead

StatusFilter = Annotated[
    str, QueryParameter(description="open (default), closed (fixed or dismissed), or all.")
]


class ReportPage(Struct):
    items: list[ReportRead]
    total: int


class ReportController(Controller):
    path = "/reports"
    tags = ("Signalements",)

    @post(
        "/",
        summary="Report wrong data in a partner's entry",
        description="Reasons: "
        + ", ".join(f"{k} ({v})" for k, v in store.REASONS.items())
        + ". The note is required with `other`. An open report of the same record for the "
        "same reason is not duplicated: the answer has `merged: true` and its id.",
    )
    async def create(self, data: JSONBody[ReportIn], actor: NamedDependency[Actor]) -> Filed:
        return await store.file_report(data, actor)

    @get("/", summary="Reports, newest first (an advisor reads its own)")
    async def index(
        self,
        actor: NamedDependency[Actor],
        status: StatusFilter = "open",
        mine: FromQuery[bool] = False,
        structure_id: FromQuery[UUID | None] = None,
        limit: FromQuery[int] = 100,
        offset: FromQuery[int] = 0,
    ) -> ReportPage:
        if status not in {"open", "closed", "all"}:
            raise Invalid({"status": "open, closed ou all."})
        size, start = max(1, min(limit, 500)), max(0, offset)
        found = await store.list_reports(actor, status, mine, structure_id, False, size, start)
        return ReportPage(items=found.items, total=found.total)

    @post(
        "/{report_id:uuid}/close", summary="Close a report as fixed or dismissed", status_code=200
    )
    async def close(
        self, report_id: FromPath[UUID], data: JSONBody[CloseIn], actor: NamedDependency[Actor]
    ) -> ReportRead:
        await store.close(report_id, data.outcome, data.note, actor)
        return await store.read_one(report_id)
