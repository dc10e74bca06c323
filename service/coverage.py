"""Territorial coverage: reads the territory, its communes and the partners that may reach
them, hands plain records to graph.coverage, and prepares what the page, the API and
`maillage gaps` show. A partner is fragile when it rests on one person (one active person
in the directory), when its conventions with the territory's Mission Locale have all ended,
or when most of its referrals go unanswered. A partner without any active person is not
fragile but unknown: its contacts are missing data (say, just imported), to be found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from conventions.store import read_many as read_conventions
from directory import demand
from directory.gazetteer import load_gazetteer
from directory.outlines import outlines_for
from directory.tables import Person, SearchRecord, Service, Site, Structure
from directory.territories import TerritoryRead
from directory.territories import get as get_territory
from directory.vocabulary import Domain
from graph.coverage import (
    CommunePoint,
    CoverageCell,
    Fragility,
    ProviderService,
    ProviderSite,
    coverage,
    population_summary,
    what_if,
    worst_holes,
)
from graph.mapsvg import MapCommune, MapMarker, draw_map
from service.referrals.machine import Status
from service.referrals.tables import Referral

LEGEND = [
    ("gap", "Aucun partenaire à portée"),
    ("fragile", "Un seul partenaire, ou des partenaires fragiles"),
    ("unknown", "Contact inconnu : partenaires sans personne connue"),
    ("covered", "Couverte"),
    ("marker", "Lieu d'accueil d'un partenaire"),
]
CLASS_LABELS = {
    "gap": "aucun partenaire",
    "fragile": "fragile",
    "unknown": "contact inconnu",
    "covered": "couverte",
}
REASON_LABELS = {
    "one_partner": "un seul partenaire",
    "single_person": "repose sur une seule personne",
    "expired_convention": "convention expirée",
    "unresponsive": "orientations sans réponse",
    "unknown_contact": "aucune personne connue chez ce partenaire",
}


@dataclass
class Inputs:
    territory: TerritoryRead
    communes: list[CommunePoint]
    services: list[ProviderService]
    fragility: Fragility
    names: dict[str, str]


async def load_inputs(territory_id: UUID) -> Inputs:
    territory = await get_territory(territory_id)
    gazetteer = load_gazetteer()
    communes = [
        CommunePoint(c.insee, c.name, c.lat, c.lon, c.population, c.epci, c.departement)
        for code in territory.communes
        if (c := gazetteer.get(code))
    ]
    structures = {
        s["id"]: s["name"]
        for s in await Structure.select(Structure.id, Structure.name).where(
            Structure.status == "active"
        )
    }
    sites_of: dict[Any, list[dict[str, Any]]] = {}
    for site in await Site.select(Site.id, Site.structure, Site.lat, Site.lon).where(
        Site.lat.is_not_null()
    ):
        sites_of.setdefault(site["structure"], []).append(site)
    services = []
    for row in await Service.select(
        Service.structure,
        Service.site,
        Service.domains,
        Service.on_site,
        Service.remote,
        Service.zone,
    ):
        if row["structure"] not in structures:
            continue
        sites = [
            s
            for s in sites_of.get(row["structure"], [])
            if row["site"] is None or s["id"] == row["site"]
        ]
        services.append(
            ProviderService(
                structure_id=str(row["structure"]),
                domains=frozenset(row["domains"]),
                on_site=row["on_site"],
                remote=row["remote"],
                zone=frozenset(row["zone"]),
                sites=tuple(ProviderSite(str(row["structure"]), s["lat"], s["lon"]) for s in sites),
            )
        )
    return Inputs(
        territory,
        communes,
        services,
        await _fragility(territory),
        {str(k): v for k, v in structures.items()},
    )


async def _fragility(territory: TerritoryRead) -> Fragility:
    people: dict[Any, int] = {}
    for p in await Person.select(Person.structure).where(Person.active == True):  # noqa: E712
        people[p["structure"]] = people.get(p["structure"], 0) + 1
    structures = [s["id"] for s in await Structure.select(Structure.id)]
    single = frozenset(str(s) for s in structures if people.get(s, 0) == 1)
    unknown = frozenset(str(s) for s in structures if people.get(s, 0) == 0)
    expired: set[str] = set()
    if territory.structure_id is not None:
        in_force: set[str] = set()
        ended: set[str] = set()
        for convention in await read_conventions(structure_id=territory.structure_id):
            others = {str(p.structure_id) for p in convention.parties} - {
                str(territory.structure_id)
            }
            (in_force if convention.status.in_force else ended).update(others)
        expired = ended - in_force
    answered: dict[Any, list[int]] = {}
    for r in await Referral.select(Referral.to_structure, Referral.status, Referral.answered_at):
        counts = answered.setdefault(r["to_structure"], [0, 0])
        counts[0] += 1
        counts[1] += int(r["status"] == Status.EXPIRED.value)
    unresponsive = frozenset(
        str(s) for s, (total, lost) in answered.items() if total >= 2 and lost * 2 >= total
    )
    return Fragility(single, frozenset(expired), unresponsive, unknown)


def compute(
    inputs: Inputs, domains: list[str] | None = None, progress: Callable[[int], None] | None = None
) -> list[CoverageCell]:
    return coverage(
        inputs.communes,
        inputs.services,
        inputs.territory.reach_km,
        domains or [d.value for d in Domain],
        inputs.fragility,
        progress=progress,
    )


def worsened(
    inputs: Inputs,
    without: set[str],
    domains: list[str] | None = None,
    fragility_after: Fragility | None = None,
) -> list[tuple[CoverageCell, CoverageCell]]:
    return what_if(
        inputs.communes,
        inputs.services,
        inputs.territory.reach_km,
        domains or [d.value for d in Domain],
        inputs.fragility,
        without=without,
        fragility_after=fragility_after,
    )


async def fragility_if_person_leaves(inputs: Inputs, person_id: UUID) -> Fragility:
    """A person leaving: their structure then rests on one person, or on nobody (a known
    loss, so fragile, not unknown)."""
    person = await Person.select(Person.structure).where(Person.id == person_id).first()
    if person is None:
        return inputs.fragility
    remaining = await Person.count().where(
        (Person.structure == person["structure"])
        & (Person.active == True)  # noqa: E712
        & (Person.id != person_id)
    )
    single = set(inputs.fragility.single_person)
    if remaining <= 1:
        single.add(str(person["structure"]))
    return Fragility(
        frozenset(single),
        inputs.fragility.expired_convention,
        inputs.fragility.unresponsive,
        inputs.fragility.unknown_contact,
    )


async def unmet_searches(territory: TerritoryRead) -> list[dict[str, Any]]:
    """Searches from the directory that found nothing, per commune and domain."""
    await demand.flush()  # this process's latest searches count at once
    rows = await SearchRecord.select(SearchRecord.commune, SearchRecord.domains).where(
        SearchRecord.commune.is_in(territory.communes or ["-"]) & (SearchRecord.results == 0)
    )
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        for domain in row["domains"] or ["*"]:
            counts[(row["commune"], domain)] = counts.get((row["commune"], domain), 0) + 1
    gazetteer = load_gazetteer()
    return sorted(
        (
            {
                "insee": c,
                "commune": getattr(gazetteer.get(c), "name", c),
                "domain": d,
                "searches": n,
            }
            for (c, d), n in counts.items()
        ),
        key=lambda r: (-r["searches"], r["commune"]),
    )


def summary(cells: list[CoverageCell]) -> dict[str, dict[str, int]]:
    return population_summary(cells)


def holes(
    cells: list[CoverageCell], limit: int = 20, domain: str | None = None
) -> list[CoverageCell]:
    return worst_holes(cells, limit, domain)


def map_svg(inputs: Inputs, cells: list[CoverageCell], domain: str, standalone: bool = True) -> str:
    outlines = outlines_for(c.insee for c in inputs.communes)
    names = {c.insee: c.name for c in inputs.communes}
    features = [
        MapCommune(
            insee=cell.insee,
            name=names.get(cell.insee, cell.insee),
            geometry=outlines[cell.insee],
            klass=cell.klass,
            label=f"{CLASS_LABELS[cell.klass]}, {len(cell.providers)} partenaire(s)",
        )
        for cell in cells
        if cell.domain == domain and cell.insee in outlines
    ]
    providers = {p for cell in cells if cell.domain == domain for p in cell.providers}
    markers = [
        MapMarker(site.lat, site.lon, inputs.names.get(service.structure_id, ""))
        for service in inputs.services
        if service.structure_id in providers and domain in service.domains
        for site in service.sites
    ]
    label = Domain(domain).label if domain in Domain.__members__.values() else domain
    return draw_map(
        features,
        markers,
        title=f"Couverture « {label} » — {inputs.territory.name}",
        legend=LEGEND,
        standalone=standalone,
    )
