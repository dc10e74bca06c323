"""The partner network through the API: analyses as JSON, the graph and every table."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery

from directory.errors import NotFound
from graph.analyses import what_if_person_leaves
from graph.export import to_csv_rows
from graph.network import PERSON
from service.departures import LostContact, lost_contacts
from service.network import graph_of, load_records, report
from service.network_findings import explorer_data
from service.web.network import _filters, _table, coordinators_only, csv_response, graph_response


class NetworkController(Controller):
    path = "/network"
    tags = ("Réseau",)

    # Lost contacts stay open to every account, as before: a partner checks its own
    # services. The analyses of the whole mesh are the coordination's (guarded below).
    @get(
        "/lost-contacts",
        summary="Services and conventions whose named contact or referent has left",
        description="Optionally limited to `structure_id` (repeatable).",
    )
    async def lost(self, structure_id: FromQuery[list[UUID] | None] = None) -> list[LostContact]:
        return await lost_contacts(structure_id)

    @get(
        "/",
        guards=[coordinators_only],
        summary="Silos, brokers, single-person dependencies, sole providers and more",
    )
    async def analyses(self, request: Request) -> dict[str, Any]:
        levels, domains = _filters(request)
        result = await report(levels, domains)
        return {
            "filters": {"levels": levels, "domains": domains},
            "brokers_method": result.brokers.method,
            "silos": result.silos,
            "brokers": result.brokers.ranking,
            "single_person_dependencies": result.dependencies,
            "unknown_contacts": result.unknown_contacts,
            "sole_providers": result.sole_providers,
            "relationships_without_convention": result.without_convention,
            "conventions_expiring": result.expiring,
            "unanswered_partners": result.unanswered,
            "level_balance": result.balance,
        }

    @get(
        "/people/{person_id:uuid}/leaving",
        guards=[coordinators_only],
        summary="What if this person left: partnerships and conventions losing their last person",
    )
    async def leaving(self, person_id: FromPath[UUID]) -> Any:
        graph = graph_of(await load_records())
        if graph.nodes.get(str(person_id), {}).get("type") != PERSON:
            raise NotFound("Personne")
        return what_if_person_leaves(graph, str(person_id))

    @get(
        "/graph/{fmt:str}",
        guards=[coordinators_only],
        summary="The network as GraphML, GEXF (Gephi) or node-link JSON",
    )
    async def graph(self, fmt: FromPath[str], request: Request) -> Response:
        levels, domains = _filters(request)
        return graph_response(await report(levels, domains), fmt)

    @get(
        "/tables/{name:str}",
        guards=[coordinators_only],
        summary="One analysis as CSV (silos, brokers, dependencies…)",
    )
    async def table(self, name: FromPath[str], request: Request) -> Response:
        levels, domains = _filters(request)
        name = name.removesuffix(".csv")
        return csv_response(to_csv_rows(_table(await report(levels, domains), name)), f"{name}.csv")

    @get(
        "/explorer",
        guards=[coordinators_only],
        summary="Structures and their links, one edge per pair, for the network explorer",
        description="Filters: `level` and `domain` (repeatable); an unknown value is a 400.",
    )
    async def explorer(self, request: Request) -> dict[str, Any]:
        levels, domains = _filters(request)
        return await explorer_data(levels, domains)
