"""The cost of an authenticated page: `maillage serve` on SQLite and PostgreSQL, one signed-in
user, and GET /compte (session lookup, actor, template, headers) hit by 1, 8 and 32
concurrent clients for a fixed time with wrk (Debian's package, installed when missing).

    python benchmarks/page_rate.py                     # both engines, 10 s per level
    python benchmarks/page_rate.py --engine sqlite --seconds 5 --clients 1 8

Prints requests per second and the p50/p95 latency of each level, then a block to paste.
The server and the load tool share the machine's cores: figures are for comparing runs made
in the same conditions, not absolute capacities.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from benchmarks.search_national import DEFAULT_PG_ADMIN_URL, _pg_admin, server  # noqa: E402
from service import db  # noqa: E402
from service.accounts.store import Role, create_user, open_session  # noqa: E402
from service.auth import SESSION_COOKIE  # noqa: E402

PATH = "/compte"
# wrk reports its own percentiles: one parsable line at the end of each run.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    command = ["apt-get", "install", "-y", "wrk"]
    if os.geteuid() != 0:
        command.insert(0, "sudo")
    print(f"wrk absent : {shlex.join(command)}", flush=True)
    subprocess.run(command, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("wrk") or "wrk"


async def sign_in(database_url: str) -> str:
    """A fresh database, one coordinator, one session: the cookie value."""
    db.use_database(database_url)
    await db.migrate()
    email = f"page-rate-{uuid.uuid4().hex[:8]}@exemple.fr"
    user_id = await create_user(email, "Banc d'essai", "page-rate-password", Role.COORDINATOR)
    return await open_session(user_id)


def wrk_run(
    wrk: str, url: str, header: str, clients: int, seconds: int, script: str = WRK_SCRIPT
) -> dict[str, float]:
    """One wrk run with one header (a cookie, a token) and a Lua script that ends with
    WRK_SCRIPT's `done`: requests/s, p50, p95 and p99 in ms, errors."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    try:
        out = subprocess.run(
            [
                wrk,
                f"-t{min(clients, 2)}",
                f"-c{clients}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                lua.name,
                "-H",
                header,
                url,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        os.unlink(lua.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    requests, duration_us, p50_us, p95_us, p99_us, errors = (int(v) for v in line.split()[1:])
    return {
        "rps": requests / (duration_us / 1e6),
        "p50": p50_us / 1000,
        "p95": p95_us / 1000,
        "p99": p99_us / 1000,
        "errors": errors,
        "requests": requests,
    }


def measure(engine: str, args: argparse.Namespace, wrk: str) -> list[str]:
    folder = tempfile.mkdtemp(prefix="maillage-page-rate-")
    name = f"maillage_page_rate_{os.getpid()}"
    if engine == "postgres":
        asyncio.run(_pg_admin(args.postgres_admin_url, f'CREATE DATABASE "{name}"'))
        url = f"{args.postgres_admin_url.rsplit('/', 1)[0]}/{name}"
    else:
        url = f"sqlite:///{folder}/maillage.sqlite"
    lines = []
    try:
        cookie = asyncio.run(sign_in(url))
        with server(url, Path(folder) / "server.log", args.workers) as base_url:
            page = httpx.get(base_url + PATH, cookies={SESSION_COOKIE: cookie})
            if page.status_code != 200:
                raise RuntimeError(f"{PATH} answered {page.status_code}, not 200")
            header = f"Cookie: {SESSION_COOKIE}={cookie}"
            wrk_run(wrk, base_url + PATH, header, 4, 2)  # warm-up
            for clients in args.clients:
                r = wrk_run(wrk, base_url + PATH, header, clients, args.seconds)
                lines.append(
                    f"{engine:8} {clients:3} clients: {r['rps']:7.0f} req/s  "
                    f"p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
                    f"({r['requests']} requests, {r['errors']:.0f} errors)"
                )
                print(lines[-1], flush=True)
    finally:
        if engine == "postgres":
            asyncio.run(
                _pg_admin(args.postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )
        shutil.rmtree(folder, ignore_errors=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1, help="maillage serve --workers N")
    parser.add_argument("--postgres-admin-url", default=DEFAULT_PG_ADMIN_URL)
    args = parser.parse_args()
    wrk = ensure_wrk()
    engines = ["sqlite", "postgres"] if args.engine == "both" else [args.engine]
    lines = [
        f"Maillage — authenticated page rate (GET {PATH}, wrk, {args.seconds} s per level)",
        f"command: {shlex.join(['python', 'benchmarks/page_rate.py', *sys.argv[1:]])}",
        f"date:    {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, maillage serve --workers {args.workers}",
    ]
    for engine in engines:
        lines += measure(engine, args, wrk)
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
