"""The fast search against a brute-force search written plainly, on random small directories
in the real database: every service read, every distance computed with
directory.geo.distance_km, nearest first then by service id, totals and remote list alike.
The search is called in process (directory.search.search) so that each example stays cheap:
the HTTP layer around it is covered by test_search.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import hypothesis
from hypothesis import strategies as st

from directory.gazetteer import load_gazetteer
from directory.geo import distance_km
from directory.search import SearchFilters, resolve_need, search
from directory.tables import Relationship, Service, Site, Structure
from directory.vocabulary import Domain, Level, StructureStatus
from tests import factories as f

# Drôme and Ardèche: a few km to 100 km apart, two départements, one EPCI.
COMMUNES = ["26362", "26058", "26281", "26108", "26198", "26113", "07186"]
ZONES = ["26362", "26", "07", "200068781", "france"]
NAMES = ["Accueil", "Aide", "Bus"]  # few names: ties ordered by id
DOMAINS = [Domain.HOUSING, Domain.HEALTH]


@dataclass
class ServiceSpec:
    name: str
    domains: list[Domain]
    on_site: bool
    remote: bool
    zone: list[str]
    unconditional: bool
    site: int | None  # index into the structure's sites, None: all its sites


@dataclass
class StructureSpec:
    status: StructureStatus
    sites: list[str]
    services: list[ServiceSpec]
    level: Level | None  # its partnership with the viewer's structure


services = st.builds(
    ServiceSpec,
    name=st.sampled_from(NAMES),
    domains=st.lists(st.sampled_from(DOMAINS), min_size=1, max_size=2, unique=True),
    on_site=st.booleans(),
    remote=st.booleans(),
    zone=st.lists(st.sampled_from(ZONES), max_size=2, unique=True),
    unconditional=st.booleans(),
    site=st.one_of(st.none(), st.integers(0, 2)),
)
structures = st.builds(
    StructureSpec,
    status=st.sampled_from([StructureStatus.ACTIVE] * 3 + [StructureStatus.CLOSED]),
    sites=st.lists(st.sampled_from(COMMUNES), max_size=3),
    services=st.lists(services, max_size=3),
    level=st.one_of(st.none(), st.sampled_from(list(Level))),
)


@dataclass
class Query:
    commune: str
    radius_km: float
    domain: Domain | None
    level: Level | None
    on_site_only: bool
    unconditional_only: bool
    page: int
    page_size: int


queries = st.builds(
    Query,
    commune=st.sampled_from(COMMUNES),
    radius_km=st.sampled_from([1.0, 5.0, 15.0, 30.0, 60.0]),
    domain=st.one_of(st.none(), st.sampled_from(DOMAINS)),
    level=st.one_of(st.none(), st.sampled_from(list(Level))),
    on_site_only=st.booleans(),
    unconditional_only=st.booleans(),
    page=st.integers(1, 3),
    page_size=st.integers(1, 4),
)


async def _build(directory: list[StructureSpec]) -> UUID:
    viewer = await f.structure("Mission locale")
    for spec in directory:
        structure_id = await f.structure(status=spec.status)
        site_ids = [await f.site(structure_id, commune=commune) for commune in spec.sites]
        for service in spec.services:
            on_site = service.on_site or not service.remote
            site_id = (
                site_ids[service.site]
                if service.site is not None and service.site < len(site_ids) and on_site
                else None
            )
            await f.service(
                structure_id,
                service.name,
                tuple(service.domains),
                on_site=on_site,
                remote=service.remote,
                zone=service.zone,
                unconditional=service.unconditional,
                site_id=site_id,
            )
        if spec.level is not None:
            await f.relationship(viewer, structure_id, spec.level)
    return viewer


async def _brute_force(query: Query, viewer: UUID) -> dict[str, Any]:
    """Every service, every distance: what the search must answer."""
    commune = load_gazetteer().get(query.commune)
    assert commune is not None
    origin = (commune.lat, commune.lon)
    zone_codes = {commune.insee, commune.departement, commune.epci, "france"}
    active = {
        s["id"] for s in await Structure.select() if s["status"] == StructureStatus.ACTIVE.value
    }
    sites = await Site.select()
    levels: dict[UUID, set[str]] = {}
    for r in await Relationship.select():
        if viewer not in (r["source"], r["target_structure"]):
            continue
        other = r["target_structure"] if r["source"] == viewer else r["source"]
        levels.setdefault(other, set()).add(r["level"])

    def matches(service: dict[str, Any]) -> bool:
        return (
            service["structure"] in active
            and (query.domain is None or query.domain.value in service["domains"])
            and (not query.unconditional_only or service["unconditional"])
            and (query.level is None or query.level.value in levels.get(service["structure"], ()))
        )

    near: list[tuple[float, str, set[UUID], bool, bool]] = []
    remote: list[tuple[str, str]] = []
    for service in await Service.select():
        if not matches(service):
            continue
        covers = bool(zone_codes & set(service["zone"])) or (
            service["remote"] and not service["zone"]
        )
        own_sites = [
            s
            for s in sites
            if s["structure"] == service["structure"]
            and (service["site"] is None or service["site"] == s["id"])
            and s["lat"] is not None
        ]
        distances = {s["id"]: distance_km(origin, (s["lat"], s["lon"])) for s in own_sites}
        via_zone = bool(zone_codes & set(service["zone"]))
        if service["on_site"] and distances:
            nearest = min(distances.values())
            if nearest <= query.radius_km or via_zone:
                closest = {site for site, d in distances.items() if d == nearest}
                near.append(
                    (nearest, str(service["id"]), closest, nearest <= query.radius_km, via_zone)
                )
                continue
        if service["remote"] and covers:
            remote.append((service["name"], str(service["id"])))
    near.sort(key=lambda n: (n[0], n[1]))
    remote.sort()
    if query.on_site_only:
        remote = []
    start = (query.page - 1) * query.page_size
    return {
        "page": near[start : start + query.page_size],
        "total": len(near),
        "within_total": sum(1 for n in near if n[3]),
        "remote_total": len(remote),
        "remote": [UUID(r[1]) for r in remote[: query.page_size]],
    }


async def _check(directory: list[StructureSpec], query: Query) -> None:
    # Sites, services, their keys and relationships go with their structures (cascade):
    # much cheaper per example than emptying every table.
    await Structure.delete(force=True)
    viewer = await _build(directory)
    commune = load_gazetteer().get(query.commune)
    assert commune is not None
    need = resolve_need("", [query.domain] if query.domain else [])
    filters = SearchFilters(
        level=query.level,
        on_site_only=query.on_site_only,
        unconditional_only=query.unconditional_only,
    )
    found = await search(
        commune,
        need,
        radius_km=query.radius_km,
        filters=filters,
        page=query.page,
        page_size=query.page_size,
        viewer_structure=viewer,
    )
    expected = await _brute_force(query, viewer)
    assert (found.total, found.within_total, found.beyond_total) == (
        expected["total"],
        expected["within_total"],
        expected["total"] - expected["within_total"],
    )
    assert [h.service_id for h in found.items] == [UUID(n[1]) for n in expected["page"]]
    for hit, (distance, _, closest, within, via_zone) in zip(
        found.items, expected["page"], strict=True
    ):
        assert hit.distance_km == round(distance, 1)
        assert hit.site_id in closest
        assert (hit.within_radius, hit.via_zone) == (within, via_zone)
    assert found.remote_total == expected["remote_total"]
    assert [h.service_id for h in found.remote] == expected["remote"]


@hypothesis.settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
@hypothesis.given(directory=st.lists(structures, min_size=1, max_size=6), query=queries)
def test_search_agrees_with_brute_force(
    database_url: str, directory: list[StructureSpec], query: Query
) -> None:
    asyncio.run(_check(directory, query))
