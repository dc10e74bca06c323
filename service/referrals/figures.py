"""Honest response-time figures for a partner, to help advisors, never to rank partners.

A plain average of the answered referrals flatters a partner who leaves the hard ones
unanswered: the referrals still waiting, expired or cancelled before any answer simply
vanish from it. The Kaplan–Meier estimator keeps them, as "censored" observations: each one
says "no answer for at least this long", which is all that is known about it. So the
figures count unanswered referrals without pretending they were answered.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Observation:
    """One referral, seen from the partner's side."""

    waited: float  # working days from sending to the event, or to now/expiry when it never happened
    happened: bool  # False = censored (still unanswered, expired, cancelled before answer)


@dataclass(frozen=True)
class ResponseFigure:
    """What can honestly be said about how fast a partner answers (or acknowledges)."""

    count: int  # referrals observed
    answered: int  # events that happened
    median: float | None  # Kaplan–Meier median in working days; None when not known
    share_within: float | None  # KM estimate of the share answered within `within_days`


def _survival(observations: Iterable[Observation]) -> list[tuple[float, Fraction]]:
    """The Kaplan–Meier steps, in exact fractions so that S = 1/2 is exactly 1/2."""
    events: Counter[float] = Counter()
    leaving: Counter[float] = Counter()  # events and censorings: who leaves the risk set, when
    for observation in observations:
        waited = observation.waited
        if not math.isfinite(waited) or waited < 0:
            raise ValueError(f"A waiting time must be a finite, non-negative number: {waited!r}")
        leaving[waited] += 1
        if observation.happened:
            events[waited] += 1
    at_risk = sum(leaving.values())
    survival = Fraction(1)
    steps: list[tuple[float, Fraction]] = []
    for moment in sorted(leaving):
        # Standard convention for ties: referrals censored at `moment` were still at risk at
        # `moment`, i.e. events come first.
        if events[moment]:
            survival *= Fraction(at_risk - events[moment], at_risk)
            steps.append((moment, survival))
        at_risk -= leaving[moment]
    return steps


def kaplan_meier(observations: Iterable[Observation]) -> list[tuple[float, float]]:
    """The Kaplan–Meier survival curve as [(time, S(time))] at each event time.

    S(t) is the estimated share of referrals still without the event after t working days:
    1 before the first step, then the value of the last step at or before t. The curve is
    only known up to the longest observed wait.
    """
    return [(moment, float(survival)) for moment, survival in _survival(observations)]


def response_figure(observations: Iterable[Observation], within_days: float = 5) -> ResponseFigure:
    """Count, Kaplan–Meier median and share within `within_days` of a partner's referrals.

    The median is the smallest time t with S(t) <= 1/2 (the usual convention), None when
    the curve never gets there: fewer than half are known to have been answered. The share
    within `within_days` is 1 - S(within_days), None when no referral has been followed
    that long yet (the curve says nothing about times no one has waited).
    """
    observed = list(observations)
    steps = _survival(observed)
    median = next((float(moment) for moment, s in steps if s <= Fraction(1, 2)), None)
    share_within: float | None = None
    if observed:
        reached = max(o.waited for o in observed) >= within_days
        survival = Fraction(1)
        for moment, s in steps:
            if moment > within_days:
                break
            survival = s
        if reached or survival == 0:
            share_within = float(1 - survival)
    return ResponseFigure(
        count=len(observed),
        answered=sum(o.happened for o in observed),
        median=median,
        share_within=share_within,
    )


# what → (the partner does it, what the referral is still without)
_WORDING = {
    "répondre": ("Répond", "de réponse"),
    "accuser réception": ("Accuse réception", "d'accusé de réception"),
}
MINIMUM_COUNT = 3


def _duration(working_days: float) -> str:
    """A rounded, spoken duration: beyond two weeks, days are false precision."""
    if working_days < 1:
        return "moins d'un jour ouvré"
    days = math.floor(working_days + 0.5)  # round half up, not to even
    if days == 1:
        return "1 jour ouvré"
    if days <= 10:
        return f"{days} jours ouvrés"
    return f"{math.floor(days / 5 + 0.5)} semaines"


def describe(figure: ResponseFigure, what: str) -> str:
    """A plain French sentence for advisors about one partner, with no comparison to others.

    `what` is "répondre" or "accuser réception".
    """
    try:
        verb, missing = _WORDING[what]
    except KeyError:
        raise ValueError(f"Unknown figure: {what!r} (expected one of {list(_WORDING)})") from None
    if figure.count < MINIMUM_COUNT:
        return "Pas encore assez d'orientations pour donner un délai habituel."
    if figure.median is None:
        return (
            f"Plus de la moitié des orientations n'ont pas encore reçu {missing} "
            f"({figure.count} orientations)."
        )
    without = figure.count - figure.answered
    detail = f", dont {without} sans {_without(missing)} à ce jour" if without else ""
    return f"{verb} en général en {_duration(figure.median)} ({figure.count} orientations{detail})."


def _without(missing: str) -> str:
    """« de réponse » → « réponse », « d'accusé de réception » → « accusé de réception »."""
    return missing.removeprefix("de ").removeprefix("d'")
