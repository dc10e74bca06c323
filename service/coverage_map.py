"""The gap map a coordinator can explore: one domain's communes as GeoJSON (class, partners
and why, for the map's panel), the partners' sites as markers, the what-if limited to the
structures and people serving that domain, and numbers written the French way. Built apart
from HTTP so that the page, the API and the tests read the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from babel.numbers import format_decimal, format_percent

from directory.errors import Invalid
from directory.outlines import outlines_for
from directory.tables import Person
from directory.text import fold
from directory.vocabulary import Domain
from graph.coverage import CoverageCell, coverage
from service import coverage as cov

LOCALE = "fr_FR"
# Reasons a single partner may carry, shown beside its name in the commune's panel.
_PARTNER_NOTES = (
    ("single_person", "repose sur une seule personne"),
    ("expired_convention", "convention expirée"),
    ("unresponsive", "orientations sans réponse"),
    ("unknown_contact", "aucune personne connue"),
)
CLASS_ORDER = {"gap": 0, "fragile": 1, "unknown": 2, "covered": 3}


def number(value: float) -> str:
    """64458 -> « 64 458 », as a French reader expects it."""
    return format_decimal(value, locale=LOCALE)


def percent(part: float, whole: float) -> str:
    """The share of `whole` that `part` is, « 12,5 % »; « 0 % » of nothing."""
    share = part / whole if whole else 0.0
    return format_percent(share, locale=LOCALE, format="#,##0.#\u00a0%")


def parse_domain(value: str, field: str = "domaine") -> str:
    """A domain code from a query parameter (its code or its French label); empty means
    housing, the first gap people ask about; anything else is refused, naming it."""
    if not value:
        return Domain.HOUSING.value
    by_name = {d.value: d.value for d in Domain} | {fold(d.label): d.value for d in Domain}
    domain = by_name.get(value) or by_name.get(fold(value))
    if domain is None:
        known = ", ".join(d.value for d in Domain)
        raise Invalid({field: f"Domaine inconnu : « {value} ». Domaines possibles : {known}."})
    return domain


def domain_label(domain: str) -> str:
    return Domain(domain).label


def why(cell: CoverageCell, reach_km: float) -> str:
    """One French sentence: why this commune is a gap, fragile, unknown or covered."""
    if cell.klass == "gap":
        return (
            f"Aucun partenaire n'accueille à moins de {number(reach_km)} km à vol d'oiseau, "
            "et aucune zone d'intervention ne couvre la commune."
        )
    if cell.klass == "unknown":
        return (
            "Contact inconnu : aucune personne n'est connue chez les partenaires à portée. "
            "La couverture ne peut pas être jugée tant qu'un contact manque."
        )
    if cell.klass == "fragile":
        reasons = ", ".join(cov.REASON_LABELS[r] for r in cell.reasons)
        return f"Fragile : {reasons}."
    return (
        f"Couverte : {number(len(cell.providers))} partenaires à portée, "
        "dont au moins un sans fragilité connue."
    )


def _partner_notes(inputs: cov.Inputs, structure_id: str) -> list[str]:
    fragility = inputs.fragility
    sets = {
        "single_person": fragility.single_person,
        "expired_convention": fragility.expired_convention,
        "unresponsive": fragility.unresponsive,
        "unknown_contact": fragility.unknown_contact,
    }
    return [label for key, label in _PARTNER_NOTES if structure_id in sets[key]]


def partner_links(inputs: cov.Inputs, ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """The partners of a cell, by name, each with its page and what we know is fragile."""
    partners = [
        {
            "id": structure_id,
            "name": inputs.names.get(structure_id, structure_id),
            "url": f"/structures/{structure_id}",
            "notes": _partner_notes(inputs, structure_id),
        }
        for structure_id in ids
    ]
    return sorted(partners, key=lambda p: fold(p["name"]))


def communes_geojson(inputs: cov.Inputs, cells: list[CoverageCell], domain: str) -> dict[str, Any]:
    """One feature per commune of the territory for `domain`: its outline (or its point),
    and what the map's tooltip and panel say of it. Partners are named once, in the
    collection's `partners` (id -> name, page, notes), and by id in each feature, sorted
    by name: a partner reaching 60 communes would otherwise be written 60 times."""
    outlines = outlines_for(c.insee for c in inputs.communes)
    points = {c.insee: c for c in inputs.communes}
    reach = float(inputs.territory.reach_km.get(domain, 15.0))
    features = []
    partners: dict[str, dict[str, Any]] = {}
    for cell in cells:
        if cell.domain != domain or cell.insee not in points:
            continue
        links = partner_links(inputs, cell.providers)
        for link in links:
            partners.setdefault(link["id"], {k: v for k, v in link.items() if k != "id"})
        commune = points[cell.insee]
        geometry = outlines.get(cell.insee) or {
            "type": "Point",
            "coordinates": [commune.lon, commune.lat],
        }
        features.append(
            {
                "type": "Feature",
                "id": cell.insee,
                "geometry": geometry,
                "properties": {
                    "code": cell.insee,
                    "name": commune.name,
                    "population": cell.population,
                    "population_label": number(cell.population),
                    "class": cell.klass,
                    "class_label": cov.CLASS_LABELS[cell.klass],
                    "reasons": [cov.REASON_LABELS[r] for r in cell.reasons],
                    "why": why(cell, reach),
                    "partners": [link["id"] for link in links],
                    "remote": len(cell.remote),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features, "partners": partners}


def sites_geojson(inputs: cov.Inputs, cells: list[CoverageCell], domain: str) -> dict[str, Any]:
    """The sites where the partners reaching the territory for `domain` receive people."""
    reaching = {p for cell in cells if cell.domain == domain for p in cell.providers}
    seen: set[tuple[str, float, float]] = set()
    features: list[dict[str, Any]] = []
    for service in inputs.services:
        if service.structure_id not in reaching or domain not in service.domains:
            continue
        if not service.on_site:
            continue
        for site in service.sites:
            key = (service.structure_id, site.lat, site.lon)
            if key in seen:
                continue
            seen.add(key)
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [site.lon, site.lat]},
                    "properties": {
                        "id": service.structure_id,
                        "name": inputs.names.get(service.structure_id, ""),
                        "url": f"/structures/{service.structure_id}",
                    },
                }
            )
    features.sort(key=lambda f: fold(f["properties"]["name"]))
    return {"type": "FeatureCollection", "features": features}


async def map_layer(territory_id: UUID, domain: str, layer: str) -> dict[str, Any]:
    """The communes or the sites layer of the map, for one domain: like the coverage page
    and its exports, for every signed-in member of staff (an advisor looks for the holes
    too)."""
    domain = parse_domain(domain, "domain")
    inputs = await cov.load_inputs(territory_id)
    cells = cov.compute(inputs, [domain])
    if layer == "communes":
        return communes_geojson(inputs, cells, domain)
    return sites_geojson(inputs, cells, domain)


# --------------------------------------------------------------------------- what if


@dataclass(frozen=True)
class Choice:
    value: str  # "structure:<id>" or "personne:<id>"
    label: str


async def what_if_choices(
    inputs: cov.Inputs, cells: list[CoverageCell], domain: str
) -> tuple[list[Choice], list[Choice]]:
    """The structures that reach the territory for `domain`, and the active people of those
    structures: only they can change this domain's map by leaving."""
    reaching = sorted(
        {p for cell in cells if cell.domain == domain for p in cell.providers},
        key=lambda p: fold(inputs.names.get(p) or p),
    )
    structures = [Choice(f"structure:{p}", inputs.names.get(p) or p) for p in reaching]
    people: list[Choice] = []
    if reaching:
        rows = await Person.select(
            Person.id, Person.first_name, Person.last_name, Person.structure
        ).where(
            Person.structure.is_in([UUID(p) for p in reaching]) & (Person.active == True)  # noqa: E712
        )
        people = sorted(
            (
                Choice(
                    f"personne:{row['id']}",
                    f"{row['first_name']} {row['last_name']} "
                    f"({inputs.names.get(str(row['structure']), '')})",
                )
                for row in rows
            ),
            key=lambda c: fold(c.label),
        )
    return structures, people


def parse_without(value: str) -> tuple[str, UUID | None]:
    """« structure:<id> » or « personne:<id> » (a bare id is a structure) -> (structure id,
    person id); refused with a clear message otherwise."""
    kind, _, raw = value.partition(":") if ":" in value else ("structure", "", value)
    try:
        identifier = UUID(raw)
    except ValueError:
        raise Invalid({"sans": f"Choix illisible : « {value} »."}) from None
    if kind == "structure":
        return str(identifier), None
    if kind == "personne":
        return "", identifier
    raise Invalid({"sans": f"Choix illisible : « {value} »."})


@dataclass(frozen=True)
class Change:
    insee: str
    name: str
    population: str
    before: str
    after: str
    partners_before: int
    partners_after: int
    worse: bool


async def changes(
    inputs: cov.Inputs, cells: list[CoverageCell], domain: str, value: str
) -> list[Change]:
    """What this domain's map loses when a structure closes or a person leaves: every
    commune that loses a partner or whose class worsens, the worse first, then the most
    populated."""
    structure, person = parse_without(value)
    fragility = await cov.fragility_if_person_leaves(inputs, person) if person else inputs.fragility
    before = [c for c in cells if c.domain == domain]
    after = coverage(
        inputs.communes,
        [s for s in inputs.services if s.structure_id != structure],
        inputs.territory.reach_km,
        [domain],
        fragility,
    )
    names = {c.insee: c.name for c in inputs.communes}
    found = [
        (old, new)
        for old, new in zip(before, after, strict=True)
        if len(new.providers) < len(old.providers)
        or CLASS_ORDER[new.klass] < CLASS_ORDER[old.klass]
    ]
    found.sort(key=lambda p: (CLASS_ORDER[p[1].klass] >= CLASS_ORDER[p[0].klass], -p[0].population))
    return [
        Change(
            insee=old.insee,
            name=names.get(old.insee, old.insee),
            population=number(old.population),
            before=cov.CLASS_LABELS[old.klass],
            after=cov.CLASS_LABELS[new.klass],
            partners_before=len(old.providers),
            partners_after=len(new.providers),
            worse=CLASS_ORDER[new.klass] < CLASS_ORDER[old.klass],
        )
        for old, new in found
    ]


def choice_label(value: str, choices: list[Choice]) -> str:
    return next((c.label for c in choices if c.value == value), value)
