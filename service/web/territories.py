"""Territories and their coverage: the coordinator's gap map, tables, what-if and exports
(also under the API, see service/api/territories.py)."""

from __future__ import annotations

import json
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from directory.csv_cells import rows_to_csv
from directory.errors import Invalid, NotFound
from directory.outlines import outlines_for
from graph.coverage import to_csv_rows, to_geojson
from service import coverage as cov
from service import territory_pages as pages
from service.accounts.store import Actor
from service.permissions import check_can_edit_conventions


def export_response(inputs: cov.Inputs, cells: list, fmt: str, domain: str) -> Response:
    if fmt == "csv":
        return Response(
            rows_to_csv(to_csv_rows(cells)).encode(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="couverture.csv"'},
        )
    if fmt == "geojson":
        data = to_geojson(
            cells, outlines_for(c.insee for c in inputs.communes), domain, inputs.communes
        )
        return Response(
            json.dumps(data).encode(),
            media_type="application/geo+json",
            headers={"Content-Disposition": f'attachment; filename="couverture-{domain}.geojson"'},
        )
    if fmt == "svg":
        return Response(
            cov.map_svg(inputs, cells, domain).encode(),
            media_type="image/svg+xml",
            headers={"Content-Disposition": f'attachment; filename="carte-{domain}.svg"'},
        )
    raise NotFound("Format")


class TerritoryPages(Controller):
    path = "/territoires"
    include_in_schema = False

    @get("/")
    async def index(self, actor: NamedDependency[Actor]) -> Template:
        return Template("territories.html", context=await pages.list_context(actor))

    @post("/")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Template | Redirect:
        check_can_edit_conventions(actor)
        form = await request.form()
        try:
            territory_id = await pages.create_from_form(form, actor)
        except Invalid as error:
            context = await pages.list_context(actor, error.errors, dict(form.items()))
            return Template("territories.html", context=context, status_code=400)
        return Redirect(f"/territoires/{territory_id}")

    @get("/{territory_id:uuid}")
    async def show(
        self,
        territory_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        domaine: FromQuery[str] = "housing",
        sans: FromQuery[str] = "",
    ) -> Template:
        context = await pages.coverage_page_context(actor, territory_id, domaine, sans)
        return Template("coverage.html", context=context)

    @get("/{territory_id:uuid}/export/{fmt:str}")
    async def export(
        self, territory_id: FromPath[UUID], fmt: FromPath[str], domaine: FromQuery[str] = "housing"
    ) -> Response:
        domain = pages.domain_or_housing(domaine, "domaine")
        inputs = await cov.load_inputs(territory_id)
        return export_response(inputs, cov.compute(inputs), fmt, domain)
