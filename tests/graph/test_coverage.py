"""Territorial coverage on hand-made territories whose answer can be checked on paper, and
against a naive all-pairs computation on random ones."""

from __future__ import annotations

import json
import math
import random

import pytest
from geopy.distance import EARTH_RADIUS, great_circle

from graph.coverage import (
    CommunePoint,
    CoverageCell,
    Fragility,
    ProviderService,
    ProviderSite,
    coverage,
    distance_km,
    population_summary,
    to_csv_rows,
    to_geojson,
    what_if,
    worst_holes,
)

# A territory on the meridian 5°E: commune k sits k × 10 km north of 45°N, so distances
# along the line are exact multiples of 10 km.
LAT0, LON = 45.0, 5.0


def lat_at(km: float) -> float:
    return LAT0 + math.degrees(km / EARTH_RADIUS)


def commune(k: int, population: int = 1000, epci: str = "E1", dep: str = "38") -> CommunePoint:
    return CommunePoint(
        insee=f"3800{k}",
        name=f"Commune {k}",
        lat=lat_at(10.0 * k),
        lon=LON,
        population=population,
        epci=epci,
        departement=dep,
    )


def on_site(
    sid: str, domains: str = "housing", at_km: tuple[float, ...] = (), zone: tuple[str, ...] = ()
) -> ProviderService:
    return ProviderService(
        structure_id=sid,
        domains=frozenset(domains.split()),
        on_site=True,
        remote=False,
        zone=frozenset(zone),
        sites=tuple(ProviderSite(sid, lat_at(km), LON) for km in at_km),
    )


def remote(sid: str, domains: str = "housing", zone: tuple[str, ...] = ()) -> ProviderService:
    return ProviderService(
        structure_id=sid,
        domains=frozenset(domains.split()),
        on_site=False,
        remote=True,
        zone=frozenset(zone),
        sites=(),
    )


# C0..C4 at 0, 10, 20, 30, 40 km; C0, C1 in EPCI E1, C2, C3 in E2, C4 in E3 (département 26).
LINE = [
    commune(0, 100, "E1"),
    commune(1, 200, "E1"),
    commune(2, 300, "E2"),
    commune(3, 400, "E2"),
    commune(4, 500, "E3", dep="26"),
]


def by_key(cells: list[CoverageCell]) -> dict[tuple[str, str], CoverageCell]:
    return {(cell.insee, cell.domain): cell for cell in cells}


def reached(cells: list[CoverageCell], domain: str = "housing") -> dict[str, tuple[str, ...]]:
    return {cell.insee: cell.providers for cell in cells if cell.domain == domain}


def test_distance_is_geopys_great_circle() -> None:
    a, b = (LINE[0].lat, LINE[0].lon), (48.8566, 2.3522)
    assert distance_km(a, b) == pytest.approx(great_circle(a, b).km, rel=1e-12)
    assert distance_km(a, (LINE[3].lat, LINE[3].lon)) == pytest.approx(30.0, abs=1e-9)


def test_reach_by_distance_just_inside_and_just_outside() -> None:
    # One site at 24.99 km: C1 at 14.99 km (in), C4 at 15.01 km (out), C0 at 24.99 (out).
    cells = coverage(LINE, [on_site("S", at_km=(24.99,))], {"housing": 15}, ["housing"])
    assert reached(cells) == {
        "38000": (),
        "38001": ("S",),
        "38002": ("S",),
        "38003": ("S",),
        "38004": (),
    }


def test_reach_per_domain_and_default() -> None:
    services = [on_site("S", "housing health mobility", at_km=(24.99,))]
    cells = coverage(
        LINE,
        services,
        {"housing": 15, "health": 30},
        ["housing", "health", "mobility"],
        default_reach_km=5.5,
    )
    assert [i for i, p in reached(cells, "health").items() if p] == [c.insee for c in LINE]
    assert [i for i, p in reached(cells, "mobility").items() if p] == ["38002", "38003"]
    # The cells come commune by commune, domains in the order asked.
    assert [(c.insee, c.domain) for c in cells[:3]] == [
        ("38000", "housing"),
        ("38000", "health"),
        ("38000", "mobility"),
    ]


def test_several_sites_count_the_structure_once() -> None:
    cells = coverage(LINE, [on_site("S", at_km=(0.0, 1.0, 40.0))], {"housing": 15}, ["housing"])
    assert reached(cells) == {
        "38000": ("S",),
        "38001": ("S",),
        "38002": (),
        "38003": ("S",),
        "38004": ("S",),
    }


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (("38003",), ["38003"]),
        (("E2",), ["38002", "38003"]),
        (("26",), ["38004"]),
        (("38",), ["38000", "38001", "38002", "38003"]),
        (("france",), ["38000", "38001", "38002", "38003", "38004"]),
        (("E1", "38004"), ["38000", "38001", "38004"]),
    ],
)
def test_eligibility_zone_covers_commune_epci_departement_france(
    zone: tuple[str, ...], expected: list[str]
) -> None:
    # No site at all: only the zone brings the service to the commune.
    cells = coverage(LINE, [on_site("Z", zone=zone)], {}, ["housing"])
    assert [insee for insee, providers in reached(cells).items() if providers] == expected


def test_zone_or_site_either_one_reaches() -> None:
    services = [on_site("S", at_km=(0.0,), zone=("E3",))]
    cells = coverage(LINE, services, {"housing": 15}, ["housing"])
    assert [i for i, p in reached(cells).items() if p] == ["38000", "38001", "38004"]


def test_remote_services_listed_apart_and_not_counted() -> None:
    services = [
        remote("R_any"),  # no zone stated: offered to every commune
        remote("R_e2", zone=("E2",)),
        remote("R_other", "health"),
        on_site("S", at_km=(40.0,)),
        # Both on site and remote: a provider where its site reaches, remote everywhere.
        ProviderService(
            "B",
            frozenset({"housing"}),
            True,
            True,
            frozenset(),
            (ProviderSite("B", lat_at(0.0), LON),),
        ),
    ]
    cells = by_key(coverage(LINE, services, {"housing": 15}, ["housing"]))
    c0, c2, c4 = cells["38000", "housing"], cells["38002", "housing"], cells["38004", "housing"]
    assert (c0.providers, c0.remote) == (("B",), ("B", "R_any"))
    assert (c2.providers, c2.remote, c2.klass) == ((), ("B", "R_any", "R_e2"), "gap")
    assert (c4.providers, c4.remote) == (("S",), ("B", "R_any"))


def test_classes_gap_fragile_covered() -> None:
    services = [
        on_site("A", "housing", at_km=(0.0,)),
        on_site("B", "housing", at_km=(0.0,)),
        on_site("A", "health", at_km=(0.0,)),
        on_site("P1", "sport", at_km=(0.0,)),
        on_site("P2", "sport", at_km=(0.0,)),
        on_site("U1", "culture", at_km=(0.0,)),
        on_site("X1", "culture", at_km=(0.0,)),
        on_site("U2", "leisure", at_km=(0.0,)),
        on_site("U3", "leisure", at_km=(0.0,)),
        on_site("P1", "rights", at_km=(0.0,)),
    ]
    fragility = Fragility(
        single_person=frozenset({"P1", "P2"}),
        expired_convention=frozenset({"X1"}),
        unresponsive=frozenset({"U1", "U2", "U3"}),
    )
    domains = ["housing", "health", "sport", "culture", "leisure", "rights", "mobility"]
    cells = by_key(coverage(LINE[:1], services, {}, domains, fragility))
    got = {
        domain: (cells["38000", domain].klass, cells["38000", domain].reasons) for domain in domains
    }
    assert got == {
        "housing": ("covered", ()),  # two solid partners
        "health": ("fragile", ("one_partner",)),
        "sport": ("fragile", ("single_person",)),  # all partners rest on one person
        "culture": ("fragile", ("expired_convention", "unresponsive")),
        "leisure": ("fragile", ("unresponsive",)),
        "rights": ("fragile", ("one_partner", "single_person")),
        "mobility": ("gap", ()),
    }


def test_one_solid_partner_among_fragile_ones_covers() -> None:
    services = [on_site("P", at_km=(0.0,)), on_site("Q", at_km=(0.0,))]
    cells = coverage(LINE[:1], services, {}, ["housing"], Fragility(single_person=frozenset({"P"})))
    assert cells[0].klass == "covered"


def test_what_if_a_partner_closes() -> None:
    services = [
        on_site("ONLY", "health", at_km=(0.0,)),
        on_site("A", "housing", at_km=(40.0,)),
        on_site("B", "housing", at_km=(40.0,)),
        on_site("C", "housing", at_km=(0.0,)),
    ]
    args = (LINE, services, {"housing": 15, "health": 15}, ["housing", "health"])
    pairs = what_if(*args, without={"ONLY"})
    assert [(b.insee, b.klass, a.klass) for b, a in pairs] == [
        ("38000", "fragile", "gap"),
        ("38001", "fragile", "gap"),
    ]
    pairs = what_if(*args, without={"A"})
    assert [(b.insee, b.domain, b.klass, a.klass, a.providers) for b, a in pairs] == [
        ("38003", "housing", "covered", "fragile", ("B",)),
        ("38004", "housing", "covered", "fragile", ("B",)),
    ]
    # Nothing changes for a structure that reaches no one.
    assert what_if(*args, without={"nobody"}) == []


def test_what_if_a_person_leaves() -> None:
    services = [on_site("A", at_km=(0.0,)), on_site("B", at_km=(0.0,))]
    before_fragility = Fragility(single_person=frozenset({"A"}))
    # The person B's partnership rested on leaves: B rests on one person too, now.
    after_fragility = Fragility(single_person=frozenset({"A", "B"}))
    args = (LINE, services, {}, ["housing"], before_fragility)
    before = coverage(*args)
    pairs = what_if(*args, fragility_after=after_fragility, before=before)
    assert [(b.insee, b.klass, a.klass, a.reasons) for b, a in pairs] == [
        ("38000", "covered", "fragile", ("single_person",)),
        ("38001", "covered", "fragile", ("single_person",)),
    ]


def test_population_summary_and_worst_holes() -> None:
    services = [
        on_site("A", "housing", at_km=(40.0,)),  # reaches C3, C4
        on_site("B", "housing", at_km=(40.0,)),
        on_site("H", "health", at_km=(0.0,)),  # reaches C0, C1
    ]
    cells = coverage(LINE, services, {}, ["housing", "health"])
    assert population_summary(cells) == {
        "housing": {"gap": 600, "fragile": 0, "unknown": 0, "covered": 900},
        "health": {"gap": 1200, "fragile": 300, "unknown": 0, "covered": 0},
    }
    holes = worst_holes(cells)
    assert [(c.klass, c.insee, c.domain) for c in holes] == [
        ("gap", "38004", "health"),
        ("gap", "38003", "health"),
        ("gap", "38002", "health"),
        ("gap", "38002", "housing"),
        ("gap", "38001", "housing"),
        ("gap", "38000", "housing"),
        ("fragile", "38001", "health"),
        ("fragile", "38000", "health"),
    ]
    assert worst_holes(cells, limit=2) == holes[:2]


def test_unknown_contacts_are_missing_data_not_fragility() -> None:
    """Partners nobody knows a contact of leave the cell "unknown" when its class hangs on
    them; a known, sound partner beside them still covers it."""
    at_c0 = (0.0,)
    services = [on_site(s, at_km=at_c0) for s in ("U1", "U2", "S", "F")]
    unknown = frozenset({"U1", "U2"})

    def klass(*structures: str) -> tuple[str, tuple[str, ...]]:
        chosen = [service for service in services if service.structure_id in structures]
        fragility = Fragility(single_person=frozenset({"F"}), unknown_contact=unknown)
        cell = coverage(LINE[:1], chosen, {}, ["housing"], fragility)[0]
        return cell.klass, cell.reasons

    assert klass("U1") == ("unknown", ("unknown_contact",))
    assert klass("U1", "U2") == ("unknown", ("unknown_contact",))
    assert klass("U1", "F") == ("unknown", ("unknown_contact",))  # F fragile, U1 might not be
    assert klass("U1", "S") == ("covered", ())
    assert klass("F") == ("fragile", ("one_partner", "single_person"))
    assert klass("S") == ("fragile", ("one_partner",))


def test_worst_holes_weigh_population_and_follow_the_domain() -> None:
    town = commune(0, 64_458)
    village = commune(1, 25)
    services = [on_site("A", "mobility", at_km=(0.0,))]  # reaches the town only (10 km reach)
    cells = coverage([town, village], services, {"mobility": 5.0}, ["mobility", "sport"])
    holes = worst_holes(cells, domain="mobility")
    # The town, with one partner, before the village with none.
    assert [(c.insee, c.klass) for c in holes] == [("38000", "fragile"), ("38001", "gap")]
    assert {c.domain for c in worst_holes(cells, domain="sport")} == {"sport"}


def test_geojson_and_csv() -> None:
    services = [on_site("A", "housing", at_km=(0.0,)), remote("R")]
    cells = coverage(LINE[:2], services, {}, ["housing", "health"])
    outline = {"type": "Polygon", "coordinates": [[[5, 45], [5.1, 45], [5.1, 45.1], [5, 45]]]}
    collection = to_geojson(cells, {"38001": outline}, "housing", communes=LINE)
    json.dumps(collection)  # plain JSON
    assert collection["type"] == "FeatureCollection"
    first, second = collection["features"]
    assert first["type"] == "Feature"
    assert first["geometry"] == {"type": "Point", "coordinates": [LON, LINE[0].lat]}
    assert second["geometry"] == outline
    assert first["properties"] == {
        "insee": "38000",
        "name": "Commune 0",
        "domain": "housing",
        "class": "fragile",
        "population": 100,
        "providers": 1,
        "remote": 1,
        "reasons": ["one_partner"],
        "provider_ids": ["A"],
        "remote_ids": ["R"],
    }
    assert to_geojson(cells, None, "health")["features"][0]["geometry"] is None
    rows = to_csv_rows(cells)
    assert len(rows) == 4
    assert rows[0] == {
        "insee": "38000",
        "domain": "housing",
        "population": 100,
        "class": "fragile",
        "providers": 1,
        "remote": 1,
        "reasons": "one_partner",
        "provider_ids": "A",
        "remote_ids": "R",
    }


def test_progress_counts_every_commune() -> None:
    seen: list[int] = []
    coverage(LINE, [], {}, ["housing"], progress=seen.append)
    assert sum(seen) == len(LINE)


def test_bad_reach_names_the_domain() -> None:
    with pytest.raises(ValueError, match="health"):
        coverage(LINE, [], {"health": 0}, ["health"])
    assert coverage(LINE, [], {}, []) == []


# --------------------------------------------------------------------------- naive check


def naive(
    communes: list[CommunePoint],
    services: list[ProviderService],
    reach_km: dict[str, float],
    domains: list[str],
    fragility: Fragility,
) -> list[tuple]:
    fragile_reasons = {
        "single_person": fragility.single_person,
        "expired_convention": fragility.expired_convention,
        "unresponsive": fragility.unresponsive,
    }
    out = []
    for c in communes:
        codes = {c.insee, c.epci, c.departement, "france"}
        for domain in domains:
            reach = reach_km.get(domain, 15.0)
            providers, remotes = set(), set()
            for s in services:
                if domain not in s.domains:
                    continue
                if s.on_site and (
                    s.zone & codes
                    or any(
                        great_circle((c.lat, c.lon), (p.lat, p.lon)).km <= reach for p in s.sites
                    )
                ):
                    providers.add(s.structure_id)
                if s.remote and (not s.zone or s.zone & codes):
                    remotes.add(s.structure_id)
            frag = [p for p in providers if any(p in ids for ids in fragile_reasons.values())]
            if not providers:
                klass, reasons = "gap", ()
            elif len(providers) == 1 or len(frag) == len(providers):
                klass = "fragile"
                reasons = (("one_partner",) if len(providers) == 1 else ()) + tuple(
                    name for name, ids in fragile_reasons.items() if ids & providers
                )
            else:
                klass, reasons = "covered", ()
            out.append(
                (
                    c.insee,
                    domain,
                    c.population,
                    tuple(sorted(providers)),
                    tuple(sorted(remotes)),
                    klass,
                    reasons,
                )
            )
    return out


def random_territory(
    rng: random.Random, communes: int, structures: int, box: tuple[float, float, float, float]
) -> tuple[list[CommunePoint], list[ProviderService]]:
    south, north, west, east = box
    points = [
        CommunePoint(
            insee=f"{k:05d}",
            name=f"C{k}",
            lat=rng.uniform(south, north),
            lon=rng.uniform(west, east),
            population=rng.randint(0, 5000),
            epci=f"E{k % 17}",
            departement=f"D{k % 5}",
        )
        for k in range(communes)
    ]
    domains = ["housing", "health", "sport"]
    services = []
    for n in range(structures):
        sid = f"S{n:04d}"
        sites = tuple(
            ProviderSite(sid, rng.uniform(south, north), rng.uniform(west, east))
            for _ in range(rng.choice((1, 1, 2)))
        )
        for _ in range(rng.choice((1, 2))):
            zone: frozenset[str] = frozenset()
            if rng.random() < 0.15:
                code = rng.choices(
                    [
                        f"E{rng.randrange(17)}",
                        f"D{rng.randrange(5)}",
                        f"{rng.randrange(communes):05d}",
                        "france",
                    ],
                    weights=[4, 1, 4, 0.1],
                )[0]
                zone = frozenset({code})
            kind = rng.random()
            services.append(
                ProviderService(
                    structure_id=sid,
                    domains=frozenset(rng.sample(domains, rng.choice((1, 2)))),
                    on_site=kind < 0.9,
                    remote=kind > 0.85,
                    zone=zone,
                    sites=sites if kind < 0.9 else (),
                )
            )
    return points, services


def as_tuples(cells: list[CoverageCell]) -> list[tuple]:
    return [
        (c.insee, c.domain, c.population, c.providers, c.remote, c.klass, c.reasons) for c in cells
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_equals_naive_all_pairs_on_a_random_territory(seed: int) -> None:
    rng = random.Random(seed)
    # About a région: 4° × 5° around the Alps.
    communes, services = random_territory(rng, 200, 300, (43.0, 47.0, 3.0, 8.0))
    ids = sorted({s.structure_id for s in services})
    fragility = Fragility(
        single_person=frozenset(rng.sample(ids, 60)),
        expired_convention=frozenset(rng.sample(ids, 30)),
        unresponsive=frozenset(rng.sample(ids, 30)),
    )
    reach = {"housing": 15.0, "health": 30.0, "sport": 7.5}
    domains = ["housing", "health", "sport"]
    got = as_tuples(coverage(communes, services, reach, domains, fragility))
    assert got == naive(communes, services, reach, domains, fragility)
    assert {t[5] for t in got} == {"gap", "fragile", "covered"}


def test_equals_naive_across_the_antimeridian_the_poles_and_huge_reaches() -> None:
    rng = random.Random(7)
    communes, services = random_territory(rng, 120, 150, (-89.9, 89.9, -180.0, 180.0))
    reach = {"housing": 900.0, "health": 4000.0, "sport": 25000.0}
    domains = ["housing", "health", "sport"]
    fragility = Fragility()
    got = as_tuples(coverage(communes, services, reach, domains, fragility))
    assert got == naive(communes, services, reach, domains, fragility)
    # Near the date line and near a pole, with an ordinary reach.
    line = [
        CommunePoint("A", "A", 10.0, 179.95, 1, "", ""),
        CommunePoint("B", "B", 89.99, 0.0, 1, "", ""),
    ]
    near = [
        ProviderService(
            "W",
            frozenset({"housing"}),
            True,
            False,
            frozenset(),
            (ProviderSite("W", 10.0, -179.95),),
        ),
        ProviderService(
            "P",
            frozenset({"housing"}),
            True,
            False,
            frozenset(),
            (ProviderSite("P", 89.99, 180.0),),
        ),
    ]
    cells = coverage(line, near, {"housing": 15.0}, ["housing"])
    assert [c.providers for c in cells] == [("W",), ("P",)]


def test_cells_name_their_providers_sorted_and_read_as_plain_values() -> None:
    # Providers are kept as numbers until read: the ids still come out sorted, and a cell
    # compares, hashes, prints and converts to a dict by the same seven fields.
    services = [on_site(s, at_km=(0.0,)) for s in ("Z", "A", "M")]
    first, again = (coverage(LINE[:1], services, {}, ["housing"])[0] for _ in range(2))
    assert first.providers == ("A", "M", "Z")
    assert first.as_dict() == {
        "insee": "38000",
        "domain": "housing",
        "population": first.population,
        "providers": ("A", "M", "Z"),
        "remote": (),
        "klass": "covered",
        "reasons": (),
    }
    assert first == again and hash(first) == hash(again)
    assert repr(first).startswith("CoverageCell(insee='38000', domain='housing'")
