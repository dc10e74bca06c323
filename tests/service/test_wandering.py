"""Wandering (errance) signals on hand-made journeys: a bounce is a return to the same
structure, known by its id, within the 90-day window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from service.referrals.inbox import ReferralSummary, wandering
from service.referrals.machine import Status

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
YOUNG = uuid4()


def _referral(
    structure: UUID, name: str, days_ago: int, status: Status = Status.DECLINED
) -> ReferralSummary:
    return ReferralSummary(
        id=uuid4(),
        status=status,
        status_label=status.label,
        domain="housing",
        urgency="normal",
        young_person_id=YOUNG,
        young_first_name="Yanis",
        from_structure_name="Mission Locale",
        to_structure_name=name,
        referent_name="Camille Rousset",
        to_structure_id=structure,
        sent_at=NOW - timedelta(days=days_ago),
        acknowledge_due=None,
        answer_due=None,
        overdue=False,
        parent_id=None,
    )


def test_returning_to_the_same_structure_within_90_days_is_a_bounce():
    foyer = uuid4()
    kinds, messages = wandering(
        [_referral(foyer, "Foyer", 40), _referral(foyer, "Foyer", 5, Status.SENT)], NOW
    )
    assert kinds == ["bounce_back"]
    assert messages == ["Renvoyé·e vers une structure déjà essayée : Foyer."]


def test_two_structures_with_the_same_name_are_not_a_bounce():
    kinds, _ = wandering(
        [
            _referral(uuid4(), "Foyer Jeunes Travailleurs", 40),
            _referral(uuid4(), "Foyer Jeunes Travailleurs", 5),
        ],
        NOW,
    )
    assert "bounce_back" not in kinds


def test_a_return_after_the_window_is_not_a_bounce():
    foyer = uuid4()
    kinds, _ = wandering(
        [
            _referral(foyer, "Foyer", 200, Status.COMPLETED),
            _referral(foyer, "Foyer", 5, Status.SENT),
        ],
        NOW,
    )
    assert kinds == []


def test_a_renamed_structure_is_still_the_same_one():
    foyer = uuid4()
    kinds, messages = wandering(
        [_referral(foyer, "Foyer du Rhône", 30), _referral(foyer, "Résidence Rhône", 3)], NOW
    )
    assert kinds == ["bounce_back"]
    assert messages == ["Renvoyé·e vers une structure déjà essayée : Résidence Rhône."]
