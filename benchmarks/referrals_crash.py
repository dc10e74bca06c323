"""Referrals sent while the server is killed with SIGKILL at random moments, then restarted.

1. Creates a fresh database (SQLite in a temporary folder, or a new PostgreSQL database)
   and a small territory, as benchmarks/referrals_load.py does.
2. Starts `maillage serve` on loopback (mail as .eml files into the temporary folder, the
   mail worker on), and runs `--clients` clients that send referrals, each request with an
   `Idempotency-Key`. When a request gets no answer (the server died), the client keeps
   retrying the same request with the same key until the server answers, within a bound.
3. Meanwhile it kills the server with SIGKILL `--kills` times, at random moments, and
   restarts it each time on the same port.
4. Once the last server has had time to deliver, it counts, from the database and the
   .eml files:
   (a) referrals committed whose response was lost and that the client could not recover
       by retrying with its key (and referrals committed twice for one request);
   (b) committed referrals whose partner email was never sent;
   and messages sent twice (a kill between an SMTP/file write and its record).

    python benchmarks/referrals_crash.py                        # SQLite
    python benchmarks/referrals_crash.py --engine postgres      # fresh PostgreSQL database
    python benchmarks/referrals_crash.py --kills 5 --clients 4  # quick check
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import os
import platform
import random
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx  # noqa: E402
from referrals_load import (  # noqa: E402
    DEFAULT_PG_ADMIN_URL,
    FIRST_NAMES,
    Database,
    Territory,
    _free_port,
    engine_version,
    open_database,
    revision,
    set_up,
)

from service import db  # noqa: E402
from service.referrals.tables import OutboxMessage, Referral, YoungPerson  # noqa: E402


class Server:
    """`maillage serve` on a fixed loopback port, that can be killed and started again."""

    def __init__(self, database_url: str, folder: Path, port: int) -> None:
        self.database_url = database_url
        self.folder = folder
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = (folder / "server.log").open("ab")
        self.starts = 0

    def start(self, timeout: float = 60) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILLAGE_")}
        env.update(
            PYTHONPATH=str(ROOT),
            MAILLAGE_MAIL_OUTBOX=str(self.folder / "outbox"),
            MAILLAGE_BASE_URL=self.base_url,
        )
        command = [sys.executable, "-m", "service.cli", "--database-url", self.database_url]
        command += ["serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self.log, stderr=self.log
        )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server stopped (exit {self.process.returncode})")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /healthz within {timeout:.0f} s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@dataclass
class Request:
    tag: str
    key: str
    first_try_lost: bool = False
    lost_at: datetime | None = None  # when the first try got no answer
    tries: int = 0
    referral_id: str | None = None  # what the client finally heard


@dataclass
class Run:
    deadline: float
    requests: list[Request] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    stop: bool = False


def _body(territory: Territory, rng: random.Random, tag: str) -> dict[str, Any]:
    partner = rng.choice(territory.partners)
    return {
        "to_structure_id": str(partner.structure_id),
        "to_service_id": str(partner.service_id),
        "to_contact_id": str(partner.contact_id),
        "domain": partner.domain.value,
        "message": "Cherche un accompagnement, disponible en semaine.",
        "young_person": {
            "first_name": rng.choice(FIRST_NAMES),
            "commune": rng.choice(territory.communes),
            # The tag finds the request's referrals in the database afterwards.
            "email": f"jeune.{tag}@exemple.fr",
            "channel": "email",
        },
        "consent": {"given": True, "shares": ["commune", "message"]},
    }


async def client_loop(
    run: Run, base_url: str, territory: Territory, number: int, seed: int, retry_for: float
) -> None:
    rng = random.Random(f"{seed}-{number}")
    headers = {"Authorization": f"Bearer {territory.advisors[number % len(territory.advisors)]}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        while not run.stop and time.monotonic() < run.deadline:
            tag = uuid.UUID(int=rng.getrandbits(128)).hex[:16]
            request = Request(tag=tag, key=str(uuid.UUID(int=rng.getrandbits(128))))
            run.requests.append(request)
            body = _body(territory, rng, tag)
            give_up = None
            while True:
                request.tries += 1
                try:
                    response = await client.post(
                        "/api/v1/referrals",
                        json=body,
                        headers={**headers, "Idempotency-Key": request.key},
                    )
                except httpx.HTTPError:
                    # No answer: the server died. Retry the same request with the same key.
                    if request.tries == 1:
                        request.first_try_lost = True
                        request.lost_at = datetime.now(UTC)
                        give_up = time.monotonic() + retry_for
                    if give_up is not None and time.monotonic() > give_up:
                        run.statuses["gave up retrying"] += 1
                        break
                    await asyncio.sleep(0.2)
                    continue
                run.statuses[str(response.status_code)] += 1
                if response.status_code == 201:
                    request.referral_id = response.json()["id"]
                break


async def killer(run: Run, server: Server, kills: int, rng: random.Random) -> int:
    done = 0
    while done < kills and time.monotonic() < run.deadline:
        await asyncio.sleep(rng.uniform(0.2, 2.0))
        server.kill()
        done += 1
        await asyncio.sleep(rng.uniform(0.0, 0.5))
        await asyncio.to_thread(server.start)
    return done


async def drive(args: argparse.Namespace, server: Server, territory: Territory) -> Run:
    run = Run(deadline=time.monotonic() + args.seconds)
    rng = random.Random(args.seed)
    clients = [
        asyncio.create_task(
            client_loop(run, server.base_url, territory, i, args.seed, args.retry_for)
        )
        for i in range(args.clients)
    ]
    kills = await killer(run, server, args.kills, rng)
    run.stop = True  # the clients finish the request they are on, retries included
    await asyncio.wait_for(asyncio.gather(*clients), timeout=args.retry_for + 60)
    run.statuses["kills"] = kills
    return run


async def wait_for_mail(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    waiting = OutboxMessage.sent_at.is_null() & OutboxMessage.given_up_at.is_null()
    while await OutboxMessage.exists().where(waiting):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


@dataclass
class Figures:
    requests: int = 0
    answered_first_time: int = 0
    responses_lost: int = 0
    lost_but_committed: int = 0
    recovered_by_retry: int = 0
    unrecovered: int = 0
    committed_twice: int = 0
    committed: int = 0
    partner_mail_missing: int = 0
    partner_mail_twice: int = 0
    messages_waiting: int = 0
    eml_files: int = 0
    written_twice: int = 0


async def count(run: Run, outbox: Path) -> Figures:
    figures = Figures(requests=len(run.requests))
    rows = await Referral.select(
        Referral.id, Referral.created_at, Referral.young_person.email.as_alias("young_email")
    )
    by_tag: dict[str, list[str]] = {}
    created: dict[str, datetime] = {}
    for row in rows:
        tag = row["young_email"].removeprefix("jeune.").split("@")[0]
        by_tag.setdefault(tag, []).append(str(row["id"]))
        created[str(row["id"])] = row["created_at"]
    figures.committed = len(rows)
    committed_ids = {str(r["id"]) for r in rows}
    for request in run.requests:
        found = by_tag.get(request.tag, [])
        figures.committed_twice += max(len(found) - 1, 0)
        if not request.first_try_lost:
            figures.answered_first_time += 1
            continue
        figures.responses_lost += 1
        assert request.lost_at is not None
        # Committed by the attempt whose response was lost, not by a later retry.
        if any(created[i] <= request.lost_at for i in found):
            figures.lost_but_committed += 1
            if request.referral_id in found:
                figures.recovered_by_retry += 1
            else:
                figures.unrecovered += 1
    # (b) every committed referral's partner email, as an .eml file written by the worker.
    files: Counter[str] = Counter()
    message_ids: Counter[str] = Counter()
    for path in outbox.glob("*.eml") if outbox.exists() else []:
        figures.eml_files += 1
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        message_ids[str(message["Message-ID"])] += 1
        subject = " ".join(str(message["Subject"] or "").split()).removeprefix("[Urgent] ")
        if subject.startswith("Nouvelle orientation"):
            files[str(message["X-Maillage-Referral"])] += 1
    figures.partner_mail_missing = sum(1 for i in committed_ids if files[i] == 0)
    figures.partner_mail_twice = sum(1 for i in committed_ids if files[i] > 1)
    figures.written_twice = sum(1 for n in message_ids.values() if n > 1)
    waiting = OutboxMessage.sent_at.is_null() & OutboxMessage.given_up_at.is_null()
    figures.messages_waiting = await OutboxMessage.count().where(waiting)
    # Young people created by requests that never reached the database do not exist.
    assert await YoungPerson.count() >= len(by_tag)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kills", type=int, default=15, help="SIGKILLs in all")
    parser.add_argument("--seconds", type=float, default=300, help="time cap of the run")
    parser.add_argument(
        "--retry-for", type=float, default=60, help="how long a client retries a lost request"
    )
    parser.add_argument("--missions-locales", type=int, default=4)
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument("--keep", action="store_true", help="keep the folder and database")
    args = parser.parse_args()
    command = shlex.join(["python", "benchmarks/referrals_crash.py", *sys.argv[1:]])

    database: Database = asyncio.run(open_database(args))
    print(f"Base : {database.url}\nDossier : {database.folder}", flush=True)

    async def prepare() -> Territory:
        db.use_database(database.url)
        await db.migrate()
        return await set_up(args.missions_locales, args.partners)

    server = Server(database.url, database.folder, _free_port())
    try:
        territory = asyncio.run(prepare())
        server.start()
        run = asyncio.run(drive(args, server, territory))

        async def settle_and_count() -> tuple[bool, Figures, str]:
            db.use_database(database.url)
            drained = await wait_for_mail(150)
            return (
                drained,
                await count(run, database.folder / "outbox"),
                (await engine_version(database)),
            )

        drained, figures, version = asyncio.run(settle_and_count())
    finally:
        server.stop()
        if database.cleanup is not None:
            asyncio.run(database.cleanup())
        if not args.keep:
            shutil.rmtree(database.folder, ignore_errors=True)

    lines = [
        "Maillage — referrals under SIGKILL: committed but unanswered, and mail never sent",
        f"command:     {command}",
        f"date:        {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, revision {revision()}",
        f"machine:     {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}; client, server and database on one machine (loopback)",
        f"engine:      {version}",
        f"run:         {args.clients} clients, {run.statuses['kills']} SIGKILLs, "
        f"{server.starts} server starts; answers {dict(run.statuses)}",
        f"requests:    {figures.requests} ({figures.answered_first_time} answered at once, "
        f"{figures.responses_lost} lost their response)",
        f"lost:        {figures.lost_but_committed} of them had committed the referral before "
        f"the kill; {figures.recovered_by_retry} recovered by retrying with the same "
        "Idempotency-Key",
        f"(a)          {figures.unrecovered} committed referrals the client could not recover; "
        f"{figures.committed_twice} referrals committed twice for one request",
        f"(b)          {figures.partner_mail_missing} of {figures.committed} committed referrals "
        f"without their partner email once the worker ran "
        f"({'outbox drained' if drained else 'outbox NOT drained after 150 s'}, "
        f"{figures.messages_waiting} messages waiting, {figures.eml_files} .eml files)",
        f"duplicates:  {figures.written_twice} messages written twice, of which "
        f"{figures.partner_mail_twice} partner emails (a kill between the write and its "
        "record; same Message-ID)",
    ]
    print()
    print("\n".join(lines))
    bad = figures.unrecovered or figures.committed_twice or figures.partner_mail_missing
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
