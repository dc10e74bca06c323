"""How fast the duplicates review page answers at national scale, through HTTP.

1. Builds the seeded national directory of benchmarks/duplicates_quality.py (structures
   over the real communes weighted by population, with true duplicates, network sites
   and homonyms) and loads it into a fresh database: one site per structure.
2. Starts `maillage serve` on it (a real server, benchmarks/search_national.py), signs a
   coordinator in and times GET /structures/doublons:
   - first view of a département (the matcher runs: nothing cached for that scope), for
     several départements, median;
   - next views (page 2, then page 1 again) of one département, median;
   - the whole of France (an administrator): first view, then next views.
3. Prints the figures.

    python benchmarks/duplicates_review.py                         # SQLite, 100,000
    python benchmarks/duplicates_review.py --engine postgres
    python benchmarks/duplicates_review.py --structures 10000 --national-views 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.duplicates_quality import Builder  # noqa: E402
from benchmarks.search_national import (  # noqa: E402
    DEFAULT_PG_ADMIN_URL,
    engine_version,
    open_database,
    server,
)
from directory.store import writing  # noqa: E402
from directory.tables import Site, Structure  # noqa: E402
from service import db  # noqa: E402
from service.accounts.store import Role, create_user  # noqa: E402

# A dense département, a middle one, rural ones, Paris; first views are timed in each.
DEPARTEMENTS = ["59", "26", "48", "13", "75", "35", "23"]
PASSWORD = "benchmark-password"
ROWS_PER_INSERT = 500


async def load(structures: int, seed: int) -> tuple[int, float]:
    """The generated directory into the database: (structures, seconds)."""
    records = Builder(seed).build(structures).records
    started = time.perf_counter()
    now = datetime.now(UTC)
    for start in range(0, len(records), ROWS_PER_INSERT):
        chunk = records[start : start + ROWS_PER_INSERT]
        ids = [uuid.uuid4() for _ in chunk]
        rows = [
            Structure(
                id=i,
                name=r.name[:200],
                siret=r.siret,
                phone=r.phone,
                email=r.email,
                website=r.website,
                created_at=now,
                updated_at=now,
            )
            for i, r in zip(ids, chunk, strict=True)
        ]
        sites = [
            Site(structure=i, commune=commune, address=(r.addresses or ("",))[0])
            for i, r in zip(ids, chunk, strict=True)
            for commune in r.communes
        ]
        async with writing():
            await Structure.insert(*rows)
            await Site.insert(*sites)
    return len(records), time.perf_counter() - started


async def prepare(args: argparse.Namespace, url: str, engine_name: str) -> dict[str, object]:
    engine = db.use_database(url)
    await db.migrate()
    # A database given with --database-url that already holds a directory is reused.
    existing = await Structure.count()
    loaded = (existing, 0.0) if existing else await load(args.structures, args.seed)
    if engine_name == "postgres":
        await engine.run_ddl("ANALYZE")
    users = {}
    for role in (Role.COORDINATOR, Role.ADMIN):
        email = f"bench-{role.value}-{uuid.uuid4().hex[:6]}@exemple.fr"
        await create_user(email, "Banc d'essai", PASSWORD, role, None)
        users[role.value] = email
    return {
        "loaded": loaded,
        "users": users,
        "version": await engine_version(_database(url, engine_name)),
    }


def _database(url: str, engine_name: str):  # type: ignore[no-untyped-def]
    from benchmarks.search_national import Database

    return Database(url, engine_name)


def sign_in(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=600, follow_redirects=True)
    page = client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token, "no CSRF token on /login"
    client.post("/login", data={"email": email, "password": PASSWORD, "_csrf_token": token[1]})
    assert "maillage_session" in client.cookies, "sign-in failed"
    return client


def view(client: httpx.Client, scope: str, page: int = 1) -> tuple[float, int]:
    """Seconds for one view, and the number of pairs it announces."""
    started = time.perf_counter()
    response = client.get("/structures/doublons", params={"scope": scope, "page": page})
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    total = re.search(r"(\d+) paires? à examiner", response.text)
    return elapsed, int(total[1]) if total else 0


def measure(base: str, users: dict[str, str], national_views: int) -> list[str]:
    lines = []
    coordinator = sign_in(base, users["coordinator"])
    view(coordinator, f"d:{DEPARTEMENTS[-1]}")  # warms the server's imports and gazetteer
    firsts = []
    for code in DEPARTEMENTS[:-1]:
        seconds, total = view(coordinator, f"d:{code}")
        firsts.append(seconds)
        lines.append(f"  first view d:{code}: {seconds:6.2f} s ({total} pairs)")
    nexts = [view(coordinator, "d:26", page)[0] for page in (2, 1, 2, 1, 2)]
    lines.insert(0, f"département, first view: median {statistics.median(firsts):.2f} s")
    lines.insert(1, f"département, next views: median {statistics.median(nexts):.2f} s")
    if national_views:
        admin = sign_in(base, users["admin"])
        first, total = view(admin, "france")
        again = [view(admin, "france", page)[0] for page in range(2, 2 + national_views)]
        lines.append(f"France, first view:      {first:.2f} s ({total} pairs)")
        lines.append(f"France, next views:      median {statistics.median(again):.2f} s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--structures", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--national-views", type=int, default=3, help="0: skip France")
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default="", help="use this database instead")
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database created")
    args = parser.parse_args()
    command = shlex.join(["python", "benchmarks/duplicates_review.py", *sys.argv[1:]])
    database = asyncio.run(open_database(args))
    try:
        prepared = asyncio.run(prepare(args, database.url, database.engine))
        log = Path(tempfile.gettempdir()) / f"maillage-dup-bench-{os.getpid()}.log"
        with server(database.url, log) as base:
            figures = measure(base, prepared["users"], args.national_views)  # type: ignore[arg-type]
        log.unlink(missing_ok=True)
    finally:
        if database.cleanup is not None:
            asyncio.run(database.cleanup())
        else:
            print(f"database kept: {database.url}")
    count, load_s = prepared["loaded"]  # type: ignore[misc]
    print("Maillage — duplicates review page at national scale (GET /structures/doublons)")
    print(f"command:   {command}")
    print(f"date:      {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine:   {os.cpu_count()} cores, {platform.machine()}, "
        f"Python {platform.python_version()}; {prepared['version']}"
    )
    print(f"directory: {count:,} structures, one site each (seed {args.seed}; load {load_s:.0f} s)")
    print("\n".join(figures))


if __name__ == "__main__":
    main()
