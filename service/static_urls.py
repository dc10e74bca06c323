"""Addresses of our static files carrying a digest of their content, so that a browser may
keep them for a year and still gets the new file the moment it changes (a phone on a slow
connection then fetches the stylesheet once, not on every page)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
PREFIX = "/static/"
# A versioned address never changes content: keep it a year. Anything else is checked
# with the server each time (ETag / Last-Modified) so it is never stale.
VERSIONED = "public, max-age=31536000, immutable"
UNVERSIONED = "no-cache"


@cache
def _digest(name: str) -> str:
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR.resolve() not in path.parents or not path.is_file():
        raise ValueError(f"no static file {name!r}")
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """'maillage.css' -> '/static/maillage.css?v=<digest of its content>'."""
    return f"{PREFIX}{name}?v={_digest(name)}"


def cache_control(path: str, query: bytes) -> str | None:
    """The Cache-Control of a static file's response, None for anything else."""
    if not path.startswith(PREFIX):
        return None
    versioned = any(part.startswith(b"v=") for part in query.split(b"&"))
    return VERSIONED if versioned else UNVERSIONED
