"""Verification campaign pages, for coordinators: the list with the form to start one (and
its preview), a campaign's progress with who to call, reminders and closing. The logic is
in service.campaigns."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from directory.errors import Invalid
from service.accounts.store import Actor
from service.campaigns import forms, progress, start
from service.permissions import check_can_run_campaigns


async def _index(
    actor: Actor, values: Any, errors: dict[str, str] | None = None, **extra: Any
) -> Template:
    context = {
        "actor": actor,
        "values": values,
        "errors": errors or {},
        "campaigns": await progress.list_campaigns(),
        **await forms.choices(),
        **extra,
    }
    return Template("campaigns.html", context=context, status_code=400 if errors else 200)


class CampaignPages(Controller):
    path = "/campagnes"
    include_in_schema = False

    @get("/")
    async def index(self, request: Request, actor: NamedDependency[Actor]) -> Template:
        """The list; with `apercu`, the structures the campaign would ask, before it starts."""
        check_can_run_campaigns(actor)
        query = request.query_params
        if "apercu" not in query:
            return await _index(actor, {"older_than_months": 12})
        try:
            spec = forms.from_form(query)
            await start.check(spec)
        except Invalid as error:
            return await _index(actor, query, error.errors)
        found = await start.candidates(spec)
        return await _index(actor, query, preview=found, spec=spec)

    @post("/")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Template | Redirect:
        check_can_run_campaigns(actor)
        form = await request.form()
        try:
            campaign_id, _created = await start.start(forms.from_form(form), actor)
        except Invalid as error:
            return await _index(actor, form, error.errors)
        return Redirect(f"/campagnes/{campaign_id}")

    @get("/{campaign_id:uuid}")
    async def show(
        self,
        campaign_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        relances: FromQuery[int | None] = None,
    ) -> Template:
        check_can_run_campaigns(actor)
        found = await progress.progress(campaign_id)
        context = {"actor": actor, "c": found, "reminded": relances}
        return Template("campaign.html", context=context)

    @post("/{campaign_id:uuid}/relancer")
    async def remind(self, campaign_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Redirect:
        check_can_run_campaigns(actor)
        count = await progress.remind(campaign_id)
        return Redirect(f"/campagnes/{campaign_id}?relances={count}")

    @post("/{campaign_id:uuid}/clore")
    async def close(self, campaign_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Redirect:
        check_can_run_campaigns(actor)
        await progress.close(campaign_id)
        return Redirect(f"/campagnes/{campaign_id}")
