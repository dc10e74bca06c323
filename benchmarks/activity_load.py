"""Server time of the referral activity page, its JSON and one CSV export.

Loads the demo territory (`maillage migrate` + `maillage demo`) into a fresh SQLite file,
optionally adds `--referrals` synthetic referrals sent by the demo Mission Locale over the
last twelve months (random partners, domains and outcomes, with the acceptance events the
wandering alerts read), starts `maillage serve` on loopback and fetches each URL with httpx
as the demo coordinator (an API token): one warm-up, then `--loads` times, headers to last
byte. It prints the median and p90 in milliseconds.

    python benchmarks/activity_load.py                       # the demo's referrals
    python benchmarks/activity_load.py --referrals 20000     # a busy Mission Locale's year

First figures (2-core machine shared with other jobs, load average 3-4; 2 December 2026),
server time headers to last byte:

| URL | referrals added | median (ms) | p90 (ms) |
|---|---:|---:|---:|
| /activite | 0 (demo) | 15.6 | 17.2 |
| /api/v1/activite | 0 (demo) | 5.4 | 8.9 |
| /api/v1/activite/partenaires.csv | 0 (demo) | 4.8 | 5.2 |
| /activite | 20,000 | 2,748 | 3,013 |
| /api/v1/activite | 20,000 | 3,005 | 3,108 |
| /api/v1/activite/partenaires.csv | 20,000 | 2,624 | 2,902 |

At 20,000 referrals the time was 10-15 s before the rows were read in two SQL queries,
each referral's waits counted once, and working time counted by whole weeks; what is left
is about a third reading rows and two thirds the censored figures in Python.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live import running_server  # noqa: E402

COORDINATOR = "coordination@demo.maillage.fr"
PATHS = ("/activite", "/api/v1/activite", "/api/v1/activite/partenaires.csv")
# status, transitions with their delay in days after sending
STORIES = (
    ("sent", ()),
    ("received", (("acknowledge", 1),)),
    ("accepted", (("accept", 2),)),
    ("in_progress", (("accept", 2), ("take_in", 9))),
    ("completed", (("accept", 1), ("take_in", 8), ("close", 40))),
    ("failed", (("accept", 3), ("no_show", 10))),
    ("declined", (("decline", 4),)),
    ("redirected", (("redirect", 3),)),
    ("expired", (("expire", 45),)),
    ("cancelled", (("withdraw", 5),)),
)
REASONS = ("not_eligible", "no_capacity", "outside_zone", "wrong_service", "other")


def _cli(database_url: str, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "service.cli", "--database-url", database_url, *args],
        capture_output=True,
        check=True,
        cwd=ROOT,
    )


def _referral(
    young: uuid.UUID, ml: uuid.UUID, to: uuid.UUID, sent: datetime, rng: random.Random
) -> tuple[dict, list[dict]]:
    status, steps = rng.choice(STORIES)
    referral_id = uuid.uuid4()
    at = {name: sent + timedelta(days=days) for name, days in steps}
    answered = next((at[t] for t in ("accept", "decline", "redirect") if t in at), None)
    closed = next(
        (
            at[t]
            for t in ("close", "no_show", "decline", "redirect", "expire", "withdraw")
            if t in at
        ),
        None,
    )
    row = {
        "id": referral_id,
        "young_person": young,
        "from_structure": ml,
        "to_structure": to,
        "domain": rng.choice(["housing", "health", "employment", "training", "mobility"]),
        "status": status,
        "sent_at": sent,
        "acknowledge_due": sent + timedelta(days=7),
        "answer_due": sent + timedelta(days=14),
        "acknowledged_at": at.get("acknowledge", answered),
        "answered_at": answered,
        "closed_at": closed,
        "decline_reason": rng.choice(REASONS) if status == "declined" else "",
        "created_at": sent,
    }
    events = [
        {
            "id": uuid.uuid4(),
            "referral": referral_id,
            "at": moment,
            "actor_kind": "partner",
            "transition": name,
            "from_status": "",
            "to_status": "",
        }
        for name, moment in at.items()
    ]
    return row, events


async def _add_referrals(database_url: str, count: int) -> None:
    """Synthetic referrals, written straight into the tables: the exchange's rules are not
    what is measured here, only reading them back."""
    from directory.tables import Structure
    from service import db
    from service.accounts.tables import User
    from service.referrals.tables import Referral, ReferralEvent, YoungPerson

    db.use_database(database_url)
    coordinator = await User.select(User.structure).where(User.email == COORDINATOR).first()
    ml = coordinator["structure"]
    partners = [r["id"] for r in await Structure.select(Structure.id) if r["id"] != ml]
    rng = random.Random(13)
    now = datetime.now(UTC)
    young_ids = [uuid.uuid4() for _ in range(max(count // 3, 1))]
    for start in range(0, len(young_ids), 500):
        await YoungPerson.insert(
            *[
                YoungPerson(id=y, first_name="Jeune", commune="26362", created_at=now)
                for y in young_ids[start : start + 500]
            ]
        )
    rows, events = [], []
    for _ in range(count):
        sent = now - timedelta(days=rng.uniform(0, 365))
        row, made = _referral(rng.choice(young_ids), ml, rng.choice(partners), sent, rng)
        rows.append(row)
        events.extend(made)
    for start in range(0, len(rows), 500):
        await Referral.insert(*[Referral(**r) for r in rows[start : start + 500]])
    for start in range(0, len(events), 500):
        await ReferralEvent.insert(*[ReferralEvent(**e) for e in events[start : start + 500]])


async def _token(database_url: str) -> str:
    from service import db
    from service.accounts.store import create_api_token
    from service.accounts.tables import User

    db.use_database(database_url)
    user = await User.select(User.id).where(User.email == COORDINATOR).first()
    return await create_api_token(user["id"], "activity benchmark")


def _times(base: str, token: str, path: str, loads: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        assert client.get(path).status_code == 200, path  # warm-up
        for _ in range(loads):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--referrals", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite"
        _cli(url, "migrate")
        _cli(url, "demo")
        if args.referrals:
            asyncio.run(_add_referrals(url, args.referrals))
        token = asyncio.run(_token(url))
        with running_server(url) as base:
            print("| URL | referrals added | median (ms) | p90 (ms) |\n|---|---:|---:|---:|")
            for path in PATHS:
                times = sorted(_times(base, token, path, args.loads))
                p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
                print(f"| {path} | {args.referrals} | {statistics.median(times):.1f} | {p90:.1f} |")


if __name__ == "__main__":
    main()
