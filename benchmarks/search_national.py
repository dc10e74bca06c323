"""Search latency at national scale, measured through the HTTP API of a real server.

1. Generates, from a seed, a national directory (default 100,000 structures) spread over
   the real communes of the gazetteer, weighted by population, with their sites,
   services, people and relationships. Rows are bulk-inserted (Piccolo `Table.insert` in
   chunks, one transaction per batch of structures), but every derived column (site cell,
   search texts, ServiceKey rows) comes from the same helpers as `directory.store`.
2. Starts `maillage serve` as a subprocess on that database, creates a user and an API
   token, and fires a fixed, seeded set of searches through GET /api/v1/search.
3. Prints the latency distribution, then a summary block to paste into a note.

    python benchmarks/search_national.py                      # SQLite, 100,000 structures
    python benchmarks/search_national.py --engine postgres    # fresh PostgreSQL database
    python benchmarks/search_national.py --structures 2000 --requests 100   # quick check

A database given with --database-url that already holds structures is reused as it is
(no generation), so a kept database (--keep) can be measured again in seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import shlex
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.progress import (  # noqa: E402
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from directory.gazetteer import Commune, load_gazetteer  # noqa: E402
from directory.geo import cell_of  # noqa: E402
from directory.search import resolve_need, search  # noqa: E402
from directory.store import service_keys, writing  # noqa: E402
from directory.store import service_text as _service_text  # noqa: E402
from directory.tables import (  # noqa: E402
    Person,
    Relationship,
    Service,
    ServiceKey,
    Site,
    Structure,
)
from directory.text import fold  # noqa: E402
from directory.vocabulary import (  # noqa: E402
    DOMAIN_LABELS,
    DOMAIN_THEMATIQUES,
    NETWORKS,
    PUBLICS,
    THEMATIQUES,
    Domain,
    Level,
    RelationshipKind,
)
from service import db  # noqa: E402
from service.accounts.store import Role, create_api_token, create_user  # noqa: E402

console = Console()

DEFAULT_PG_ADMIN_URL = os.environ.get(
    "MAILLAGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
STRUCTURES_PER_BATCH = 500  # one transaction each
ROWS_PER_INSERT = 1000  # one INSERT statement each
NEEDS = ["logement", "santé mentale", "emploi", "mobilité", ""]
RADII_KM = [10, 15, 30]
PARIS = "75056"

# ---- Generation --------------------------------------------------------------------------

D = Domain
# (weight, kind, network, name prefix, usual domains; () means any domain)
PROFILES: list[tuple[int, str, str, str, tuple[Domain, ...]]] = [
    (3, "mission-locale", "mission-locale", "Mission Locale", (D.EMPLOYMENT, D.CAREER)),
    (4, "public-service", "france-travail", "France Travail", (D.EMPLOYMENT, D.TRAINING)),
    (3, "public-service", "caf", "CAF", (D.RIGHTS, D.HOUSING)),
    (6, "public-service", "ccas-cias", "CCAS", (D.RIGHTS, D.HOUSING)),
    (3, "public-service", "france-service", "France Services", (D.RIGHTS,)),
    (3, "health-centre", "cmp", "CMP", (D.HEALTH,)),
    (2, "health-centre", "csapa", "CSAPA", (D.HEALTH,)),
    (4, "health-centre", "", "Centre de santé", (D.HEALTH,)),
    (3, "housing", "residences-fjt", "Résidence FJT", (D.HOUSING,)),
    (2, "housing", "chrs", "CHRS", (D.HOUSING,)),
    (2, "association", "wimoov", "Wimoov", (D.MOBILITY,)),
    (2, "association", "", "Auto-école sociale", (D.MOBILITY,)),
    (3, "association", "points-justice", "Point Justice", (D.RIGHTS, D.CITIZENSHIP)),
    (3, "association", "secours-populaire", "Secours Populaire", (D.RIGHTS,)),
    (2, "association", "reseau-information-jeunesse", "Point Information Jeunesse", ()),
    (20, "association", "", "Association", ()),
    (6, "training-body", "", "Organisme de formation", (D.TRAINING, D.CAREER)),
    (2, "training-body", "ecoles-de-la-deuxieme-chance", "École de la 2e Chance", (D.TRAINING,)),
    (4, "club", "mjc", "MJC", (D.LEISURE, D.CULTURE, D.SPORT)),
    (8, "club", "", "Club sportif", (D.SPORT, D.LEISURE)),
    (4, "local-authority", "communes", "Mairie", (D.RIGHTS, D.CITIZENSHIP)),
    (8, "employer", "aci", "Chantier d'insertion", (D.EMPLOYMENT,)),
    (5, "employer", "", "Entreprise", (D.EMPLOYMENT,)),
]
ASSOCIATION_WORDS = [
    "Horizon", "Passerelle", "Tremplin", "Relais", "Escale", "Boussole", "Envol", "Trait d'union",
    "Solidarités", "Avenir", "Cap Jeunes", "Entraide", "Rebond", "Le Phare", "L'Étape",
]  # fmt: skip
FIRST_NAMES = [
    "Camille", "Léa", "Manon", "Inès", "Sarah", "Chloé", "Julie", "Nadia", "Fatou", "Aïcha",
    "Lucas", "Hugo", "Karim", "Mehdi", "Thomas", "Nicolas", "Yanis", "Julien", "Paul", "Omar",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Benali", "Diallo", "Nguyen",
    "Rousseau", "Fontaine", "Chevalier", "Mercier", "Traoré", "Haddad", "Lambert", "Bonnet",
]  # fmt: skip
ROLES = [
    "Chargé·e d'accueil", "Conseiller·ère", "Éducateur·rice", "Coordinateur·rice",
    "Directeur·rice", "Infirmier·ère", "Travailleur·se social·e", "Référent·e jeunes",
]  # fmt: skip
STREETS = [
    "rue de la République", "avenue Jean Jaurès", "place de la Mairie", "rue Victor Hugo",
    "boulevard Gambetta", "rue Pasteur", "rue de la Gare", "allée des Tilleuls", "rue du Moulin",
]  # fmt: skip
HOURS = [
    "Mo-Fr 09:00-12:00,14:00-17:00",
    "Mo-Th 08:30-12:30,13:30-17:30; Fr 08:30-12:00",
    "Tu,Th 14:00-18:00; Sa 09:00-12:00",
    "Mo-Fr 09:00-17:00",
    "",
]
PUBLIC_KEYS = sorted(PUBLICS)
ALL_DOMAINS = list(Domain)
BASE_TIME = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Generator:
    """Deterministic from its seed: same seed, same directory (ids included)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        gazetteer = load_gazetteer()
        self.communes: list[Commune] = list(gazetteer)
        # Every commune is present in the draw; a hamlet weighs as 50 inhabitants.
        self.cum_weights = _cumulative(max(c.population, 50) for c in self.communes)
        by_dep: dict[str, list[Commune]] = {}
        for commune in self.communes:
            by_dep.setdefault(commune.departement, []).append(commune)
        self.by_dep = {
            dep: (communes, _cumulative(max(c.population, 50) for c in communes))
            for dep, communes in by_dep.items()
        }
        self.profile_weights = _cumulative(p[0] for p in PROFILES)
        self.structures_of_dep: dict[str, list[uuid.UUID]] = {}
        self.people_of_dep: dict[str, list[uuid.UUID]] = {}
        self.counter = 0

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def commune(self) -> Commune:
        return self.rng.choices(self.communes, cum_weights=self.cum_weights)[0]

    def batch(self, count: int) -> dict[type, list[dict[str, Any]]]:
        rows: dict[type, list[dict[str, Any]]] = {
            table: [] for table in (Structure, Site, Person, Service, ServiceKey, Relationship)
        }
        for _ in range(count):
            self._structure(rows)
        return rows

    def _structure(self, rows: dict[type, list[dict[str, Any]]]) -> None:
        rng = self.rng
        self.counter += 1
        commune = self.commune()
        profile = rng.choices(PROFILES, cum_weights=self.profile_weights)[0]
        _, kind, network, prefix, usual = profile
        name = (
            f"{prefix} {rng.choice(ASSOCIATION_WORDS)} {commune.name}"
            if kind == "association" and not network
            else f"{prefix} {commune.name}"
        )
        if rng.random() < 0.3:
            name += f" {self.counter % 97 + 1}"
        description = (
            f"{prefix} : accueil et accompagnement des jeunes de {commune.name} et alentours."
        )
        structure_id = self.uuid()
        r = rng.random()
        status = "active" if r < 0.96 else "suspended" if r < 0.99 else "closed"
        created = BASE_TIME - timedelta(days=rng.randint(0, 2000))
        rows[Structure].append(
            {
                "id": structure_id,
                "name": name,
                "siret": "",
                "kind": kind,
                "network": network,
                "description": description,
                "website": f"https://structure-{self.counter}.exemple.fr",
                "email": f"contact@structure-{self.counter}.exemple.fr",
                "phone": f"+33{rng.randint(1, 5)}{rng.randint(10000000, 99999999)}",
                "status": status,
                "verified_at": (
                    datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 400))
                    if rng.random() < 0.7
                    else None
                ),
                "verified_by_kind": "import",
                "verified_by": "jeu d'essai national",
                # As directory.store._check_structure writes it.
                "search_text": fold(" ".join([name, description, NETWORKS.get(network, "")])),
                "created_at": created,
                "updated_at": created,
            }
        )

        site_ids = [self._site(rows, structure_id, commune, "Siège")]
        if rng.random() < 0.4:
            communes, weights = self.by_dep[commune.departement]
            other = rng.choices(communes, cum_weights=weights)[0]
            site_ids.append(self._site(rows, structure_id, other, f"Antenne de {other.name}"))

        people = [self._person(rows, structure_id) for _ in range(rng.choice([1, 1, 2]))]

        for _ in range(rng.choice([1, 1, 2, 2, 3])):
            self._service(rows, structure_id, name, commune, usual, site_ids, people)

        dep = commune.departement
        known = self.structures_of_dep.setdefault(dep, [])
        known_people = self.people_of_dep.setdefault(dep, [])
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            to_person = known_people and rng.random() < 0.15
            if not to_person and not known:
                break
            rows[Relationship].append(
                {
                    "id": self.uuid(),
                    "source": structure_id,
                    "target_structure": None if to_person else rng.choice(known),
                    "target_person": rng.choice(known_people) if to_person else None,
                    "level": rng.choice(list(Level)).value,
                    "kind": rng.choice(list(RelationshipKind)).value,
                    "since": date(2015, 1, 1) + timedelta(days=rng.randint(0, 3650)),
                    "note": "",
                }
            )
        if len(known) < 400:
            known.append(structure_id)
            known_people.append(people[0])

    def _site(
        self,
        rows: dict[type, list[dict[str, Any]]],
        structure_id: uuid.UUID,
        commune: Commune,
        name: str,
    ) -> uuid.UUID:
        rng = self.rng
        if rng.random() < 0.75:
            # Spread around the centre, wider for big towns (Paris: about 4 km).
            spread_km = min(0.5 + math.sqrt(commune.population) / 400, 6.0)
            distance = spread_km * math.sqrt(rng.random())
            angle = rng.random() * 2 * math.pi
            lat = commune.lat + distance * math.sin(angle) / 110.574
            lon = commune.lon + distance * math.cos(angle) / (
                111.320 * math.cos(math.radians(commune.lat))
            )
            lat, lon, precision = round(lat, 6), round(lon, 6), "address"
        else:
            lat, lon, precision = commune.lat, commune.lon, "commune"
        site_id = self.uuid()
        rows[Site].append(
            {
                "id": site_id,
                "structure": structure_id,
                "name": name,
                "address": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                "commune": commune.insee,
                "postcode": commune.postcodes[0] if commune.postcodes else "",
                "lat": lat,
                "lon": lon,
                "cell": cell_of(lat, lon),  # as directory.store._check_site
                "geocoded": precision,
                "opening_hours": rng.choice(HOURS),
                "accessibility": "",
                "walk_in": rng.random() < 0.3,
            }
        )
        return site_id

    def _person(self, rows: dict[type, list[dict[str, Any]]], structure_id: uuid.UUID) -> uuid.UUID:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        active = rng.random() < 0.95
        person_id = self.uuid()
        row = {
            "id": person_id,
            "structure": structure_id,
            "first_name": first,
            "last_name": last,
            "role": rng.choice(ROLES),
            "email": fold(f"{first}.{last}").replace(" ", "-") + f".{self.counter}@exemple.fr",
            "phone": f"+336{rng.randint(10000000, 99999999)}",
            "preferred_channel": rng.choice(["email", "email", "email", "phone"]),
            "active": active,
        }
        row["left_on"] = None if active else date(2025, 6, 1) + timedelta(days=rng.randint(0, 90))
        rows[Person].append(row)
        return person_id

    def _service(
        self,
        rows: dict[type, list[dict[str, Any]]],
        structure_id: uuid.UUID,
        structure_name: str,
        commune: Commune,
        usual: tuple[Domain, ...],
        site_ids: list[uuid.UUID],
        people: list[uuid.UUID],
    ) -> None:
        rng = self.rng
        pool = list(usual) if usual and rng.random() < 0.8 else ALL_DOMAINS
        domains = [d.value for d in rng.sample(pool, k=min(len(pool), rng.choice([1, 1, 2])))]
        themes = sorted({t for d in domains for t in DOMAIN_THEMATIQUES[Domain(d)]})
        thematiques = rng.sample(themes, k=min(len(themes), rng.choice([0, 1, 1, 2, 3])))
        publics = rng.sample(PUBLIC_KEYS, k=rng.choice([0, 1, 1, 2, 3]))
        if rng.random() < 0.6 and "jeunes" not in publics:
            publics.insert(0, "jeunes")
        zone: list[str] = []
        if rng.random() < 0.15:
            zone = [commune.epci] if commune.epci and rng.random() < 0.5 else [commune.departement]
        remote = rng.random() < 0.05
        values: dict[str, Any] = {
            "id": self.uuid(),
            "structure": structure_id,
            "site": rng.choice(site_ids) if len(site_ids) > 1 and rng.random() < 0.3 else None,
            "contact": rng.choice(people) if rng.random() < 0.5 else None,
            "name": _service_name(domains, thematiques),
            "description": "Rendez-vous individuels et ateliers collectifs.",
            "domains": domains,
            "thematiques": thematiques,
            "publics": publics,
            "conditions": "" if rng.random() < 0.7 else "Sur orientation d'un·e conseiller·ère.",
            "fees": "",
            "on_site": not remote or rng.random() < 0.5,
            "remote": remote,
            "zone": zone,
            "unconditional": rng.random() < 0.2,
        }
        # As directory.store.create_service writes them.
        values["search_text"] = _service_text(values, structure_name)
        rows[Service].append(values)
        rows[ServiceKey].extend(
            {"service": values["id"], "key": key}
            for key in service_keys(domains, thematiques, publics, zone, values["remote"])
        )


def _service_name(domains: list[str], thematiques: list[str]) -> str:
    if thematiques:
        return THEMATIQUES[thematiques[0]]
    return f"Accompagnement {DOMAIN_LABELS[Domain(domains[0])].lower()}"


def _cumulative(weights: Any) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def generate(structures: int, seed: int) -> float:
    generator = Generator(seed)
    started = time.perf_counter()
    with Progress(
        TextColumn("Génération"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("structures", total=structures)
        done = 0
        while done < structures:
            count = min(STRUCTURES_PER_BATCH, structures - done)
            rows = generator.batch(count)
            async with writing():
                for table, table_rows in rows.items():
                    for chunk in _chunks(table_rows, ROWS_PER_INSERT):
                        await table.insert(*[table(**row) for row in chunk])
            done += count
            progress.update(task, advance=count)
            if (
                not console.is_terminal
                and done * 10 // structures > (done - count) * 10 // structures
            ):
                # No live bar in a log file: a line every 10 %.
                print(
                    f"  {done:,} / {structures:,} structures, "
                    f"{time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    return time.perf_counter() - started


# ---- Database ----------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    engine: str
    cleanup: Any = None  # async callable dropping what we created, or None


async def _pg_admin(admin_url: str, sql: str) -> None:
    connection = await asyncpg.connect(admin_url, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def open_database(args: argparse.Namespace) -> Database:
    if args.database_url:
        engine = "postgres" if args.database_url.startswith("postgres") else "sqlite"
        return Database(args.database_url, engine)
    if args.engine == "postgres":
        name = f"maillage_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        await _pg_admin(args.postgres_admin_url, f'CREATE DATABASE "{name}"')
        url = f"{args.postgres_admin_url.rsplit('/', 1)[0]}/{name}"

        async def drop() -> None:
            await _pg_admin(
                args.postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            )

        return Database(url, "postgres", None if args.keep else drop)
    folder = tempfile.mkdtemp(prefix="maillage-bench-")
    url = f"sqlite:///{folder}/maillage.sqlite"

    async def remove() -> None:
        for path in Path(folder).glob("maillage.sqlite*"):
            path.unlink()
        Path(folder).rmdir()

    return Database(url, "sqlite", None if args.keep else remove)


async def engine_version(database: Database) -> str:
    if database.engine == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    rows = await Structure.raw("SHOW server_version")
    return f"PostgreSQL {rows[0]['server_version']}"


async def table_counts() -> dict[str, int]:
    return {
        table._meta.tablename: await table.count()
        for table in (Structure, Site, Service, ServiceKey, Person, Relationship)
    }


# ---- Queries -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    commune: str
    need: str
    radius_km: int

    def params(self) -> dict[str, str]:
        return {"commune": self.commune, "need": self.need, "radius_km": str(self.radius_km)}


@dataclass
class Sample:
    query: Query
    ms: float
    status: int
    total: int = 0
    remote_total: int = 0


def make_queries(seed: int, count: int, commune: str | None = None) -> list[Query]:
    rng = random.Random(f"{seed}-{count}-{commune}")
    communes = list(load_gazetteer())
    weights = _cumulative(max(c.population, 50) for c in communes)
    return [
        Query(
            commune or rng.choices(communes, cum_weights=weights)[0].insee,
            rng.choice(NEEDS),
            rng.choice(RADII_KM),
        )
        for _ in range(count)
    ]


def rural_commune(seed: int) -> Commune:
    """A small commune far from any city: the sparse end of the directory."""
    rng = random.Random(f"rural-{seed}")
    candidates = [c for c in load_gazetteer() if 150 <= c.population <= 600 and c.epci]
    return rng.choice(candidates)


def _record(query: Query, started: float, response: httpx.Response | None) -> Sample:
    ms = (time.perf_counter() - started) * 1000
    if response is None:
        return Sample(query, ms, 0)
    sample = Sample(query, ms, response.status_code)
    if response.status_code == 200:
        results = response.json()["results"]
        sample.total, sample.remote_total = results["total"], results["remote_total"]
    return sample


def run_sequential(base_url: str, token: str, queries: list[Query], label: str) -> list[Sample]:
    samples = []
    with (
        httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as client,
        _progress(label, len(queries)) as advance,
    ):
        for query in queries:
            started = time.perf_counter()
            try:
                response = client.get("/api/v1/search", params=query.params())
            except httpx.HTTPError:
                response = None
            samples.append(_record(query, started, response))
            advance()
    return samples


async def run_concurrent(
    base_url: str, token: str, queries: list[Query], concurrency: int, label: str
) -> list[Sample]:
    samples: list[Sample] = []
    pending = iter(queries)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
        limits=limits,
    ) as client:
        with _progress(label, len(queries)) as advance:

            async def worker() -> None:
                for query in pending:
                    started = time.perf_counter()
                    try:
                        response = await client.get("/api/v1/search", params=query.params())
                    except httpx.HTTPError:
                        response = None
                    samples.append(_record(query, started, response))
                    advance()

            await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples


@contextmanager
def _progress(label: str, total: int) -> Iterator[Any]:
    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.update(task, advance=1)


# ---- Server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(
    database_url: str,
    log_path: Path,
    workers: int = 1,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Iterator[str]:
    """`maillage serve` in a subprocess; always stopped on the way out. `on_start` gets the
    process (search_rate.py reads its memory)."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "service.cli",
        "--database-url",
        database_url,
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MAILLAGE_DATABASE_URL": database_url}
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        if on_start is not None:
            on_start(process)
        try:
            base_url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"the server stopped (exit {process.returncode}):\n"
                        + log_path.read_text(errors="replace")[-3000:]
                    )
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not answer /healthz within 120 s")
                time.sleep(0.2)
            yield base_url
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


# ---- Candidates (in process, after the HTTP run) -----------------------------------------


@contextmanager
def counting_raw(counts: dict[str, int]) -> Iterator[None]:
    """Counts the rows Service.raw queries return during search. Since the in-memory index
    (directory.search_index), the places, zones and remote lists come from memory: what is
    left is the lookup of a word the process has not seen yet (search_text LIKE)."""
    original = Service.raw

    def raw(sql: str, *args: Any) -> Any:
        query = original(sql, *args)
        kind = "words" if "search_text LIKE" in sql else "other"

        async def run() -> Any:
            rows = await query
            counts[kind] += len(rows)
            return rows

        return run()

    Service.raw = raw  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        del Service.raw  # back to Table.raw


async def measure_candidates(
    queries: list[Query], viewer: uuid.UUID
) -> tuple[dict[str, float], float]:
    """Average candidate rows per search, and the median in-process search time (no HTTP)."""
    gazetteer = load_gazetteer()
    counts = {"words": 0, "other": 0}
    times = []
    with counting_raw(counts):
        for query in queries:
            started = time.perf_counter()
            await search(
                gazetteer.get(query.commune),  # type: ignore[arg-type]
                resolve_need(query.need),
                radius_km=query.radius_km,
                viewer_structure=viewer,
            )
            times.append((time.perf_counter() - started) * 1000)
    averages = {kind: value / max(len(queries), 1) for kind, value in counts.items()}
    return averages, statistics.median(times) if times else 0.0


# ---- PostGIS anchor (--postgis) ----------------------------------------------------------
# The engine of France's national inclusion search, data·inclusion: services with their
# site's point in a GiST-indexed geography column, found by ST_DWithin, their thematiques in
# a GIN-indexed array. The anchor holds the same generated directory and answers the same
# queries; its answers are compared with Maillage's (first page of ids, totals).

ANCHOR_RADII_KM = [15, 50]
ANCHOR_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS anchor;
DROP TABLE IF EXISTS anchor.service_site, anchor.remote_service;
-- One row per (on-site service, site where it is given), active structures only.
CREATE TABLE anchor.service_site AS
SELECT sv.id AS service_id, si.id AS site_id,
       ST_SetSRID(ST_MakePoint(si.lon, si.lat), 4326)::geography AS geog,
       ARRAY(SELECT CAST(k.key AS TEXT) FROM service_key k WHERE k.service = sv.id) AS keys,
       sv.search_text AS search_text
FROM service sv
JOIN structure st ON st.id = sv.structure AND st.status = 'active'
JOIN site si ON si.structure = sv.structure AND (sv.site IS NULL OR sv.site = si.id)
WHERE sv.on_site AND si.lat IS NOT NULL;
CREATE INDEX ON anchor.service_site USING gist (geog);
CREATE INDEX ON anchor.service_site USING gin (keys);
CREATE TABLE anchor.remote_service AS
SELECT sv.id AS service_id, sv.name AS name,
       ARRAY(SELECT CAST(k.key AS TEXT) FROM service_key k WHERE k.service = sv.id) AS keys,
       sv.search_text AS search_text
FROM service sv
JOIN structure st ON st.id = sv.structure AND st.status = 'active'
WHERE sv.remote;
CREATE INDEX ON anchor.remote_service USING gin (keys);
ANALYZE anchor.service_site;
ANALYZE anchor.remote_service;
"""
# $1 lat, $2 lon, $3 radius km, $4 zone keys, $5 remote keys, $6 need keys, $7 need text
# pattern ('' = no need stated). Near sites by ST_DWithin (GiST), zone matches by the GIN
# array, one row per service at its nearest site, then the remote list; the page's rows
# come back with what the page shows (names, address), as Maillage's page does, in the
# page's order (`pos`: a join does not keep the order of its input).
ANCHOR_QUERY = """
WITH origin AS (SELECT ST_SetSRID(ST_MakePoint($2, $1), 4326)::geography AS g),
candidates AS (
  SELECT s.service_id, s.site_id, ST_Distance(s.geog, o.g, false) / 1000 AS d
  FROM anchor.service_site s, origin o
  WHERE ST_DWithin(s.geog, o.g, $3 * 1000, false) {need}
  UNION ALL
  SELECT s.service_id, s.site_id, ST_Distance(s.geog, o.g, false) / 1000 AS d
  FROM anchor.service_site s, origin o
  WHERE s.keys && $4::text[] {need}
),
best AS (
  SELECT DISTINCT ON (service_id) service_id, site_id, d FROM candidates
  ORDER BY service_id, d
),
page AS (
  SELECT service_id, site_id, d, count(*) OVER () AS total,
         row_number() OVER (ORDER BY d, service_id) AS pos
  FROM best
  ORDER BY d, service_id LIMIT 20
),
remote AS (
  SELECT r.service_id, r.name, count(*) OVER () AS total,
         row_number() OVER (ORDER BY r.name, CAST(r.service_id AS TEXT)) AS pos
  FROM anchor.remote_service r
  WHERE r.keys && $5::text[] {need_remote}
    AND NOT EXISTS (SELECT 1 FROM best b WHERE b.service_id = r.service_id)
  ORDER BY r.name, CAST(r.service_id AS TEXT) LIMIT 20
)
SELECT 'near' AS kind, p.pos, p.service_id, p.total, p.d, sv.name,
       st.name AS structure_name, si.address
FROM page p JOIN service sv ON sv.id = p.service_id JOIN structure st ON st.id = sv.structure
JOIN site si ON si.id = p.site_id
UNION ALL
SELECT 'remote', r.pos, r.service_id, r.total, NULL, r.name, st.name, ''
FROM remote r JOIN service sv ON sv.id = r.service_id JOIN structure st ON st.id = sv.structure
ORDER BY kind, pos
"""
NEED_SQL = " AND ({alias}.keys && $6::text[] OR ($7 <> '' AND {alias}.search_text LIKE $7))"
NO_NEED_SQL = " AND $6::text[] IS NOT NULL AND $7::text IS NOT NULL"


@dataclass(frozen=True)
class Answer:
    """What is compared: the first page of service ids and the totals."""

    ids: tuple[str, ...]
    total: int
    remote_ids: tuple[str, ...]
    remote_total: int


def ensure_postgis(database_url: str) -> None:
    """Installs Debian's PostGIS for the running PostgreSQL when it is missing (the app and
    the tests never need it), then creates the extension in the benchmark's database."""

    async def available() -> tuple[bool, str]:
        connection = await asyncpg.connect(database_url, timeout=10)
        try:
            found = await connection.fetchval(
                "SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'"
            )
            major = await connection.fetchval("SHOW server_version_num")
            return bool(found), str(int(major) // 10000)
        finally:
            await connection.close()

    found, major = asyncio.run(available())
    if not found:
        command = ["apt-get", "install", "-y", f"postgresql-{major}-postgis-3"]
        if os.geteuid() != 0:
            command.insert(0, "sudo")
        console.print(f"PostGIS absent : {shlex.join(command)}")
        subprocess.run(command, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})

    async def create() -> None:
        connection = await asyncpg.connect(database_url, timeout=10)
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            version = await connection.fetchval("SELECT postgis_lib_version()")
            console.print(f"PostGIS {version}")
        finally:
            await connection.close()

    asyncio.run(create())


async def load_anchor(database_url: str) -> float:
    """Copies the directory into the anchor tables; returns the seconds it took."""
    started = time.perf_counter()
    connection = await asyncpg.connect(database_url, timeout=10)
    try:
        await connection.execute(ANCHOR_SCHEMA)
        rows = await connection.fetchval("SELECT count(*) FROM anchor.service_site")
    finally:
        await connection.close()
    seconds = time.perf_counter() - started
    console.print(f"Ancre PostGIS : {rows:,} lignes service × site chargées en {seconds:.1f} s")
    return seconds


def anchor_sql(need_stated: bool) -> str:
    if not need_stated:
        return ANCHOR_QUERY.format(need=NO_NEED_SQL, need_remote=NO_NEED_SQL)
    return ANCHOR_QUERY.format(
        need=NEED_SQL.format(alias="s"), need_remote=NEED_SQL.format(alias="r")
    )


async def anchor_search(connection: Any, query: Query) -> Answer:
    commune = load_gazetteer().get(query.commune)
    assert commune is not None
    need = resolve_need(query.need)
    need_text = fold(need.text)
    # As directory.search: the commune, its département, France, its EPCI.
    codes = [
        commune.insee,
        commune.departement,
        "france",
        *([commune.epci] if commune.epci else []),
    ]
    zone_keys = [f"z:{code}" for code in codes]
    remote_keys = ["r:none", *(f"r:{key[2:]}" for key in zone_keys)]
    stated = bool(need.keys or need_text)
    rows = await connection.fetch(
        anchor_sql(stated),
        commune.lat,
        commune.lon,
        float(query.radius_km),
        zone_keys,
        remote_keys,
        need.keys,
        f"%{need_text}%" if need_text else "",
    )
    near = [r for r in rows if r["kind"] == "near"]
    remote = [r for r in rows if r["kind"] == "remote"]
    return Answer(
        tuple(str(r["service_id"]) for r in near),
        near[0]["total"] if near else 0,
        tuple(str(r["service_id"]) for r in remote),
        remote[0]["total"] if remote else 0,
    )


def maillage_answer(results: Any) -> Answer:
    return Answer(
        tuple(str(hit.service_id) for hit in results.items),
        results.total,
        tuple(str(hit.service_id) for hit in results.remote),
        results.remote_total,
    )


def http_answer(body: dict[str, Any]) -> Answer:
    results = body["results"]
    return Answer(
        tuple(hit["service_id"] for hit in results["items"]),
        results["total"],
        tuple(hit["service_id"] for hit in results["remote"]),
        results["remote_total"],
    )


def medium_town(seed: int) -> Commune:
    """A town of 20,000 to 50,000 inhabitants: the middle of the directory's density."""
    rng = random.Random(f"town-{seed}")
    return rng.choice([c for c in load_gazetteer() if 20_000 <= c.population <= 50_000])


def anchor_classes(seed: int, count: int) -> dict[str, list[Query]]:
    """Per class of place and radius, the queries all three measures answer."""
    places = {
        "Paris (dense city)": PARIS,
        f"{(town := medium_town(seed)).name} (town, {town.population:,})": town.insee,
        f"{(rural := rural_commune(seed)).name} (rural, {rural.population})": rural.insee,
    }
    classes: dict[str, list[Query]] = {}
    for radius in ANCHOR_RADII_KM:
        for label, insee in places.items():
            classes[f"{label} {radius} km"] = [
                Query(insee, NEEDS[i % len(NEEDS)], radius) for i in range(count)
            ]
        mix = make_queries(seed + 7, count)
        classes[f"population mix {radius} km"] = [Query(q.commune, q.need, radius) for q in mix]
    return classes


def anchor_http(base_url: str, token: str, classes: dict[str, list[Query]]) -> dict[str, Any]:
    """Maillage over HTTP: median ms per class, and the answers."""
    out: dict[str, Any] = {}
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as client:
        for label, queries in classes.items():
            times, answers = [], []
            for query in queries:
                started = time.perf_counter()
                response = client.get("/api/v1/search", params=query.params())
                times.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                answers.append(http_answer(response.json()))
            out[label] = (statistics.median(times), answers)
    return out


async def anchor_in_process(
    database: Database, classes: dict[str, list[Query]]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Maillage's search() in this process, then the PostGIS query, same queries."""
    engine = db.use_database(database.url)
    await engine.start_connection_pool(min_size=1, max_size=4)  # type: ignore[attr-defined]
    gazetteer = load_gazetteer()
    maillage: dict[str, Any] = {}
    try:
        viewer_row = (
            await Structure.select(Structure.id)
            .where(Structure.network == "mission-locale")
            .order_by(Structure.id)
            .first()
        )
        viewer = viewer_row and viewer_row["id"]
        for label, queries in classes.items():
            times, answers = [], []
            for query in queries:
                started = time.perf_counter()
                results = await search(
                    gazetteer.get(query.commune),  # type: ignore[arg-type]
                    resolve_need(query.need),
                    radius_km=query.radius_km,
                    viewer_structure=viewer,
                )
                times.append((time.perf_counter() - started) * 1000)
                answers.append(maillage_answer(results))
            maillage[label] = (statistics.median(times), answers)
    finally:
        await engine.close_connection_pool()  # type: ignore[attr-defined]
    postgis: dict[str, Any] = {}
    connection = await asyncpg.connect(database.url, timeout=10)
    try:
        for label, queries in classes.items():
            await anchor_search(connection, queries[0])  # prepares the statement
            times, answers = [], []
            for query in queries:
                started = time.perf_counter()
                answers.append(await anchor_search(connection, query))
                times.append((time.perf_counter() - started) * 1000)
            postgis[label] = (statistics.median(times), answers)
    finally:
        await connection.close()
    return maillage, postgis


def anchor_lines(
    classes: dict[str, list[Query]],
    http: dict[str, Any],
    maillage: dict[str, Any],
    postgis: dict[str, Any],
) -> list[str]:
    """The table to paste: medians, ratios, and how often the answers agree."""
    lines = [
        "PostGIS anchor (same data, same queries; median ms per class of place, "
        f"{len(next(iter(classes.values())))} queries each, needs cycling {NEEDS}; "
        "ratio = Maillage time / PostGIS time, above 1 means Maillage is slower):",
        f"  {'class':42} {'in-process':>10} {'HTTP':>8} {'PostGIS':>8} "
        f"{'ratio':>7} {'ratio HTTP':>10}  agree",
    ]
    agree_all = compared = 0
    for label in classes:
        m_ms, m_answers = maillage[label]
        h_ms, h_answers = http[label]
        p_ms, p_answers = postgis[label]
        agree = sum(
            1 for m, h, p in zip(m_answers, h_answers, p_answers, strict=True) if m == p == h
        )
        agree_all += agree
        compared += len(m_answers)
        lines.append(
            f"  {label:42} {m_ms:10.1f} {h_ms:8.1f} {p_ms:8.1f} "
            f"{m_ms / p_ms:6.1f}× {h_ms / p_ms:9.1f}×  {agree}/{len(m_answers)}"
        )
    lines.append(
        f"  agreement (first page of ids, totals, remote page and total; in-process = HTTP = "
        f"PostGIS): {agree_all}/{compared} = {100 * agree_all / max(compared, 1):.1f} %"
    )
    return lines


def anchor_disagreements(
    classes: dict[str, list[Query]], maillage: dict[str, Any], postgis: dict[str, Any]
) -> list[str]:
    """A few disagreements, spelled out, to look into."""
    out = []
    for label, queries in classes.items():
        for query, m, p in zip(queries, maillage[label][1], postgis[label][1], strict=True):
            if m != p and len(out) < 5:
                out.append(
                    f"  differs: {query} maillage total {m.total} remote {m.remote_total}, "
                    f"postgis total {p.total} remote {p.remote_total}, first page "
                    f"{'same' if m.ids == p.ids else 'different'}, remote page "
                    f"{'same' if m.remote_ids == p.remote_ids else 'different'}"
                )
    return out


# ---- Report ------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def describe(samples: list[Sample], wall_s: float | None = None) -> dict[str, float]:
    ok = [s for s in samples if s.status == 200]
    ms = [s.ms for s in samples]
    return {
        "n": len(samples),
        "p50": percentile(ms, 0.50),
        "p90": percentile(ms, 0.90),
        "p99": percentile(ms, 0.99),
        "max": max(ms, default=0.0),
        "rps": len(samples) / wall_s if wall_s else 0.0,
        "errors": len(samples) - len(ok),
        "results": statistics.mean(s.total for s in ok) if ok else 0.0,
        "remote": statistics.mean(s.remote_total for s in ok) if ok else 0.0,
    }


# ---- Main --------------------------------------------------------------------------------


async def prepare(args: argparse.Namespace, database: Database) -> tuple[float | None, str]:
    """Migrate, generate unless the database already holds a directory, create the token."""
    engine = db.use_database(database.url)
    await db.migrate()
    generation_s: float | None = None
    if await Structure.count() == 0:
        generation_s = await generate(args.structures, args.seed)
        console.print(f"Génération : {generation_s:.1f} s")
    else:
        console.print("[yellow]La base contient déjà un annuaire : il est réutilisé tel quel.")
    if database.engine == "postgres":
        # What autovacuum would do shortly after a bulk load.
        await engine.run_ddl("ANALYZE")
    viewer = (
        await Structure.select(Structure.id)
        .where(Structure.network == "mission-locale")
        .order_by(Structure.id)
        .first()
    )
    email = f"bench-{uuid.uuid4().hex[:8]}@exemple.fr"
    user_id = await create_user(
        email, "Banc d'essai", "benchmark-password", Role.ADVISOR, viewer and viewer["id"]
    )
    token = await create_api_token(user_id, "benchmark")
    return generation_s, token


async def finish(
    database: Database, measured: list[Query]
) -> tuple[dict[str, int], str, dict[str, float], float]:
    engine = db.use_database(database.url)
    pooled = database.engine == "postgres"
    if pooled:
        await engine.start_connection_pool(min_size=1, max_size=4)  # type: ignore[attr-defined]
    try:
        counts = await table_counts()
        version = await engine_version(database)
        viewer = (
            await Structure.select(Structure.id)
            .where(Structure.network == "mission-locale")
            .order_by(Structure.id)
            .first()
        )
        distinct = list(dict.fromkeys(measured))[:200]
        candidates, inprocess_ms = await measure_candidates(distinct, viewer and viewer["id"])
    finally:
        if pooled:
            await engine.close_connection_pool()  # type: ignore[attr-defined]
    return counts, version, candidates, inprocess_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--structures", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--place-requests", type=int, default=50, help="searches for Paris and for a rural place"
    )
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default="", help="use this database instead")
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument("--keep", action="store_true", help="keep the database created")
    parser.add_argument(
        "--postgis",
        action="store_true",
        help="PostgreSQL: also answer in PostGIS (installed if missing) and compare",
    )
    parser.add_argument(
        "--anchor-requests", type=int, default=20, help="queries per class of place (--postgis)"
    )
    args = parser.parse_args()
    command = shlex.join(["python", "benchmarks/search_national.py", *sys.argv[1:]])

    on_postgres = args.database_url.startswith("postgres") or (
        not args.database_url and args.engine == "postgres"
    )
    if args.postgis and not on_postgres:
        parser.error("--postgis needs the PostgreSQL engine (--engine postgres)")
    database = asyncio.run(open_database(args))
    console.print(f"Base : {database.url}")
    anchor: list[str] = []
    try:
        generation_s, token = asyncio.run(prepare(args, database))
        classes = anchor_classes(args.seed, args.anchor_requests) if args.postgis else {}
        if args.postgis:
            ensure_postgis(database.url)
            asyncio.run(load_anchor(database.url))
        rural = rural_commune(args.seed)
        warmup = make_queries(args.seed + 1, args.warmup)
        measured = make_queries(args.seed, args.requests)
        paris = make_queries(args.seed, args.place_requests, PARIS)
        countryside = make_queries(args.seed, args.place_requests, rural.insee)
        log_path = Path(tempfile.gettempdir()) / f"maillage-bench-server-{os.getpid()}.log"
        with server(database.url, log_path) as base_url:
            run_sequential(base_url, token, warmup, "Échauffement")
            started = time.perf_counter()
            if args.concurrency > 1:
                samples = asyncio.run(
                    run_concurrent(base_url, token, measured, args.concurrency, "Recherches")
                )
            else:
                samples = run_sequential(base_url, token, measured, "Recherches")
            wall_s = time.perf_counter() - started
            paris_samples = run_sequential(base_url, token, paris, "Paris")
            rural_samples = run_sequential(base_url, token, countryside, rural.name)
            http = anchor_http(base_url, token, classes) if args.postgis else {}
        log_path.unlink(missing_ok=True)
        counts, version, candidates, inprocess_ms = asyncio.run(finish(database, measured))
        if args.postgis:
            maillage, postgis = asyncio.run(anchor_in_process(database, classes))
            anchor = anchor_lines(classes, http, maillage, postgis)
            anchor += anchor_disagreements(classes, maillage, postgis)
    finally:
        if database.cleanup is not None:
            asyncio.run(database.cleanup())
        elif not args.database_url:
            console.print(f"Base conservée : {database.url}")

    stats = describe(samples, wall_s)
    paris_stats, rural_stats = describe(paris_samples), describe(rural_samples)
    generated = f"{generation_s:.1f} s" if generation_s is not None else "réutilisée"
    lines = [
        "Maillage — search latency at national scale (GET /api/v1/search)",
        f"command:     {command}",
        f"date:        {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"machine:     {os.cpu_count()} cores, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        f"engine:      {version}",
        f"directory:   {counts['structure']:,} structures, {counts['site']:,} sites, "
        f"{counts['service']:,} services, {counts['service_key']:,} service keys, "
        f"{counts['person']:,} people, {counts['relationship']:,} relationships "
        f"(seed {args.seed}; generation {generated})",
        f"requests:    {stats['n']} measured after {len(warmup)} warm-up, "
        f"concurrency {args.concurrency}; needs {NEEDS}, radius {RADII_KM} km, "
        "communes weighted by population",
        f"latency ms:  p50 {stats['p50']:.1f}  p90 {stats['p90']:.1f}  "
        f"p99 {stats['p99']:.1f}  max {stats['max']:.1f}",
        f"throughput:  {stats['rps']:.1f} requests/s, {stats['errors']} errors (non-200)",
        f"results:     {stats['results']:.1f} services in reach on average "
        f"(+ {stats['remote']:.1f} remote)",
        f"SQL rows:    {candidates['words']:.0f} read by word lookups + "
        f"{candidates['other']:.0f} other, per search; places, zones and remote lists come "
        "from the in-memory index "
        f"(in process, {min(len(set(measured)), 200)} distinct queries, "
        f"median {inprocess_ms:.1f} ms without HTTP)",
        f"Paris 75056: median {paris_stats['p50']:.1f} ms, p90 {paris_stats['p90']:.1f} ms, "
        f"{paris_stats['results']:.0f} results on average, {paris_stats['errors']} errors "
        f"({paris_stats['n']} requests)",
        f"rural:       {rural.name} ({rural.insee}, {rural.population} inhabitants): "
        f"median {rural_stats['p50']:.1f} ms, p90 {rural_stats['p90']:.1f} ms, "
        f"{rural_stats['results']:.0f} results on average, {rural_stats['errors']} errors "
        f"({rural_stats['n']} requests)",
    ]
    console.print()
    print("\n".join(lines + anchor))


if __name__ == "__main__":
    main()
