"""Time and peak memory of every `graph/` analysis at 1k, 10k and 100k structures.

Generates plain records (no database): 3 people per structure, ~2 relationships, ~0.4
conventions (some with three parties) and ~4.5 referral flows per structure, so that the
national size (100,000 structures) has 300,000 people and about 1,000,000 edges. Structures
are grouped in territories of about 150, like the areas of Missions Locales, and most links
stay inside a territory.

Memory is the process's peak resident set size during each step (VmHWM from
/proc/self/status, reset before each step by writing 5 to /proc/self/clear_refs), and its
increase over the resident size before the step. Where /proc cannot be reset, it falls
back to resource.getrusage's ru_maxrss, which is the peak since the start. With
--tracemalloc it reports instead the peak of Python allocations per step (slower).

    python benchmarks/graph_analyses.py                   # 1k, 10k, 100k
    python benchmarks/graph_analyses.py --sizes 1000,5000
    python benchmarks/graph_analyses.py --sizes 100000 --analyses-only   # no exports, no picture

After each size it prints the total of build_graph and the analyses (every step but
generating the records, the exports and the picture) and the highest peak among them.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402

from graph import analyses, export, layout  # noqa: E402
from graph.network import build_graph, structure_ids  # noqa: E402
from graph.records import (  # noqa: E402
    LEVELS,
    ConventionEdge,
    PersonNode,
    ReferralFlow,
    RelationshipEdge,
    ServiceCoverage,
    StructureNode,
)

DOMAINS = (
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
)
KINDS = ("mission_locale", "association", "public_service", "employer", "training", "elected")
TERRITORY = 150
TODAY = date(2026, 6, 1)
PICTURE_MAX = 1_500


class Records:
    def __init__(self) -> None:
        self.structures: list[StructureNode] = []
        self.people: list[PersonNode] = []
        self.relationships: list[RelationshipEdge] = []
        self.conventions: list[ConventionEdge] = []
        self.flows: list[ReferralFlow] = []
        self.coverages: list[ServiceCoverage] = []


def generate(n: int, seed: int) -> Records:
    """Plain records for n structures; the same n and seed give the same records."""
    rng = random.Random(seed)
    r = Records()
    territories = max(1, n // TERRITORY)
    communes_per_territory = max(3, round(35_000 * min(n, 100_000) / 100_000 / territories))

    def territory_of(i: int) -> int:
        return min(i // TERRITORY, territories - 1)

    def commune(t: int) -> str:
        return f"{t:04d}{rng.randrange(communes_per_territory):03d}"

    def same_territory(i: int) -> int:
        t = territory_of(i)
        low = t * TERRITORY
        high = n if t == territories - 1 else low + TERRITORY
        j = rng.randrange(low, high)
        return j if j != i else (j + 1 - low) % (high - low) + low

    def partner_of(i: int) -> int:
        # Most links stay in the territory; a few cross to anywhere (regional bodies).
        return same_territory(i) if rng.random() < 0.92 else rng.randrange(n)

    for i in range(n):
        t = territory_of(i)
        domains = frozenset(rng.sample(DOMAINS, rng.choice((1, 1, 2, 2, 3))))
        communes = frozenset(commune(t) for _ in range(rng.choice((1, 1, 2))))
        r.structures.append(
            StructureNode(
                id=f"s{i}",
                name=f"Structure {i}",
                kind=rng.choice(KINDS),
                network="",
                domains=domains,
                communes=communes,
                status="active" if rng.random() < 0.97 else "suspended",
            )
        )
        for p in range(3):
            r.people.append(
                PersonNode(f"p{i}.{p}", f"s{i}", f"Personne {i}.{p}", rng.random() < 0.9)
            )
        for domain in sorted(domains):
            served = set(communes) | {commune(t) for _ in range(rng.randrange(2, 8))}
            r.coverages.append(ServiceCoverage(f"s{i}", domain, frozenset(served)))
    if n < 2:
        return r

    for i in range(n):
        for _ in range(2 if rng.random() < 0.9 else rng.choice((0, 4))):
            j = partner_of(i)
            if j == i:
                continue
            to_person = rng.random() < 0.25
            r.relationships.append(
                RelationshipEdge(
                    id=f"r{len(r.relationships)}",
                    source=f"s{i}",
                    target=f"p{j}.{rng.randrange(3)}" if to_person else f"s{j}",
                    target_is_person=to_person,
                    level=rng.choices(LEVELS, weights=(6, 3, 1))[0],
                    kind="partnership",
                )
            )
    for c in range(int(n * 0.4)):
        i = rng.randrange(n)
        parties = {i, partner_of(i)}
        if rng.random() < 0.15:
            parties.add(partner_of(i))
        if len(parties) < 2:
            continue
        ordered = tuple(f"s{x}" for x in sorted(parties))
        referents = tuple(
            f"p{x}.{k}" for x in sorted(parties) for k in range(rng.choice((1, 1, 2)))
        )
        end = TODAY + timedelta(days=rng.randrange(-200, 900))
        status = (
            "expired" if end < TODAY else ("expiring" if (end - TODAY).days <= 90 else "active")
        )
        r.conventions.append(
            ConventionEdge(
                id=f"c{c}",
                structures=ordered,
                level=rng.choices(LEVELS, weights=(5, 4, 1))[0],
                domains=frozenset(rng.sample(DOMAINS, 2)),
                status=status if rng.random() < 0.95 else "draft",
                end=end,
                referents=referents,
                title=f"Convention {c}",
            )
        )
    for _ in range(int(n * 4.5)):
        i = rng.randrange(n)
        j = partner_of(i)
        if j == i:
            continue
        count = rng.randrange(1, 30)
        r.flows.append(ReferralFlow(f"s{i}", f"s{j}", count, rng.randrange(0, count // 3 + 1)))
    return r


# --- measuring ---------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _can_reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        _status_kb("VmHWM")
        return True
    except OSError:
        return False


class Meter:
    def __init__(self, use_tracemalloc: bool) -> None:
        self.tracemalloc = use_tracemalloc
        self.proc = not use_tracemalloc and _can_reset_peak()
        if self.tracemalloc:
            self.unit = "Python heap peak (tracemalloc)"
        elif self.proc:
            self.unit = "peak RSS of the process (VmHWM, reset before each step)"
        else:
            self.unit = "peak RSS since start (ru_maxrss; cannot be reset here)"

    def run(self, fn: Callable[[], Any]) -> tuple[Any, float, float, float]:
        """Result, seconds, peak MB, MB added over the step's starting point."""
        gc.collect()
        if self.tracemalloc:
            tracemalloc.start()
            start = time.perf_counter()
            result = fn()
            seconds = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            return result, seconds, peak / 2**20, peak / 2**20
        if self.proc:
            Path("/proc/self/clear_refs").write_text("5")
            before = _status_kb("VmRSS")
            start = time.perf_counter()
            result = fn()
            seconds = time.perf_counter() - start
            peak = _status_kb("VmHWM")
            return result, seconds, peak / 1024, (peak - before) / 1024
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return result, seconds, peak / 1024, (peak - before) / 1024


def _summary(result: Any) -> str:
    if isinstance(result, nx.MultiDiGraph):
        return f"{result.number_of_nodes():,} nodes, {result.number_of_edges():,} edges"
    if isinstance(result, analyses.Silos):
        return f"{len(result.isolated):,} isolated, {len(result.groups):,} groups"
    if isinstance(result, analyses.Brokers):
        how = f"sampled k={result.k}" if result.approximate else "exact"
        return f"{how}, {len(result.ranking):,} ranked"
    if isinstance(result, analyses.LevelBalance):
        return f"{result.overall.total:,} relationships, {len(result.by_domain)} domains"
    if isinstance(result, bytes | str):
        return f"{len(result) / 2**20:.1f} MB"
    if isinstance(result, tuple | list):
        return f"{len(result):,} rows"
    return str(result)


# Steps that are not analyses: the records' generation, the exports and the picture.
NOT_ANALYSES = ("generate records", "to_csv_rows", "export ", "draw_svg")


def bench(
    n: int, seed: int, meter: Meter, analyses_only: bool = False
) -> list[tuple[str, float, float, float, str]]:
    rows: list[tuple[str, float, float, float, str]] = []

    def step(name: str, fn: Callable[[], Any]) -> Any:
        result, seconds, peak, added = meter.run(fn)
        rows.append((name, seconds, peak, added, _summary(result)))
        print(
            f"  {n:>7,}  {name:<34} {seconds:8.2f} s  {peak:8.0f} MB  {added:+8.0f} MB", flush=True
        )
        return result

    records = step("generate records", lambda: generate(n, seed))
    edges_in = (
        len(records.relationships)
        + len(records.people)
        + sum(len(c.structures) * (len(c.structures) - 1) // 2 for c in records.conventions)
        + len(records.flows)
    )
    rows[-1] = (*rows[-1][:4], f"{len(records.people):,} people, {edges_in:,} edge records")
    g = step(
        "build_graph",
        lambda: build_graph(
            records.structures,
            records.people,
            records.relationships,
            records.conventions,
            records.flows,
        ),
    )
    silos = step("silos", lambda: analyses.silos(g))
    brokers = step("brokers", lambda: analyses.brokers(g, seed=seed))
    dependencies = step(
        "single_person_dependencies", lambda: analyses.single_person_dependencies(g)
    )
    people = [p.id for p in records.people[:: max(1, len(records.people) // 100)]][:100]
    step(
        f"what_if_person_leaves ×{len(people)}",
        lambda: [analyses.what_if_person_leaves(g, p) for p in people],
    )
    sole = step("sole_providers", lambda: analyses.sole_providers(records.coverages))
    without = step(
        "relationships_without_convention", lambda: analyses.relationships_without_convention(g)
    )
    expiring = step(
        "conventions_expiring", lambda: analyses.conventions_expiring(records.conventions, TODAY)
    )
    unanswered = step(
        "unanswered_partners", lambda: analyses.unanswered_partners(records.flows, 0.3)
    )
    balance = step("level_balance", lambda: analyses.level_balance(g, records.structures))
    step(
        "filter_graph(operational, housing)",
        lambda: analyses.filter_graph(g, levels=["operational"], domains=["housing"]),
    )
    total_analyses(n, rows)
    if analyses_only:
        return rows
    step(
        "to_csv_rows (every table)",
        lambda: sum(
            len(export.to_csv_rows(r))
            for r in (silos, brokers, dependencies, sole, without, expiring, unanswered, balance)
        ),
    )
    step("export GraphML", lambda: export.graphml_bytes(g))
    step("export GEXF", lambda: export.gexf_bytes(g))
    step("export node-link JSON", lambda: json.dumps(export.node_link(g)))
    shown = set(structure_ids(g)[:PICTURE_MAX])
    territory = g.subgraph(
        [x for x, d in g.nodes(data=True) if x in shown or d.get("structure_id") in shown]
    )
    top = [b.structure.id for b in brokers.ranking if b.structure.id in shown][:25]
    step(
        f"draw_svg ({len(shown):,} structures)",
        lambda: layout.draw_svg(territory, label_ids=top, seed=seed),
    )
    return rows


def total_analyses(n: int, rows: list[tuple[str, float, float, float, str]]) -> None:
    """Print build_graph plus every analysis: the figure the national goal is set on."""
    steps = [row for row in rows if not row[0].startswith(NOT_ANALYSES)]
    seconds = sum(row[1] for row in steps)
    peak = max(row[2] for row in steps)
    print(
        f"  {n:>7,}  {'TOTAL build_graph + analyses':<34} {seconds:8.2f} s  {peak:8.0f} MB"
        f"  (highest peak; {len(steps)} steps)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument(
        "--analyses-only", action="store_true", help="skip the exports and the picture"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    meter = Meter(args.tracemalloc)
    print(
        f"graph analyses benchmark · python {platform.python_version()} · networkx "
        f"{nx.__version__} · {os.cpu_count()} cores · {platform.machine()}"
    )
    print(f"memory: {meter.unit}")
    print(
        f"brokers: exact up to {analyses.EXACT_MAX_STRUCTURES:,} structures, "
        f"else sampled betweenness with k={analyses.DEFAULT_SAMPLES} sources"
    )
    print()
    results = {n: bench(n, args.seed, meter, args.analyses_only) for n in sizes}
    print()
    print("| structures | step | time (s) | peak (MB) | added (MB) | result |")
    print("|---:|---|---:|---:|---:|---|")
    for n, rows in results.items():
        for name, seconds, peak, added, summary in rows:
            print(f"| {n:,} | {name} | {seconds:.2f} | {peak:.0f} | {added:+.0f} | {summary} |")


if __name__ == "__main__":
    main()
