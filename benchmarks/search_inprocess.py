"""Partner search in process (no HTTP): median time of `directory.search.search()` for fixed
places — a dense city, a medium town, a rural commune — at 15 and 50 km.

It builds the national benchmark directory with the generator of search_national.py (same
`--structures`, `--seed`), or measures a kept one given with --database-url as it is.
Run it on the code before and after a change, against the same database, alternating, and
compare the figures it prints:

    python benchmarks/search_inprocess.py --engine postgres --keep      # prints the URL
    python benchmarks/search_inprocess.py --database-url postgresql://...  --runs 7
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_national import DEFAULT_PG_ADMIN_URL, generate, open_database

from directory.gazetteer import load_gazetteer
from directory.search import resolve_need, search
from directory.tables import Structure
from service import db

PLACES = {
    "Paris (75056)": "75056",
    "Valence (26362)": "26362",
    "Die (26113)": "26113",
}
RADII_KM = (15, 50)
# No need stated reads every service around the place: the heaviest search; a domain is
# the usual one.
NEEDS = ("", "logement")


async def measure(runs: int) -> None:
    gazetteer = load_gazetteer()
    viewer = (
        await Structure.select(Structure.id)
        .where(Structure.network == "mission-locale")
        .order_by(Structure.id)
        .first()
    )
    viewer_id = viewer and viewer["id"]
    print(
        f"{'place':<18} {'need':<10} {'km':>3} {'median ms':>10} {'min ms':>8} "
        f"{'total':>7} {'remote':>7}"
    )
    for label, insee in PLACES.items():
        commune = gazetteer.get(insee)
        assert commune is not None, insee
        for need_text in NEEDS:
            need = resolve_need(need_text)
            for radius in RADII_KM:
                times = []
                result = None
                for _ in range(runs + 1):  # the first run warms the caches, not counted
                    started = time.perf_counter()
                    result = await search(
                        commune, need, radius_km=radius, viewer_structure=viewer_id
                    )
                    times.append((time.perf_counter() - started) * 1000)
                assert result is not None
                print(
                    f"{label:<18} {need_text or '-':<10} {radius:>3} "
                    f"{statistics.median(times[1:]):>10.1f} {min(times[1:]):>8.1f} "
                    f"{result.total:>7} {result.remote_total:>7}",
                    flush=True,
                )


async def run(args: argparse.Namespace) -> None:
    database = await open_database(args)
    engine = db.use_database(database.url)
    pooled = database.engine == "postgres"
    try:
        await db.migrate()
        if await Structure.count() == 0:
            seconds = await generate(args.structures, args.seed)
            print(f"Generation: {seconds:.1f} s")
            if pooled:
                await engine.run_ddl("ANALYZE")
        if args.keep:
            print(f"Database kept: {database.url}")
        if pooled:
            await engine.start_connection_pool(min_size=1, max_size=4)  # type: ignore[attr-defined]
        try:
            await measure(args.runs)
        finally:
            if pooled:
                await engine.close_connection_pool()  # type: ignore[attr-defined]
    finally:
        if database.cleanup is not None:
            await database.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--structures", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--runs", type=int, default=5, help="timed searches per figure")
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--database-url", default="", help="measure this database as it is")
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database created")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
