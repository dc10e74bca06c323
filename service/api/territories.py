"""Territories and coverage through the API."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Struct

from directory.territories import TerritoryRead, all_territories, expand, save
from directory.territories import get as get_territory
from service import coverage as cov
from service import coverage_map as cmap
from service import territory_pages as pages
from service.accounts.store import Actor
from service.api.directory import Created
from service.permissions import check_can_edit_conventions
from service.web.territories import export_response


class TerritoryIn(Struct, forbid_unknown_fields=True):
    name: str
    codes: list[str]
    reach_km: dict[str, float] = {}
    structure_id: UUID | None = None


class TerritoryController(Controller):
    path = "/territories"
    tags = ("Territoires",)

    @get("/", summary="Territories")
    async def list(self) -> list[TerritoryRead]:
        return await all_territories()

    @post("/", summary="Define a territory from commune, EPCI or département codes")
    async def create(self, data: JSONBody[TerritoryIn], actor: NamedDependency[Actor]) -> Created:
        check_can_edit_conventions(actor)
        expand(data.codes)
        return Created(
            await save(
                data.name, data.codes, data.reach_km, data.structure_id or actor.structure_id
            )
        )

    @get("/{territory_id:uuid}", summary="A territory")
    async def read(self, territory_id: FromPath[UUID]) -> TerritoryRead:
        return await get_territory(territory_id)

    @get("/{territory_id:uuid}/coverage", summary="Coverage per commune and domain")
    async def coverage(
        self,
        territory_id: FromPath[UUID],
        domain: FromQuery[str] = "",
        without: FromQuery[str] = "",
        without_person: FromQuery[UUID | None] = None,
    ) -> dict[str, Any]:
        return await pages.coverage_body(territory_id, domain, without, without_person)

    @get("/{territory_id:uuid}/export/{fmt:str}", summary="CSV, GeoJSON (QGIS) or SVG map")
    async def export(
        self, territory_id: FromPath[UUID], fmt: FromPath[str], domain: FromQuery[str] = "housing"
    ) -> Response:
        chosen = pages.domain_or_housing(domain)
        inputs = await cov.load_inputs(territory_id)
        return export_response(inputs, cov.compute(inputs), fmt, chosen)

    @get(
        "/{territory_id:uuid}/communes.geojson",
        summary="One domain's communes with their class, partners and why (the gap map)",
    )
    async def communes(
        self,
        territory_id: FromPath[UUID],
        domain: FromQuery[str] = "",
    ) -> Response:
        layer = await cmap.map_layer(territory_id, domain, "communes")
        return Response(json.dumps(layer).encode(), media_type="application/geo+json")

    @get(
        "/{territory_id:uuid}/sites.geojson",
        summary="Sites of the partners reaching the territory for one domain (map markers)",
    )
    async def sites(
        self,
        territory_id: FromPath[UUID],
        domain: FromQuery[str] = "",
    ) -> Response:
        layer = await cmap.map_layer(territory_id, domain, "sites")
        return Response(json.dumps(layer).encode(), media_type="application/geo+json")
