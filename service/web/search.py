"""The advisor's search page."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from directory.geo import AddressGeocoder
from service.accounts.store import Actor
from service.searching import page_context
from service.settings import Settings


class SearchPage(Controller):
    include_in_schema = False

    @get("/recherche")
    async def search_page(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        geocoder: NamedDependency[AddressGeocoder | None],
        settings: NamedDependency[Settings],
    ) -> Template:
        context, status = await page_context(
            request.query_params, actor, geocoder, settings.search_radius_km, settings.page_size
        )
        return Template("search.html", context=context, status_code=status)
