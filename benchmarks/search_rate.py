"""Search over HTTP at national scale under load: requests/s and latency percentiles of
`GET /api/v1/search` measured by wrk (Debian's package; no Python client in the way), at
1, 8 and 32 connections, for `maillage serve --workers 1` and `--workers 2`, and the
server's memory after the runs.

The directory is search_national.py's (same generator, same seed, same population-weighted
queries); reuse a kept one with --database-url, or let this script generate one:

    python benchmarks/search_national.py --engine postgres --keep        # once
    python benchmarks/search_rate.py --database-url postgresql://postgres@127.0.0.1:5432/NAME
    python benchmarks/search_rate.py --engine sqlite --structures 100000  # generates one
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))

import httpx  # noqa: E402
import search_national as national  # noqa: E402
from page_rate import WRK_SCRIPT, ensure_wrk, wrk_run  # noqa: E402

# Cycles through the queries, one after the other on each connection; page_rate's `done`
# prints wrk's own percentiles.
REQUESTS = """
local paths = {%s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def rss_mb(pid: int) -> list[float]:
    """Resident memory of the server and of each of its workers, in MB."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    sizes = []
    for each in pids:
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def cpu_seconds(pid: int) -> float:
    """CPU time of the server and its workers so far."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    pids = [pid] + ([int(p) for p in children.read_text().split()] if children.exists() else [])
    ticks = 0
    for each in pids:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid: int, timeout: float = 180) -> float:
    """Every worker builds its own index at start; the first search answers as soon as one
    has. Measuring from there timed the other worker's build too (it shares the cores):
    wait until the server uses under 5 % of a core over a second."""
    started = time.perf_counter()
    before = cpu_seconds(pid)
    while time.perf_counter() - started < timeout:
        time.sleep(1)
        now = cpu_seconds(pid)
        if now - before < 0.05:
            break
        before = now
    return time.perf_counter() - started


def wait_for_index(base: str, token: str, path: str) -> float:
    """The first search waits for the index the server builds at start-up: its time."""
    started = time.perf_counter()
    response = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=600)
    response.raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--structures", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--postgres-admin-url", default=national.DEFAULT_PG_ADMIN_URL)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    command = shlex.join(["python", "benchmarks/search_rate.py", *sys.argv[1:]])
    wrk_path = ensure_wrk()
    database = asyncio.run(national.open_database(args))
    lines = [
        "Maillage — search over HTTP under load (wrk)",
        f"command:   {command}",
        f"machine:   {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}; load average before: {os.getloadavg()[0]:.2f}",
    ]
    try:
        _, token = asyncio.run(national.prepare(args, database))
        queries = national.make_queries(args.seed, args.queries)
        paths = ["/api/v1/search?" + urlencode(q.params()) for q in queries]
        lines.append(
            f"database:  {database.engine}; {args.queries} population-weighted queries "
            f"(needs {national.NEEDS}, radius {national.RADII_KM} km), cycled"
        )
        lines.append("workers clients   req/s    p50 ms   p95 ms   p99 ms  errors")
        log_path = Path(tempfile.gettempdir()) / f"maillage-rate-{os.getpid()}.log"
        for workers in args.workers:
            started: list[subprocess.Popen[bytes]] = []
            with national.server(database.url, log_path, workers, started.append) as base:
                ready = wait_for_index(base, token, paths[0])
                idle = wait_until_idle(started[0].pid)
                script = REQUESTS % ", ".join(f'"{p}"' for p in paths) + WRK_SCRIPT
                header = f"Authorization: Bearer {token}"
                for clients in args.clients:
                    got = wrk_run(wrk_path, base, header, clients, args.seconds, script)
                    lines.append(
                        f"{workers:>7} {clients:>7} {got['rps']:>7.1f} {got['p50']:>9.1f} "
                        f"{got['p95']:>8.1f} {got['p99']:>8.1f} {got['errors']:>7}"
                    )
                sizes = rss_mb(started[0].pid)
                lines.append(
                    f"        first search after start {ready:.1f} s, server idle {idle:.1f} s "
                    "later; RSS after the runs: " + " + ".join(f"{s:.0f}" for s in sizes) + " MB"
                )
        lines.append(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if database.cleanup is not None and not args.keep:
            asyncio.run(database.cleanup())
    print("\n".join(lines))


if __name__ == "__main__":
    main()
