"""Whole referral life cycles under concurrency, through the HTTP API of a real server.

1. Creates a fresh database (SQLite in a temporary folder, or a new PostgreSQL database),
   migrates it and sets up, through the real domain functions: a few Missions Locales
   with an advisor and an API token each, and partner structures in the Drôme (a site, a
   service, a contact person with an e-mail, a partner user with an API token each).
2. Starts `maillage serve` as a subprocess on that database; mail goes to .eml files in
   the temporary folder; the server's output goes to a log file there.
3. Runs `--clients` concurrent clients, each looping over whole life cycles: the advisor
   sends a referral to a random partner, then the partner acknowledges, accepts, takes
   the young person in and closes with "need_met". Half the cycles act through the
   partner's personal link (POST /api/v1/links/{token}/actions), half through the partner
   user's API token (POST /api/v1/referrals/{id}/actions).
4. Checks in the database that no transition was lost or duplicated, and prints a summary
   block to paste into a note.

    python benchmarks/referrals_load.py                       # SQLite, 32 clients, 400 cycles
    python benchmarks/referrals_load.py --engine postgres     # fresh PostgreSQL database
    python benchmarks/referrals_load.py --clients 4 --cycles 40   # quick check
    python benchmarks/referrals_load.py --engine postgres --workers 2   # 2 server processes
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
import httpx  # noqa: E402

from directory import store  # noqa: E402
from directory.gazetteer import load_gazetteer  # noqa: E402
from directory.schemas import PersonWrite, ServiceWrite, SiteWrite, StructureWrite  # noqa: E402
from directory.verification import Verifier  # noqa: E402
from directory.vocabulary import Domain  # noqa: E402
from service import db  # noqa: E402
from service.accounts.store import Role, create_api_token, create_user  # noqa: E402
from service.referrals.tables import OutboxMessage, Referral, ReferralEvent  # noqa: E402

_SEEDED = Verifier("import", "jeu d'essai du banc de mesure")

DEFAULT_PG_ADMIN_URL = os.environ.get(
    "MAILLAGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "banc-d-essai-orientations"
# The life cycle every client walks, with the status and version each step leads to.
STEPS = [
    ("send", "sent", 1),
    ("acknowledge", "received", 2),
    ("accept", "accepted", 3),
    ("take_in", "in_progress", 4),
    ("close", "completed", 5),
]
EXPECTED_EVENTS = [
    ("send", "draft", "sent"),
    ("acknowledge", "sent", "received"),
    ("accept", "received", "accepted"),
    ("take_in", "accepted", "in_progress"),
    ("close", "in_progress", "completed"),
]
# new referral to the partner, link to the young person, then accept, take_in and close
# to the referent advisor (acknowledge is not mailed).
MAILS_PER_CYCLE = 5
PARTNER_KINDS = [
    ("Foyer Jeunes Travailleurs", "housing", Domain.HOUSING),
    ("CMP", "health-centre", Domain.HEALTH),
    ("Auto-école sociale", "association", Domain.MOBILITY),
    ("Organisme de formation", "training-body", Domain.TRAINING),
    ("Point Justice", "association", Domain.RIGHTS),
    ("Chantier d'insertion", "employer", Domain.EMPLOYMENT),
    ("MJC", "club", Domain.LEISURE),
]
FIRST_NAMES = ["Yanis", "Léa", "Inès", "Karim", "Manon", "Hugo", "Fatou", "Lucas", "Nadia"]


# ---- Database ----------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    engine: str
    folder: Path  # temporary folder: SQLite file, outbox, server log
    cleanup: Any = None  # async callable dropping the PostgreSQL database, or None


async def _pg_admin(admin_url: str, sql: str) -> None:
    connection = await asyncpg.connect(admin_url, timeout=10)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def open_database(args: argparse.Namespace) -> Database:
    folder = Path(tempfile.mkdtemp(prefix="maillage-referrals-"))
    if args.engine == "postgres":
        name = f"maillage_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        await _pg_admin(args.postgres_admin_url, f'CREATE DATABASE "{name}"')
        url = f"{args.postgres_admin_url.rsplit('/', 1)[0]}/{name}"

        async def drop() -> None:
            await _pg_admin(
                args.postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
            )

        return Database(url, "postgres", folder, None if args.keep else drop)
    return Database(f"sqlite:///{folder}/maillage.sqlite", "sqlite", folder)


async def engine_version(database: Database) -> str:
    if database.engine == "sqlite":
        path = database.url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        return f"SQLite {sqlite3.sqlite_version} (journal_mode={mode}, busy timeout 30 s)"
    rows = await Referral.raw("SHOW server_version")
    return f"PostgreSQL {rows[0]['server_version']} (server pool max 20 connections per worker)"


# ---- Set-up ------------------------------------------------------------------------------


@dataclass
class Partner:
    structure_id: uuid.UUID
    service_id: uuid.UUID
    contact_id: uuid.UUID
    domain: Domain
    token: str  # the partner user's API token


@dataclass
class Territory:
    advisors: list[str]  # API tokens, one per Mission Locale
    partners: list[Partner]
    communes: list[str]


async def _user(email: str, name: str, structure_id: uuid.UUID) -> str:
    user_id = await create_user(email, name, PASSWORD, Role.ADVISOR, structure_id)
    return await create_api_token(user_id, "benchmark")


async def set_up(missions_locales: int, partners: int) -> Territory:
    """Everything through directory.store and service.accounts.store, as the app does."""
    drome = sorted(
        (c for c in load_gazetteer() if c.departement == "26"), key=lambda c: -c.population
    )
    communes = drome[: max(partners, missions_locales, 10)]
    advisors = []
    for i in range(missions_locales):
        commune = communes[i % len(communes)]
        structure_id = await store.create_structure(
            StructureWrite(
                name=f"Mission Locale {commune.name}",
                kind="public-service",
                network="mission-locale",
                email=f"contact@ml-{i + 1}.exemple.fr",
            ),
            by=_SEEDED,
        )
        await store.create_site(structure_id, SiteWrite(commune=commune.insee, name="Siège"))
        advisors.append(
            await _user(f"conseiller.{i + 1}@ml-{i + 1}.exemple.fr", "Conseiller·ère", structure_id)
        )
    made = []
    for i in range(partners):
        commune = communes[i % len(communes)]
        label, kind, domain = PARTNER_KINDS[i % len(PARTNER_KINDS)]
        structure_id = await store.create_structure(
            StructureWrite(
                name=f"{label} {commune.name} {i + 1}",
                kind=kind,
                email=f"accueil@partenaire-{i + 1}.exemple.fr",
            ),
            by=_SEEDED,
        )
        await store.create_site(
            structure_id,
            SiteWrite(commune=commune.insee, address=f"{i + 1} rue de la République"),
        )
        contact_id = await store.create_person(
            structure_id,
            PersonWrite(
                first_name="Léna",
                last_name=f"Faure{i + 1}",
                email=f"lena.faure@partenaire-{i + 1}.exemple.fr",
            ),
        )
        service_id = await store.create_service(
            structure_id,
            ServiceWrite(
                name=f"Accompagnement {domain.label.lower()}",
                domains=[domain],
                publics=["jeunes"],
                contact_id=contact_id,
            ),
            by=_SEEDED,
        )
        token = await _user(
            f"partenaire.{i + 1}@partenaire-{i + 1}.exemple.fr", "Référent·e", structure_id
        )
        made.append(Partner(structure_id, service_id, contact_id, domain, token))
    return Territory(advisors, made, [c.insee for c in communes])


# ---- Server ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float | None:
        """User + system CPU time so far of the server process and of its worker processes
        (`--workers N`), alive or not (Linux only)."""
        ticks = 0
        try:
            for pid in _process_tree(self.process.pid):
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                # utime, stime, and the children's it has waited for (restarted workers).
                ticks += sum(int(stat[i]) for i in (11, 12, 13, 14))
        except (OSError, IndexError, ValueError):
            return None
        return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(database: Database) -> float | None:
    """CPU time so far of the PostgreSQL backends serving the benchmark's database, when
    the server runs on this machine (Linux only); None on SQLite or when unreadable."""
    if database.engine != "postgres":
        return None
    name = database.url.rsplit("/", 1)[1].encode()
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            if not command.startswith(b"postgres: ") or name not in command:
                continue
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(stat[11]) + int(stat[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _process_tree(pid: int) -> list[int]:
    """`pid` and its descendants, from /proc/PID/task/PID/children."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        path = Path(f"/proc/{current}/task/{current}/children")
        if path.exists():
            todo.extend(int(child) for child in path.read_text().split())
    return found


@contextmanager
def server(
    database_url: str,
    folder: Path,
    log_path: Path,
    debug: bool,
    workers: int = 1,
    settings: dict[str, str] | None = None,
) -> Iterator[Server]:
    """`maillage serve --workers N` in a subprocess; always stopped on the way out."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
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
    # Only the settings chosen here: no inherited SMTP host, reminder loop, cheap hashing.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLAGE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        MAILLAGE_MAIL_OUTBOX=str(folder / "outbox"),
        MAILLAGE_BASE_URL=base_url,
    )
    env.update(settings or {})
    if debug:
        # Litestar logs an unhandled exception's traceback only in debug mode.
        env["MAILLAGE_DEBUG"] = "1"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
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
            yield Server(base_url, process)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


# ---- Load --------------------------------------------------------------------------------


@dataclass
class Run:
    cycles: int
    deadline: float
    started: int = 0
    completed: list[uuid.UUID] = field(default_factory=list)
    aborted: list[tuple[uuid.UUID | None, str]] = field(default_factory=list)
    sent_ok: list[uuid.UUID] = field(default_factory=list)  # every referral the API created
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    by_channel: Counter[str] = field(default_factory=Counter)

    def take(self) -> bool:
        if self.started >= self.cycles or time.monotonic() >= self.deadline:
            return False
        self.started += 1
        return True


class StepFailed(Exception):
    pass


def _kind(status: int, body: str) -> str:
    lowered = body.lower()
    if "database is locked" in lowered:
        return "database is locked"
    if "deadlock" in lowered:
        return "deadlock"
    if status >= 500:
        return "server error"
    if status == 409:
        return "conflict"
    return "unexpected"


async def _request(
    run: Run,
    client: aiohttp.ClientSession,
    step: str,
    channel: str,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    expected: tuple[str, int] | None,
) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with client.post(path, json=body, headers=headers) as response:
            status, text = response.status, await response.text()
    except (aiohttp.ClientError, TimeoutError) as error:
        run.requests += 1
        key = f"{step}: {type(error).__name__}"
        run.errors[key] += 1
        run.examples.setdefault(key, str(error)[:300])
        raise StepFailed(key) from error
    ms = (time.perf_counter() - started) * 1000
    run.requests += 1
    run.latencies[step].append(ms)
    run.latencies[f"via {channel}"].append(ms)
    if status != 201:
        key = f"{step}: {status} {_kind(status, text)}"
        run.errors[key] += 1
        run.examples.setdefault(key, text[:300])
        raise StepFailed(key)
    data = json.loads(text)
    if expected is not None and (data["status"], data["version"]) != expected:
        key = f"{step}: 201 but status/version {data['status']}/{data['version']}"
        run.errors[key] += 1
        run.examples.setdefault(key, f"expected {expected[0]}/{expected[1]}")
        raise StepFailed(key)
    return data


async def client_loop(
    run: Run, base_url: str, territory: Territory, number: int, seed: int, own_partner: bool
) -> None:
    """With `own_partner`, the partner's steps go over a second connection, which the
    kernel may hand to another server process than the advisor's: each step then reads
    what another process wrote."""
    rng = random.Random(f"{seed}-{number}")
    advisor = {"Authorization": f"Bearer {territory.advisors[number % len(territory.advisors)]}"}
    # One connection each, kept alive. aiohttp rather than httpx: on 2 cores shared with
    # the server and PostgreSQL, httpx's client took 4-5 ms of CPU per request, as much as
    # the server it measured.
    timeout = aiohttp.ClientTimeout(total=120)
    async with (
        aiohttp.ClientSession(
            base_url, timeout=timeout, connector=aiohttp.TCPConnector(limit=1)
        ) as client,
        aiohttp.ClientSession(
            base_url, timeout=timeout, connector=aiohttp.TCPConnector(limit=1)
        ) as second,
    ):
        partner_client = second if own_partner else client
        while run.take():
            partner = rng.choice(territory.partners)
            channel = "link" if rng.random() < 0.5 else "token"
            referral_id: uuid.UUID | None = None
            try:
                sent = await _request(
                    run,
                    client,
                    "send",
                    "advisor",
                    "/api/v1/referrals",
                    {
                        "to_structure_id": str(partner.structure_id),
                        "to_service_id": str(partner.service_id),
                        "to_contact_id": str(partner.contact_id),
                        "domain": partner.domain.value,
                        "message": "Cherche un accompagnement, disponible en semaine.",
                        "young_person": {
                            "first_name": rng.choice(FIRST_NAMES),
                            "age_range": "18-21",
                            "commune": rng.choice(territory.communes),
                            "phone": "06 11 22 33 44",
                            "email": f"jeune.{uuid.uuid4().hex[:10]}@exemple.fr",
                            "channel": "email",
                        },
                        "consent": {"given": True, "shares": ["age", "commune", "message"]},
                    },
                    advisor,
                    None,
                )
                referral_id = uuid.UUID(sent["id"])
                run.sent_ok.append(referral_id)
                link_token = sent["partner_link"].rsplit("/", 1)[1]
                if channel == "link":
                    path, headers = f"/api/v1/links/{link_token}/actions", {}
                else:
                    path = f"/api/v1/referrals/{referral_id}/actions"
                    headers = {"Authorization": f"Bearer {partner.token}"}
                for transition, status, version in STEPS[1:]:
                    body = {"transition": transition}
                    if transition == "close":
                        body["reason"] = "need_met"
                    await _request(
                        run,
                        partner_client,
                        transition,
                        channel,
                        path,
                        body,
                        headers,
                        (status, version),
                    )
            except StepFailed as failure:
                run.aborted.append((referral_id, str(failure)))
                continue
            run.completed.append(referral_id)
            run.by_channel[channel] += 1


async def drive(
    base_url: str,
    territory: Territory,
    clients: int,
    cycles: int,
    seconds: float,
    seed: int,
    own_partner: bool = False,
) -> tuple[Run, float]:
    run = Run(cycles=cycles, deadline=time.monotonic() + seconds)
    started = time.perf_counter()
    progress = asyncio.create_task(_progress(run, cycles))
    try:
        await asyncio.gather(
            *(client_loop(run, base_url, territory, i, seed, own_partner) for i in range(clients))
        )
    finally:
        progress.cancel()
    wall = time.perf_counter() - started
    print(f"\r{len(run.completed)} / {cycles} cycles, {wall:.1f} s" + " " * 20, flush=True)
    return run, wall


async def _progress(run: Run, cycles: int) -> None:
    started = time.perf_counter()
    while True:
        await asyncio.sleep(1 if sys.stdout.isatty() else 10)
        end = "" if sys.stdout.isatty() else "\n"
        print(
            f"\r{len(run.completed)} / {cycles} cycles, {time.perf_counter() - started:.0f} s, "
            f"{sum(run.errors.values())} errors",
            end=end,
            flush=True,
        )


# ---- Integrity ---------------------------------------------------------------------------


@dataclass
class Integrity:
    referrals: int = 0
    events: int = 0
    notifications: int = 0
    eml_files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


async def check_integrity(run: Run, outbox: Path) -> Integrity:
    """Every completed referral: status completed, version 5, exactly the 5 expected events
    with chained statuses. Every referral: as many events as its version, chained."""
    result = Integrity()
    referrals = {
        row["id"]: row
        for row in await Referral.select(
            Referral.id, Referral.status, Referral.version, Referral.outcome
        )
    }
    events: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in await ReferralEvent.select(
        ReferralEvent.referral,
        ReferralEvent.at,
        ReferralEvent.transition,
        ReferralEvent.from_status,
        ReferralEvent.to_status,
    ).order_by(ReferralEvent.at):
        events[row["referral"]].append(row)
    # Every message of the outbox, delivered or not; the server had time to send them all.
    mails = Counter(row["referral"] for row in await OutboxMessage.select(OutboxMessage.referral))
    result.referrals, result.events = len(referrals), sum(len(e) for e in events.values())
    result.notifications = sum(mails.values())
    result.eml_files = len(list(outbox.glob("*.eml"))) if outbox.exists() else 0
    problems = result.problems

    for referral_id in run.completed:
        found = referrals.get(referral_id)
        if found is None:
            problems.append(f"{referral_id}: completed over HTTP but missing in the database")
            continue
        row = found
        seen = [(e["transition"], e["from_status"], e["to_status"]) for e in events[referral_id]]
        if seen != EXPECTED_EVENTS:
            problems.append(f"{referral_id}: events {seen}")
        if (row["status"], row["version"], row["outcome"]) != ("completed", 5, "need_met"):
            problems.append(
                f"{referral_id}: status {row['status']}, version {row['version']}, "
                f"outcome {row['outcome']!r}"
            )
        if mails[referral_id] != MAILS_PER_CYCLE:
            problems.append(f"{referral_id}: {mails[referral_id]} notifications recorded")
    for referral_id, row in referrals.items():
        chain = events[referral_id]
        if len(chain) != row["version"]:
            problems.append(
                f"{referral_id}: version {row['version']} but {len(chain)} events "
                f"(status {row['status']})"
            )
        statuses = ["draft"] + [e["to_status"] for e in chain]
        if any(e["from_status"] != statuses[i] for i, e in enumerate(chain)) or (
            statuses[-1] != row["status"]
        ):
            problems.append(f"{referral_id}: broken chain {statuses} vs status {row['status']}")
    unknown = set(referrals) - set(run.sent_ok)
    if unknown:
        problems.append(f"{len(unknown)} referrals in the database that no send returned")
    missing = set(run.sent_ok) - set(referrals)
    if missing:
        problems.append(f"{len(missing)} referrals returned by send but not in the database")
    if result.eml_files != result.notifications:
        problems.append(
            f"{result.notifications} notifications recorded but {result.eml_files} .eml files"
        )
    return result


# ---- Report ------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def _latency(values: Sequence[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5):.0f}  p90 {percentile(values, 0.9):.0f}  "
        f"p99 {percentile(values, 0.99):.0f}  max {max(values, default=0):.0f}"
    )


def revision() -> str:
    """The commit measured, and whether the checkout had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head or 'unknown'}{' + uncommitted changes' if dirty else ''}"


def tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return "(no server log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def prepare(args: argparse.Namespace, database: Database) -> tuple[Territory, float]:
    db.use_database(database.url)
    await db.migrate()
    if database.engine == "sqlite" and args.sqlite_journal != "delete":
        # Persistent in the file: the server's connections open it in this mode too.
        path = database.url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            connection.execute(f"PRAGMA journal_mode={args.sqlite_journal}")
    started = time.perf_counter()
    territory = await set_up(args.missions_locales, args.partners)
    return territory, time.perf_counter() - started


async def mail_drained(database_url: str, timeout: float) -> bool:
    db.use_database(database_url)
    deadline = time.monotonic() + timeout
    waiting = OutboxMessage.sent_at.is_null() & OutboxMessage.given_up_at.is_null()
    while await OutboxMessage.exists().where(waiting):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def finish(database: Database, run: Run) -> tuple[Integrity, str]:
    db.use_database(database.url)
    return await check_integrity(run, database.folder / "outbox"), await engine_version(database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--cycles", type=int, default=400, help="life cycles in all")
    parser.add_argument("--seconds", type=float, default=600, help="no new cycle after this")
    parser.add_argument("--missions-locales", type=int, default=4)
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (maillage serve --workers N); above 1, each client's partner "
        "steps use a connection of their own",
    )
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument(
        "--sqlite-journal",
        choices=["delete", "wal"],
        default="wal",
        help="SQLite journal mode: the server sets wal at start-up unless told "
        "MAILLAGE_SQLITE_WAL=0, which delete does",
    )
    parser.add_argument(
        "--server-debug",
        action="store_true",
        help="MAILLAGE_DEBUG=1: the server logs the traceback of every 500",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder and the database"
    )
    args = parser.parse_args()
    command = shlex.join(["python", "benchmarks/referrals_load.py", *sys.argv[1:]])

    database = asyncio.run(open_database(args))
    log_path = database.folder / "server.log"
    print(f"Base : {database.url}\nJournal du serveur : {log_path}", flush=True)
    failed = True
    try:
        territory, setup_s = asyncio.run(prepare(args, database))
        print(
            f"Mise en place : {len(territory.advisors)} Missions Locales, "
            f"{len(territory.partners)} partenaires ({setup_s:.1f} s)",
            flush=True,
        )
        with server(
            database.url,
            database.folder,
            log_path,
            args.server_debug,
            args.workers,
            {"MAILLAGE_SQLITE_WAL": "0"} if args.sqlite_journal == "delete" else None,
        ) as running:
            load_before = os.getloadavg()[0]
            cpu_before = running.cpu_seconds()
            client_before = time.process_time()
            pg_before = postgres_cpu_seconds(database)
            run, wall = asyncio.run(
                drive(
                    running.base_url,
                    territory,
                    args.clients,
                    args.cycles,
                    args.seconds,
                    args.seed,
                    own_partner=args.workers > 1,
                )
            )
            cpu_after = running.cpu_seconds()
            client_cpu = time.process_time() - client_before
            pg_after = postgres_cpu_seconds(database)
            load_after = os.getloadavg()[0]
            # Mail leaves from the outbox after the responses: let the worker finish.
            asyncio.run(mail_drained(database.url, 120))
        integrity, version = asyncio.run(finish(database, run))
        failed = bool(run.errors) or not integrity.ok
    finally:
        if database.cleanup is not None:
            asyncio.run(database.cleanup())
        if failed or args.keep:
            print(f"Dossier conservé : {database.folder}")
        else:
            shutil.rmtree(database.folder, ignore_errors=True)

    server_cpu = "unknown"
    if cpu_before is not None and cpu_after is not None:
        used = cpu_after - cpu_before
        server_cpu = (
            f"{used:.1f} s during the run ({used / wall:.0%} of one core), "
            f"{used * 1000 / max(run.requests, 1):.1f} ms per request"
        )
    every = [ms for step, _, _ in STEPS for ms in run.latencies[step]]
    errors = sum(run.errors.values())
    lines = [
        "Maillage — referral life cycles under concurrency (send → acknowledge → accept → "
        "take_in → close, over HTTP)",
        f"command:     {command}",
        f"date:        {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, revision {revision()}",
        f"machine:     {os.cpu_count()} cores, {platform.machine()}, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}; client, server "
        f"({args.workers} uvicorn worker{'s' if args.workers > 1 else ''}) and database on the "
        "same machine; load average (1 min) "
        f"{load_before:.1f} before, {load_after:.1f} after",
        f"engine:      {version}",
        f"territory:   {len(territory.advisors)} Missions Locales (1 advisor each), "
        f"{len(territory.partners)} partners in the Drôme",
        f"clients:     {args.clients} concurrent, cycles asked {args.cycles}, "
        f"cap {args.seconds:.0f} s",
        f"cycles:      {len(run.completed)} completed, {len(run.aborted)} aborted, "
        f"{run.started} started; partner acted via personal link {run.by_channel['link']}, "
        f"via API token {run.by_channel['token']}",
        f"throughput:  {len(run.completed) / wall:.2f} life cycles/s, "
        f"{run.requests / wall:.1f} requests/s ({run.requests} requests in {wall:.1f} s)",
        f"server CPU:  {server_cpu}",
        f"other CPU:   this client {client_cpu:.1f} s"
        + (
            f", PostgreSQL backends of this database {pg_after - pg_before:.1f} s"
            if pg_before is not None and pg_after is not None
            else ""
        ),
        f"latency ms:  all {_latency(every)}",
    ]
    for step, _, _ in STEPS:
        lines.append(f"  {step:<12}{_latency(run.latencies[step])}")
    for channel in ("link", "token"):
        lines.append(f"  via {channel:<8}{_latency(run.latencies[f'via {channel}'])}")
    if errors:
        lines.append(f"errors:      {errors}")
        for key, count in run.errors.most_common():
            lines.append(f"  {count:>5} × {key} — {run.examples.get(key, '')[:160]!r}")
    else:
        lines.append("errors:      none (every request answered 201 with the expected state)")
    lines.append(
        f"integrity:   {'OK' if integrity.ok else 'FAILED'} — {integrity.referrals} referrals, "
        f"{integrity.events} events, {integrity.notifications} notifications, "
        f"{integrity.eml_files} .eml files; each completed referral has exactly 5 events "
        "(send, acknowledge, accept, take_in, close) with chained statuses and version 5"
    )
    for problem in integrity.problems[:20]:
        lines.append(f"  {problem}")
    if len(integrity.problems) > 20:
        lines.append(f"  … and {len(integrity.problems) - 20} more")
    if errors:
        print(f"\n---- last lines of the server log ({log_path}) ----")
        print(tail(log_path))
        if not args.server_debug:
            print("(the server logs tracebacks only in debug mode: rerun with --server-debug)")
    print()
    print("\n".join(lines))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
