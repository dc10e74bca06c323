"""The advisor's search page."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from directory.errors import Invalid
from directory.gazetteer import AmbiguousPlace, UnknownPlace
from directory.geo import AddressGeocoder
from service.accounts.store import Actor
from service.forms import parse_form
from service.searching import SearchRequest, run_search
from service.settings import Settings

LISTS = ("domains", "publics")
CHECKBOXES = ("on_site_only", "unconditional_only")


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
        query = request.query_params
        context: dict = {
            "actor": actor,
            "form": query,
            "errors": {},
            "candidates": [],
            "results": None,
            "place": None,
            "default_radius": settings.search_radius_km,
            "geocoder_enabled": geocoder is not None,
            "page_url": lambda page: (
                "/recherche?"
                + urlencode(
                    [(k, v) for k, v in query.multi_items() if k != "page"] + [("page", page)]
                )
            ),
        }
        if not (query.get("place") or query.get("commune")):
            return Template("search.html", context=context)
        try:
            search_request = parse_form(query, SearchRequest, lists=LISTS, checkboxes=CHECKBOXES)
            place, results = await run_search(search_request, actor, geocoder, settings.page_size)
        except Invalid as error:
            context["errors"] = error.errors
            return Template("search.html", context=context, status_code=400)
        except AmbiguousPlace as error:
            context["errors"] = {"place": str(error)}
            context["candidates"] = error.candidates
            return Template("search.html", context=context)
        except UnknownPlace as error:
            context["errors"] = {"place": str(error)}
            context["candidates"] = error.suggestions
            context["suggested"] = True
            return Template("search.html", context=context, status_code=400)
        context.update({"results": results, "place": place, "request": search_request})
        return Template("search.html", context=context)
