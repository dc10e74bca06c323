"""Server time of the network page and of the explorer's JSON at the demo's scale and at
1,500 structures (issue 13), against a real `maillage serve` on a fresh SQLite file.

The demo territory is loaded, then (for the larger size) structures are added with two
people, a site, a service and two relationships each, until the territory counts
`--structures`. Each URL is fetched once to warm up, then `--loads` times with the demo
coordinator's session; the figures are headers-to-last-byte on loopback.

    python benchmarks/network_page.py                   # demo, then 1,500 structures
    python benchmarks/network_page.py --loads 3
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live import running_server  # noqa: E402

URLS = ("/reseau", "/api/v1/network/explorer", "/api/v1/network/explorer?level=political")
DOMAINS = ("employment", "housing", "health", "mobility", "training", "culture", "sport")
LEVELS = ("operational", "operational", "organisational", "political")


async def _grow(total: int, seed: int = 13) -> int:
    """Add structures until the territory counts `total`; returns the count."""
    from directory.tables import Person, Relationship, Service, Site, Structure

    rng = random.Random(seed)
    existing = [row["id"] for row in await Structure.select(Structure.id)]
    now = datetime.now(UTC)
    new = [uuid4() for _ in range(max(0, total - len(existing)))]
    everyone = existing + new
    structures, people, sites, services, links = [], [], [], [], []
    for i, sid in enumerate(new):
        structures.append(
            Structure(id=sid, name=f"Structure ajoutée {i:04d}", created_at=now, updated_at=now)
        )
        for p in range(2):
            people.append(Person(id=uuid4(), structure=sid, first_name=f"P{p}", last_name=f"S{i}"))
        site = uuid4()
        sites.append(Site(id=site, structure=sid, commune="26362"))
        services.append(
            Service(
                id=uuid4(),
                structure=sid,
                site=site,
                name=f"Service {i}",
                domains=rng.sample(DOMAINS, rng.choice((1, 2))),
                thematiques=[],
                publics=[],
                zone=[],
            )
        )
        for _ in range(2):
            other = rng.choice(everyone)
            if other != sid:
                links.append(
                    Relationship(
                        id=uuid4(), source=sid, target_structure=other, level=rng.choice(LEVELS)
                    )
                )
    for table, rows in (
        (Structure, structures),
        (Person, people),
        (Site, sites),
        (Service, services),
        (Relationship, links),
    ):
        for start in range(0, len(rows), 500):
            if rows[start : start + 500]:
                await table.insert(*rows[start : start + 500])
    return len(everyone)


def _login(client: httpx.Client) -> None:
    page = client.get("/login")
    token = page.text.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post(
        "/login",
        data={
            "email": "coordination@demo.maillage.fr",
            "password": "maillage-demo",
            "_csrf_token": token,
        },
    )


def _measure(base: str, loads: int) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        _login(client)
        for url in URLS:
            start = time.perf_counter()
            response = client.get(url)
            first = time.perf_counter() - start
            assert response.status_code == 200, (url, response.status_code)
            times = []
            for _ in range(loads):
                start = time.perf_counter()
                response = client.get(url)
                times.append(time.perf_counter() - start)
            print(
                f"  {url:45} first {first * 1000:6.0f} ms"
                f"  median {statistics.median(times) * 1000:6.0f} ms"
                f"  max {max(times) * 1000:6.0f} ms  {len(response.content) / 1024:6.0f} KiB"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--structures", type=int, default=1500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/network.sqlite"
        os.environ["MAILLAGE_DATABASE_URL"] = url
        from service.cli import main as cli

        for command in (["migrate"], ["demo"]):
            with contextlib.suppress(SystemExit):  # click's way of saying it is done
                cli(command, standalone_mode=False)
        for size in (None, args.structures):
            if size is not None:
                count = asyncio.run(_grow(size))
            else:
                from directory.tables import Structure

                async def _count() -> int:
                    return await Structure.count()

                count = asyncio.run(_count())
            print(f"{count} structures")
            with running_server(url) as base:
                _measure(base, args.loads)


if __name__ == "__main__":
    main()
