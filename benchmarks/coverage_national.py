"""National territorial coverage: every commune × the eleven domains against 100,000
structures, with `graph.coverage.coverage`, and a naive all-pairs baseline on a sample.

Communes are the real gazetteer's (about 35,000, with their EPCI, département and
population). Structures are generated from a seed, placed in communes weighted by
population (a few km around the commune's centre): 1–2 sites, 1–3 services of 1–2 domains,
about 15 % of services with an eligibility zone (70 % their EPCI, 10 % their
département, 20 % their commune; "france" only for some remote ones), about 5 % remote;
10 % of structures rest on one person, 5 % have an expired convention, 5 % are
unresponsive. Reach: 15 km, 30 km for health.

Memory is the process's peak resident set size during the step (VmHWM from
/proc/self/status, reset before the step by writing 5 to /proc/self/clear_refs), and its
increase over the resident size before the step; where /proc cannot be reset, the peak
since start (ru_maxrss).

The baseline compares each sampled commune with every site (same great-circle formula,
no geopy objects, each site computed once for all its domains), checks that it finds the
same providers as the indexed computation, and extrapolates its time to all communes.

    python benchmarks/coverage_national.py
    python benchmarks/coverage_national.py --structures 20000 --naive-sample 100
"""

from __future__ import annotations

import argparse
import gc
import math
import platform
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from directory.gazetteer import load_gazetteer  # noqa: E402
from graph.coverage import (  # noqa: E402
    CommunePoint,
    Fragility,
    ProviderService,
    ProviderSite,
    _great_circle_km,
    coverage,
    population_summary,
    worst_holes,
)

DOMAINS = [
    "employment",
    "career",
    "citizenship",
    "training",
    "health",
    "housing",
    "rights",
    "leisure",
    "sport",
    "culture",
    "mobility",
]
REACH = {"health": 30.0}
DEFAULT_REACH = 15.0


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(field)


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float, float, str]:
    """Result, seconds, peak MB, MB added, how memory was measured."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
        before = _status_kb("VmRSS")
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        peak = _status_kb("VmHWM")
        how = "VmHWM, reset before the step"
    except OSError:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        how = "ru_maxrss, peak since start"
    return result, seconds, peak / 1024, (peak - before) / 1024, how


def generate(
    communes: list[CommunePoint], structures: int, seed: int
) -> tuple[list[ProviderService], Fragility]:
    rng = random.Random(seed)
    weights = [max(c.population, 1) for c in communes]
    homes = rng.choices(communes, weights=weights, k=structures)
    epcis = sorted({c.epci for c in communes if c.epci})
    deps = sorted({c.departement for c in communes})
    services: list[ProviderService] = []
    single, expired, unresponsive = set(), set(), set()
    for n, home in enumerate(homes):
        sid = f"s{n:06d}"
        sites = []
        for k in range(rng.choice((1, 1, 2))):
            at = home if k == 0 else rng.choices(communes, weights=weights)[0]
            # A few km around the commune centre.
            lat = at.lat + rng.uniform(-0.02, 0.02)
            lon = at.lon + rng.uniform(-0.03, 0.03)
            sites.append(ProviderSite(sid, lat, lon))
        for _ in range(rng.choice((1, 2, 3))):
            zone: frozenset[str] = frozenset()
            if rng.random() < 0.15:
                pick = rng.random()
                if pick < 0.7:
                    zone = frozenset({home.epci or home.departement})
                elif pick < 0.8:
                    zone = frozenset({home.departement})
                else:
                    zone = frozenset({home.insee})
            is_remote = rng.random() < 0.05
            if is_remote and rng.random() < 0.1:
                zone = frozenset({rng.choice(["france", rng.choice(epcis), rng.choice(deps)])})
            services.append(
                ProviderService(
                    structure_id=sid,
                    domains=frozenset(rng.sample(DOMAINS, rng.choice((1, 1, 2)))),
                    on_site=not is_remote or rng.random() < 0.3,
                    remote=is_remote,
                    zone=zone,
                    sites=tuple(sites),
                )
            )
        draw = rng.random()
        if draw < 0.10:
            single.add(sid)
        elif draw < 0.15:
            expired.add(sid)
        elif draw < 0.20:
            unresponsive.add(sid)
    return services, Fragility(frozenset(single), frozenset(expired), frozenset(unresponsive))


def naive(
    sample: list[CommunePoint], services: list[ProviderService]
) -> dict[tuple[str, str], set[str]]:
    """Every sampled commune against every site, and zones by set intersection."""
    site_domains: dict[tuple[str, float, float], set[str]] = {}
    zoned: list[tuple[frozenset[str], str, frozenset[str]]] = []
    for service in services:
        if not service.on_site:
            continue
        for site in service.sites:
            key = (service.structure_id, site.lat, site.lon)
            site_domains.setdefault(key, set()).update(service.domains)
        if service.zone:
            zoned.append((service.zone, service.structure_id, service.domains))
    sites = [
        (sid, math.radians(lat), math.radians(lon), domains)
        for (sid, lat, lon), domains in site_domains.items()
    ]
    result: dict[tuple[str, str], set[str]] = {}
    for c in sample:
        found: dict[str, set[str]] = {domain: set() for domain in DOMAINS}
        lat, lon = math.radians(c.lat), math.radians(c.lon)
        for sid, site_lat, site_lon, domains in sites:
            d = _great_circle_km(lat, lon, site_lat, site_lon)
            for domain in domains:
                if d <= REACH.get(domain, DEFAULT_REACH):
                    found[domain].add(sid)
        codes = {c.insee, c.epci, c.departement, "france"}
        for zone, sid, zone_domains in zoned:
            if zone & codes:
                for domain in zone_domains:
                    found[domain].add(sid)
        for domain, ids in found.items():
            result[c.insee, domain] = ids
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--structures", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    gazetteer = load_gazetteer()
    communes = [
        CommunePoint(c.insee, c.name, c.lat, c.lon, c.population, c.epci, c.departement)
        for c in gazetteer
    ]
    services, fragility = generate(communes, args.structures, args.seed)
    sites = sum(len(s.sites) for s in {s.structure_id: s for s in services}.values())
    print(
        f"# coverage_national: {len(communes):,} communes × {len(DOMAINS)} domains, "
        f"{args.structures:,} structures, {sites:,} sites, {len(services):,} services "
        f"({sum(1 for s in services if s.zone):,} with a zone, "
        f"{sum(1 for s in services if s.remote):,} remote); generated in "
        f"{time.perf_counter() - start:.1f} s"
    )
    print(f"# {platform.python_implementation()} {platform.python_version()}, {platform.machine()}")

    cells, seconds, peak, added, how = measure(
        lambda: coverage(communes, services, REACH, DOMAINS, fragility, DEFAULT_REACH)
    )
    print(
        f"indexed coverage: {seconds:.2f} s, peak RSS {peak:,.0f} MB (+{added:,.0f} MB for "
        f"the step; {how}); {len(cells):,} cells"
    )
    # Cells name their providers on first read; a caller that reads them all pays this.
    links, named_seconds, peak, added, how = measure(
        lambda: sum(len(cell.providers) for cell in cells)
    )
    print(
        f"  reading every cell's providers (named on first read): {named_seconds:.2f} s, "
        f"peak RSS {peak:,.0f} MB ({added:+,.0f} MB); {links:,} commune-domain-provider links; "
        f"coverage + every name: {seconds + named_seconds:.2f} s"
    )
    summary = population_summary(cells)
    total = sum(summary["housing"].values())
    for domain in ("housing", "health"):
        shares = ", ".join(
            f"{klass} {count / total:.1%}" for klass, count in summary[domain].items()
        )
        print(f"  {domain}: inhabitants {shares}")
    worst = worst_holes(cells, limit=3)
    print(
        "  worst holes: "
        + "; ".join(f"{c.klass} {c.insee} {c.domain} ({c.population:,} inh.)" for c in worst)
    )

    rng = random.Random(args.seed)
    sample = rng.sample(communes, min(args.naive_sample, len(communes)))
    expected, naive_seconds, *_ = measure(lambda: naive(sample, services))
    per_commune = naive_seconds / len(sample)
    print(
        f"naive all-pairs on {len(sample)} communes: {naive_seconds:.2f} s "
        f"({per_commune * 1000:.0f} ms per commune), extrapolated to {len(communes):,} "
        f"communes: {per_commune * len(communes):,.0f} s "
        f"(×{per_commune * len(communes) / seconds:,.0f} the indexed time)"
    )
    got = {(c.insee, c.domain): set(c.providers) for c in cells}
    mismatches = [key for key, ids in expected.items() if got[key] != ids]
    print(f"  indexed == naive on the sample: {not mismatches} ({len(expected):,} cells compared)")
    if mismatches:
        sys.exit(f"mismatch on {mismatches[:5]}")


if __name__ == "__main__":
    main()
