"""A server process hands the memory it freed back to the system (service.memory)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from service import memory

pytestmark = pytest.mark.skipif(memory.trimmer() is None, reason="glibc only")


def _resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_memory_freed_inside_the_heap_goes_back_to_the_system():
    # 80 MB in chunks glibc serves from its heap, then one kept above them: freeing the
    # chunks leaves a hole glibc keeps for itself, until trimmed.
    chunks = [bytes(2000) for _ in range(40_000)]
    kept = bytes(2000)
    del chunks
    before = _resident_mb()
    trim = memory.trimmer()
    assert trim is not None
    trim()
    assert before - _resident_mb() > 40, "the freed chunks stayed resident"
    assert kept == bytes(2000)


async def test_the_trimming_task_ends_as_soon_as_the_server_stops():
    stop = asyncio.Event()
    task = asyncio.create_task(memory.trim_forever(3600, stop))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    stop.set()
    await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 1
