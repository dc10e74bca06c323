"""Reports of wrong data: the form an advisor fills from a search result or a partner
page, the thanks page, and the list coordinators (and reporters, for their own) read."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from directory.errors import Invalid
from service.accounts.store import Actor
from service.params import PageNumber
from service.reports import pages, store

PAGE_SIZE = 50


class ReportPages(Controller):
    path = "/signalements"
    include_in_schema = False

    @get("/")
    async def index(
        self, request: Request, actor: NamedDependency[Actor], page: PageNumber = 1
    ) -> Template:
        filters = pages.list_filters(request.query_params)
        offset = (page - 1) * PAGE_SIZE
        listing = await store.list_reports(actor, **filters, limit=PAGE_SIZE, offset=offset)
        context = {"actor": actor, "listing": listing, "filters": filters, "page": page}
        return Template("reports.html", context=context)

    @get("/nouveau")
    async def new(self, request: Request, actor: NamedDependency[Actor]) -> Template:
        store.check_can_report(actor)
        about = await pages.subject(request.query_params)
        return _form(actor, about, {})

    @post("/nouveau")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Template | Redirect:
        store.check_can_report(actor)
        form = await request.form()
        try:
            return Redirect(await pages.file_from_form(form, actor))
        except Invalid as error:
            about = await pages.subject(form)
            return _form(actor, about, form, error.errors)

    @get("/merci")
    async def thanks(self, request: Request, actor: NamedDependency[Actor]) -> Template:
        merged = request.query_params.get("fusion") == "1"
        back = pages.safe_return(str(request.query_params.get("retour", "")))
        message = pages.ALREADY if merged else pages.THANKS
        return Template(
            "report_thanks.html", context={"actor": actor, "message": message, "back": back}
        )

    @post("/{report_id:uuid}/cloturer")
    async def close(
        self, report_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Redirect:
        form = await request.form()
        outcome, note = str(form.get("outcome", "")), str(form.get("note", ""))[:2000]
        await store.close(report_id, outcome, note, actor)
        label = store.STATUS_LABELS.get(outcome, "").lower()
        return Redirect(f"/signalements?notice=Signalement clôturé : {label}.")


def _form(actor: Actor, about: dict, values: object, errors: dict | None = None) -> Template:
    return Template(
        "report_form.html",
        context={
            "actor": actor,
            "about": about,
            "values": values,
            "errors": errors or {},
            "REASON_CHOICES": pages.REASON_CHOICES,
        },
        status_code=400 if errors else 200,
    )
