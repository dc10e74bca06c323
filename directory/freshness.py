"""How fresh a record of the directory is, from when it was last verified. The scale is
close to data·inclusion's quality score: fresh under 6 months, worth a look from 6 months,
to verify from a year, worthless at two years. A pure function of two moments, so that
pages, search results and the API say the same thing and tests can pin the clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from babel.dates import format_timedelta
from msgspec import Struct


class Level(StrEnum):
    FRESH = "fraiche"
    REVIEW = "a-revoir"
    CHECK = "a-verifier"
    STALE = "perimee"


LEVEL_LABELS = {
    Level.FRESH: "fraîche",
    Level.REVIEW: "à revoir",
    Level.CHECK: "à vérifier",
    Level.STALE: "périmée",
}


class Freshness(Struct):
    level: Level
    label: str  # the level in French, as shown next to the record
    phrase: str  # e.g. "vérifiée il y a 3 mois par Nadia Belkacem"


def months_between(earlier: datetime, later: datetime) -> int:
    """Whole calendar months from `earlier` to `later` (0 when later is earlier)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    if (later.day, later.time()) < (earlier.day, earlier.time()):
        months -= 1
    return max(months, 0)


def level_of(months: int) -> Level:
    if months < 6:
        return Level.FRESH
    if months < 12:
        return Level.REVIEW
    if months < 24:
        return Level.CHECK
    return Level.STALE


def _ago(verified_at: datetime, now: datetime, months: int) -> str:
    if months == 0:
        age = max(now - verified_at, timedelta(0))
        return "il y a " + format_timedelta(age, locale="fr", threshold=1.0)
    if months < 12:
        return f"il y a {months} mois"
    years = months // 12
    return f"il y a {years} an" + ("s" if years > 1 else "")


def freshness(verified_at: datetime | None, verified_by: str, now: datetime) -> Freshness:
    """The level and the French phrase for a record verified at `verified_at` (None:
    never) by `verified_by` (a name or an import's label; may be empty), seen at `now`."""
    if verified_at is None:
        return Freshness(Level.STALE, LEVEL_LABELS[Level.STALE], "jamais vérifiée")
    months = months_between(verified_at, now)
    level = level_of(months)
    by = f" par {verified_by}" if verified_by else ""
    seen = f"vérifiée {_ago(verified_at, now, months)}{by}"
    if level is Level.CHECK:
        phrase = f"à vérifier : plus de 12 mois ({seen})"
    elif level is Level.STALE:
        phrase = f"périmée : plus de 2 ans ({seen})"
    else:
        phrase = seen
    return Freshness(level, LEVEL_LABELS[level], phrase)
