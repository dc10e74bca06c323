"""One search entry point for the page and the API, so both answer the same."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from msgspec import Meta, Struct

from directory import demand
from directory.errors import Invalid
from directory.gazetteer import AmbiguousPlace, UnknownPlace, load_gazetteer
from directory.geo import AddressGeocoder, Place, locate_place
from directory.search import SearchFilters, SearchResults, resolve_need, search
from directory.tables import Site
from directory.vocabulary import PUBLICS, Domain, Level
from service.accounts.store import Actor
from service.forms import parse_form
from service.params import MAX_PAGE, MAX_QUERY_TEXT
from service.referrals.stats import response_times

_Text = Annotated[str, Meta(max_length=MAX_QUERY_TEXT)]


class SearchRequest(Struct):
    """Bounded like the API's query parameters (service.params), for the page's form."""

    place: _Text = ""
    commune: _Text = ""  # an exact INSEE code, as picked from a list of homonyms
    need: _Text = ""
    domains: list[Domain] = []
    words: _Text = ""
    radius_km: float = 15.0
    level: Level | None = None
    publics: list[str] = []
    on_site_only: bool = False
    unconditional_only: bool = False
    page: Annotated[int, Meta(ge=1, le=MAX_PAGE)] = 1


def locate(request: SearchRequest, geocoder: AddressGeocoder | None) -> Place:
    gazetteer = load_gazetteer()
    if request.commune:
        commune = gazetteer.get(request.commune)
        if commune is None:
            raise UnknownPlace(request.commune)
        return Place(commune, commune.lat, commune.lon, "commune")
    if not request.place.strip():
        raise Invalid({"place": "Indiquez une commune, un code postal ou une adresse."})
    return locate_place(request.place, gazetteer, geocoder)


async def home_departements(structure_id: UUID | None) -> set[str]:
    """Départements where the actor's structure has a site: where its young people live."""
    if structure_id is None:
        return set()
    rows = await Site.select(Site.commune).where(Site.structure == structure_id)
    gazetteer = load_gazetteer()
    return {c.departement for r in rows if (c := gazetteer.get(r["commune"])) is not None}


async def run_search(
    request: SearchRequest,
    actor: Actor,
    geocoder: AddressGeocoder | None,
    page_size: int = 20,
) -> tuple[Place, SearchResults]:
    if unknown := [p for p in request.publics if p not in PUBLICS]:
        raise Invalid({"publics": "Publics inconnus : " + ", ".join(unknown)})
    if not 1 <= request.radius_km <= 200:
        raise Invalid({"radius_km": "Le rayon va de 1 à 200 km."})
    # An address lookup goes to a synchronous geopy geocoder: keep the loop free. A commune
    # is found in memory: no thread for it.
    by_address = geocoder is not None and not request.commune
    try:
        place = (
            await asyncio.to_thread(locate, request, geocoder)
            if by_address
            else locate(request, geocoder)
        )
    except AmbiguousPlace as error:
        # "Valence": the advisor most likely means the one in their own département.
        home = await home_departements(actor.structure_id)
        error.candidates.sort(key=lambda c: c.departement not in home)
        raise AmbiguousPlace(error.query, error.candidates) from None
    need = resolve_need(request.need, request.domains)
    results = await search(
        place.commune,
        need,
        words=request.words,
        radius_km=request.radius_km,
        filters=SearchFilters(
            level=request.level,
            publics=request.publics,
            on_site_only=request.on_site_only,
            unconditional_only=request.unconditional_only,
        ),
        page=request.page,
        page_size=page_size,
        viewer_structure=actor.structure_id,
        origin=(place.lat, place.lon),
    )
    # Demand signal for coverage maps: where and for what, never who. Turning pages is the
    # same search: only its first page counts.
    if request.page == 1:
        demand.record(
            place.commune.insee,
            sorted({key[2:] for key in need.keys if key.startswith("d:")}),
            results.total + results.remote_total,
        )
    times = await response_times(hit.structure_id for hit in results.items + results.remote)
    for hit in results.items + results.remote:
        if hit.structure_id in times:
            hit.response_times = times[hit.structure_id].answer
    return place, results


# The page's form fields that carry several values, and its checkboxes.
_LISTS = ("domains", "publics")
_CHECKBOXES = ("on_site_only", "unconditional_only")


def _page_url(query: Any) -> Callable[[int], str]:
    """Links to the other pages of the same search: the query as it came, but the page."""

    def url(page: int) -> str:
        kept = [(k, v) for k, v in query.multi_items() if k != "page"]
        return "/recherche?" + urlencode([*kept, ("page", page)])

    return url


async def page_context(
    query: Mapping[str, Any],
    actor: Actor,
    geocoder: AddressGeocoder | None,
    radius_km: float,
    page_size: int,
) -> tuple[dict[str, Any], int]:
    """The search page's context and status: the blank form, the results, or the form back
    with what went wrong (homonyms to pick from, suggestions for an unknown place)."""
    context: dict[str, Any] = {
        "actor": actor,
        "form": query,
        "errors": {},
        "candidates": [],
        "results": None,
        "place": None,
        "default_radius": radius_km,
        "geocoder_enabled": geocoder is not None,
        "page_url": _page_url(query),
    }
    if not (query.get("place") or query.get("commune")):
        return context, 200
    try:
        request = parse_form(query, SearchRequest, lists=_LISTS, checkboxes=_CHECKBOXES)
        place, results = await run_search(request, actor, geocoder, page_size)
    except Invalid as error:
        return {**context, "errors": error.errors}, 400
    except AmbiguousPlace as error:
        return {**context, "errors": {"place": str(error)}, "candidates": error.candidates}, 200
    except UnknownPlace as error:
        errors = {"place": str(error)}
        return {
            **context,
            "errors": errors,
            "candidates": error.suggestions,
            "suggested": True,
        }, 400
    return {**context, "results": results, "place": place, "request": request}, 200
