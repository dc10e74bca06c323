"""The freshness scale at fixed moments, boundaries included: a pure function of two
moments, so no clock is read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from directory.freshness import Level, freshness, months_between

VERIFIED = datetime(2025, 3, 15, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "level", "phrase"),
    [
        (datetime(2025, 3, 15, 10, 5, tzinfo=UTC), Level.FRESH, "vérifiée il y a 5 minutes"),
        (datetime(2025, 6, 20, tzinfo=UTC), Level.FRESH, "vérifiée il y a 3 mois"),
        # The day before six months: still fresh; six months to the minute: to review.
        (datetime(2025, 9, 15, 9, 59, tzinfo=UTC), Level.FRESH, "vérifiée il y a 5 mois"),
        (datetime(2025, 9, 15, 10, 0, tzinfo=UTC), Level.REVIEW, "vérifiée il y a 6 mois"),
        (datetime(2026, 3, 15, 9, 59, tzinfo=UTC), Level.REVIEW, "vérifiée il y a 11 mois"),
        (
            datetime(2026, 3, 15, 10, 0, tzinfo=UTC),
            Level.CHECK,
            "à vérifier : plus de 12 mois (vérifiée il y a 1 an",
        ),
        (
            datetime(2027, 3, 15, 9, 59, tzinfo=UTC),
            Level.CHECK,
            "à vérifier : plus de 12 mois (vérifiée il y a 1 an",
        ),
        (
            datetime(2027, 3, 15, 10, 0, tzinfo=UTC),
            Level.STALE,
            "périmée : plus de 2 ans (vérifiée il y a 2 ans",
        ),
    ],
)
def test_levels_and_phrases_at_fixed_moments(now: datetime, level: Level, phrase: str) -> None:
    found = freshness(VERIFIED, "Nadia Belkacem", now)
    assert found.level is level
    assert found.phrase.startswith(phrase)
    assert "par Nadia Belkacem" in found.phrase


def test_never_verified_is_stale_and_says_so() -> None:
    found = freshness(None, "", datetime(2025, 1, 1, tzinfo=UTC))
    assert (found.level, found.label, found.phrase) == (Level.STALE, "périmée", "jamais vérifiée")


def test_months_are_calendar_months_end_of_month_included() -> None:
    jan_31 = datetime(2025, 1, 31, tzinfo=UTC)
    assert months_between(jan_31, datetime(2025, 2, 28, tzinfo=UTC)) == 0
    assert months_between(jan_31, datetime(2025, 3, 31, tzinfo=UTC)) == 2
    # A verification "in the future" (clocks of two machines) reads as just now.
    assert months_between(jan_31, datetime(2025, 1, 1, tzinfo=UTC)) == 0
    assert freshness(jan_31, "", datetime(2025, 1, 30, tzinfo=UTC)).level is Level.FRESH
