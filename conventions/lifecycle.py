"""A convention's status follows its dates; only termination is an act. One screen."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

EXPIRING_WITHIN = timedelta(days=90)


class ConventionStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    TERMINATED = "terminated"

    @property
    def label(self) -> str:
        return {
            "draft": "En préparation",
            "active": "En vigueur",
            "expiring": "Expire dans moins de 90 jours",
            "expired": "Expirée",
            "terminated": "Résiliée",
        }[self.value]

    @property
    def in_force(self) -> bool:
        """Whether its commitments apply to referrals today."""
        return self in (ConventionStatus.ACTIVE, ConventionStatus.EXPIRING)


def status(
    signed_on: date | None,
    starts_on: date,
    ends_on: date | None,
    terminated_on: date | None,
    today: date,
) -> ConventionStatus:
    if terminated_on is not None and terminated_on <= today:
        return ConventionStatus.TERMINATED
    if signed_on is None or starts_on > today:
        return ConventionStatus.DRAFT
    if ends_on is not None and ends_on < today:
        return ConventionStatus.EXPIRED
    if ends_on is not None and ends_on - today <= EXPIRING_WITHIN:
        return ConventionStatus.EXPIRING
    return ConventionStatus.ACTIVE


def can_terminate(current: ConventionStatus) -> bool:
    """A convention can be ended early while it is being prepared or in force."""
    return current in (ConventionStatus.DRAFT, ConventionStatus.ACTIVE, ConventionStatus.EXPIRING)
