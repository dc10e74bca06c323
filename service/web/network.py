"""The coordinator's network page and its exports (also under the API)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Template

from directory.csv_cells import rows_to_csv
from directory.errors import Forbidden, NotFound
from graph.export import gexf_bytes, graphml_bytes, node_link, to_csv_rows
from service.accounts.store import Actor
from service.network import TABLES, NetworkReport, report
from service.network_findings import page_context, parse_filters


def coordinators_only(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    """The network names people across every partner and says who the mesh rests on:
    it is the coordination's working view, not a partner's."""
    actor = connection.user
    if not isinstance(actor, Actor) or not actor.can_edit_directory:
        raise Forbidden(
            "Seuls les coordinateurs et administrateurs consultent l'analyse du réseau."
        )


def _filters(request: Request) -> tuple[list[str], list[str]]:
    """?level=…&domain=… (repeatable); an unknown value is a 400 naming it."""
    return parse_filters(
        request.query_params.getall("level", []), request.query_params.getall("domain", [])
    )


def _table(result: NetworkReport, name: str) -> Any:
    if name not in TABLES:
        raise NotFound("Tableau")
    return getattr(result, name)


def csv_response(rows: list[dict[str, Any]], filename: str) -> Response:
    return Response(
        rows_to_csv(rows).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def graph_response(result: NetworkReport, fmt: str) -> Response:
    if fmt == "graphml":
        return Response(
            graphml_bytes(result.graph),
            media_type="application/graphml+xml",
            headers={"Content-Disposition": 'attachment; filename="reseau.graphml"'},
        )
    if fmt == "gexf":
        return Response(
            gexf_bytes(result.graph),
            media_type="application/gexf+xml",
            headers={"Content-Disposition": 'attachment; filename="reseau.gexf"'},
        )
    if fmt == "json":
        return Response(node_link(result.graph), media_type="application/json")
    raise NotFound("Format")


class NetworkPage(Controller):
    path = "/reseau"
    include_in_schema = False
    guards = (coordinators_only,)

    @get("/")
    async def page(self, request: Request, actor: NamedDependency[Actor]) -> Template:
        levels, domains = _filters(request)
        context = await page_context(levels, domains, request.url.query)
        return Template("network.html", context={"actor": actor, **context})

    @get("/export/{fmt:str}")
    async def export(self, fmt: FromPath[str], request: Request) -> Response:
        levels, domains = _filters(request)
        return graph_response(await report(levels, domains), fmt)

    @get("/tableaux/{name:str}")
    async def table(self, name: FromPath[str], request: Request) -> Response:
        levels, domains = _filters(request)
        name = name.removesuffix(".csv")
        result = await report(levels, domains)
        return csv_response(to_csv_rows(_table(result, name)), f"{name}.csv")
