"""Partner search through the API."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, QueryParameter
from msgspec import Struct

from directory.geo import AddressGeocoder
from directory.search import SearchResults
from directory.vocabulary import Domain, Level
from service.accounts.store import Actor
from service.params import PageNumber, QueryText
from service.searching import SearchRequest, run_search
from service.settings import Settings


class SearchResponse(Struct):
    place_precision: str
    notice: str
    results: SearchResults


def search_request(
    place: QueryText = "",
    commune: QueryText = "",
    need: QueryText = "",
    domain: Annotated[list[Domain] | None, QueryParameter()] = None,
    words: QueryText = "",
    radius_km: FromQuery[float] = 15.0,
    level: FromQuery[Level | None] = None,
    public: Annotated[list[str] | None, QueryParameter()] = None,
    on_site_only: FromQuery[bool] = False,
    unconditional_only: FromQuery[bool] = False,
    page: PageNumber = 1,
) -> SearchRequest:
    """The query parameters, as the one search request the page's form also becomes."""
    return SearchRequest(
        place=place,
        commune=commune,
        need=need,
        domains=domain or [],
        words=words,
        radius_km=radius_km,
        level=level,
        publics=[p for p in public or [] if p.strip()],  # "public=" filters nothing
        on_site_only=on_site_only,
        unconditional_only=unconditional_only,
        page=page,
    )


class SearchController(Controller):
    path = "/search"

    @get(
        "/",
        dependencies={"search_request": Provide(search_request, sync_to_thread=False)},
        summary="Find partners for a need near a place, nearest first",
        description=(
            "`place` is a commune name, postcode or INSEE code (or an address when an address "
            "geocoder is configured); `commune` an exact INSEE code. A service whose "
            "eligibility zone covers the commune matches beyond the radius (`via_zone`); "
            "remote services are listed apart in `remote`."
        ),
    )
    async def search(
        self,
        actor: NamedDependency[Actor],
        geocoder: NamedDependency[AddressGeocoder | None],
        settings: NamedDependency[Settings],
        search_request: NamedDependency[SearchRequest],
    ) -> SearchResponse:
        place, results = await run_search(search_request, actor, geocoder, settings.page_size)
        return SearchResponse(place.precision, place.notice, results)
