"""What a server process gives back to the system: glibc keeps the memory a process frees
(the rows of a word's lookup, a burst's requests) for its own reuse, and a process's
resident size only grows. A no-op where the C library is not glibc."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
from collections.abc import Callable

# glibc's mallopt parameter M_ARENA_MAX, and the arenas a server process may use.
_M_ARENA_MAX = -8
_MALLOC_ARENAS = 2


def _glibc() -> ctypes.CDLL | None:
    with contextlib.suppress(OSError):
        libc = ctypes.CDLL("libc.so.6")
        if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt"):
            return libc
    return None


def few_malloc_arenas() -> None:
    """glibc gives each thread that allocates its own arena, up to eight per core, and
    keeps what they once held: the SQLite connections' threads made a national server
    100 MB heavier after a load run (search_rate.py). Before those threads start."""
    if (libc := _glibc()) is not None:
        libc.mallopt(_M_ARENA_MAX, _MALLOC_ARENAS)


def trimmer() -> Callable[[], None] | None:
    """Hands the free pages inside glibc's heaps back to the system: 10 to 17 MB of a
    national SQLite server after a load run, in half a millisecond."""
    libc = _glibc()
    return None if libc is None else lambda: libc.malloc_trim(0)


async def trim_forever(every_seconds: float, stop: asyncio.Event) -> None:
    """Give freed memory back every `every_seconds` until `stop`."""
    trim = trimmer()
    if trim is None:
        return
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_seconds)
        trim()
