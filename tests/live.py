"""A real `maillage serve` process on a free loopback port, for tests that need one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Starts `maillage serve` with its clock moved by time-machine (ticking from `at`).
_AT = (
    "import sys, datetime, time_machine; "
    "time_machine.travel(datetime.datetime.fromisoformat(sys.argv.pop(1)), tick=True).start(); "
    "from service.cli import main; main()"
)


@contextmanager
def running_server(database_url: str, at: datetime | None = None) -> Iterator[str]:
    """Yields the server's base URL; stops the server whatever happens. With `at`, the
    server's clock starts at that moment (for journeys that need time to pass)."""
    port = free_port()
    env = {**os.environ, "MAILLAGE_DATABASE_URL": database_url}
    start = [sys.executable, "-m", "service.cli"]
    if at is not None:
        start = [sys.executable, "-c", _AT, at.isoformat()]
    server = subprocess.Popen(
        [*start, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None:
                    raise RuntimeError(server.stdout.read().decode()) from None
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start in 30 s") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()
