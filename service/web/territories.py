"""Territories and their coverage: the coordinator's gap map, tables, what-if and exports
(also under the API, see service/api/territories.py)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from directory.csv_cells import rows_to_csv
from directory.errors import Invalid, NotFound
from directory.outlines import outlines_for
from directory.territories import all_territories, codes_from_text, save
from directory.text import fold
from directory.vocabulary import Domain
from graph.coverage import to_csv_rows, to_geojson
from service import coverage as cov
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


def parse_reach(text: str) -> dict[str, float]:
    """« santé=30 mobilité=20 » (French labels or codes) -> {"health": 30.0, ...}."""
    by_name = {fold(d.label): d.value for d in Domain} | {d.value: d.value for d in Domain}
    reach: dict[str, float] = {}
    for part in text.replace(",", " ").replace(";", " ").split():
        name, _, km = part.partition("=")
        domain = by_name.get(fold(name))
        if domain is None or not km:
            raise Invalid({"reach": f"Portée illisible : « {part} » (exemple : santé=30)."})
        try:
            reach[domain] = float(km.replace(",", "."))
        except ValueError:
            raise Invalid({"reach": f"Distance illisible : « {km} »."}) from None
    return reach


def _domain(value: str) -> str:
    return value if value in Domain.__members__.values() else Domain.HOUSING.value


class TerritoryPages(Controller):
    path = "/territoires"
    include_in_schema = False

    @get("/")
    async def index(self, actor: NamedDependency[Actor]) -> Template:
        return Template(
            "territories.html",
            context={"actor": actor, "items": await all_territories(), "errors": {}, "values": {}},
        )

    @post("/")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Template | Redirect:
        check_can_edit_conventions(actor)
        form = await request.form()
        text = str(form.get("codes", ""))
        upload = form.get("csv")
        if isinstance(upload, UploadFile) and upload.filename:
            text += "\n" + (await upload.read()).decode("utf-8-sig", errors="replace")
        try:
            territory_id = await save(
                str(form.get("name", "")),
                codes_from_text(text),
                parse_reach(str(form.get("reach", ""))),
                actor.structure_id,
            )
        except Invalid as error:
            return Template(
                "territories.html",
                context={
                    "actor": actor,
                    "items": await all_territories(),
                    "errors": error.errors,
                    "values": dict(form.items()),
                },
                status_code=400,
            )
        return Redirect(f"/territoires/{territory_id}")

    @get("/{territory_id:uuid}")
    async def show(
        self,
        territory_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        domaine: FromQuery[str] = "housing",
        sans: FromQuery[str] = "",
    ) -> Template:
        domain = _domain(domaine)
        inputs = await cov.load_inputs(territory_id)
        cells = cov.compute(inputs)
        in_domain = [c for c in cells if c.domain == domain]
        names = {c.insee: c.name for c in inputs.communes}
        worse: list[Any] = []
        if sans:
            worse = cov.worsened(inputs, {sans})
        providers = sorted(
            {p for c in cells for p in c.providers}, key=lambda p: inputs.names.get(p, p)
        )
        return Template(
            "coverage.html",
            context={
                "actor": actor,
                "t": inputs.territory,
                "domain": domain,
                "cells": in_domain,
                "names": names,
                "partners": inputs.names,
                "svg": cov.map_svg(inputs, cells, domain),
                "summary": cov.summary(cells),
                "holes": cov.holes(cells),
                "unmet": await cov.unmet_searches(inputs.territory),
                "worse": worse,
                "without": sans,
                "providers": providers,
                "class_labels": cov.CLASS_LABELS,
                "reason_labels": cov.REASON_LABELS,
                "population": {c.insee: c.population for c in inputs.communes},
            },
        )

    @get("/{territory_id:uuid}/export/{fmt:str}")
    async def export(
        self, territory_id: FromPath[UUID], fmt: FromPath[str], domaine: FromQuery[str] = "housing"
    ) -> Response:
        inputs = await cov.load_inputs(territory_id)
        return export_response(inputs, cov.compute(inputs), fmt, _domain(domaine))
