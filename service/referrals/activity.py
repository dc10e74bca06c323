"""Referral activity for coordinators and directors: how many referrals, for which needs,
to whom, from whom, what became of them, how fast partners answered and how many young
people seemed to wander. Pure functions over plain rows, so that each figure can be
checked on paper; service/referrals/activity_load.py reads the rows from the database.

Months are Paris months: a referral sent at 23:30 UTC on 31 January was sent on
1 February in Paris, and counts in February. Partners are listed by name, never by volume:
the page helps to keep partnerships alive, it is not a league table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from directory.hours import LOCAL_TIME
from directory.text import fold
from directory.vocabulary import Domain
from service.referrals.figures import Observation, ResponseFigure, response_figure
from service.referrals.inbox import WANDERING_COUNT, WANDERING_WINDOW
from service.referrals.machine import DECLINE_REASONS, Status
from service.referrals.stats import observation_of

# What became of a referral, in the order of the life cycle; one key per referral.
OUTCOMES = {
    "waiting": "Sans réponse à ce jour",
    "on_hold": "En pause (le temps du jeune)",
    "accepted": "Acceptée, premier rendez-vous à venir",
    "taken_in": "Jeune pris·e en charge",
    "no_show": "Jeune non venu·e au rendez-vous",
    "declined": "Refusée",
    "redirected": "Réorientée vers une autre structure",
    "expired": "Expirée sans réponse",
    "withdrawn": "Consentement retiré par le jeune",
    "cancelled": "Annulée par le conseiller",
}
# Outcomes of referrals the partner accepted at some point.
ACCEPTED = frozenset({"accepted", "taken_in", "no_show"})
_BY_STATUS = {
    Status.SENT: "waiting",
    Status.RECEIVED: "waiting",
    Status.ON_HOLD: "on_hold",
    Status.ACCEPTED: "accepted",
    Status.IN_PROGRESS: "taken_in",
    Status.COMPLETED: "taken_in",
    Status.DECLINED: "declined",
    Status.REDIRECTED: "redirected",
    Status.EXPIRED: "expired",
}


@dataclass(frozen=True)
class ActivityRow:
    """One sent referral, with what the figures need of its history."""

    id: UUID
    young_person: UUID
    sent_at: datetime
    domain: str
    from_structure: UUID
    from_name: str
    to_structure: UUID
    to_name: str
    status: str
    decline_reason: str = ""
    acknowledged_at: datetime | None = None
    answered_at: datetime | None = None
    closed_at: datetime | None = None
    acknowledge_due: datetime | None = None
    # Transitions it went through that the outcome depends on: accept, no_show, withdraw
    # (a withdrawal of consent, also when the advisor recorded it as a cancellation).
    transitions: frozenset[str] = frozenset()
    accepted_at: datetime | None = None


@dataclass(frozen=True)
class Period:
    """From the first day of `first` to the last day of `last`, Paris months "YYYY-MM"."""

    first: str
    last: str

    @property
    def months(self) -> list[str]:
        return months_between(self.first, self.last)

    @property
    def start(self) -> datetime:
        return month_start(self.first)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return month_start(next_month(self.last))


@dataclass
class Line:
    """One line of a table: what it is about and its counts."""

    key: str
    label: str
    sent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    answer: ResponseFigure | None = None
    acknowledge: ResponseFigure | None = None
    wandering: int = 0

    @property
    def accepted(self) -> int:
        return sum(self.outcomes[o] for o in ACCEPTED)


@dataclass
class Activity:
    period: Period
    total: Line
    months: list[Line]
    domains: list[Line]
    receivers: list[Line]
    senders: list[Line]
    decline_reasons: list[tuple[str, str, int]]  # (code, label, count)
    wandering_young: int  # young people with at least one alert in the period


def month_of(moment: datetime) -> str:
    """The Paris month of a moment, "YYYY-MM"."""
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m")


def month_start(month: str) -> datetime:
    """Midnight in Paris on the first day of `month`."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year, number, 1, tzinfo=LOCAL_TIME)


def next_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last`, both included."""
    months, month = [], first
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def last_months(today: date, count: int) -> Period:
    """The `count` months ending with today's month: the page's default period."""
    last = f"{today.year:04d}-{today.month:02d}"
    first = last
    for _ in range(count - 1):
        year, number = (int(part) for part in first.split("-"))
        first = f"{year - (number == 1):04d}-{(number - 2) % 12 + 1:02d}"
    return Period(first, last)


def outcome_of(row: ActivityRow) -> str:
    """What became of a referral, as a key of OUTCOMES."""
    status = Status(row.status)
    if status == Status.FAILED:
        # A no-show ends an accepted referral; a failure after the first meeting was a
        # young person taken in, whose support then stopped.
        return "no_show" if "no_show" in row.transitions else "taken_in"
    if status == Status.CANCELLED:
        return "withdrawn" if "withdraw" in row.transitions else "cancelled"
    return _BY_STATUS.get(status, "waiting")


Observed = dict[UUID, tuple[Observation | None, Observation | None]]


def observe(rows: Iterable[ActivityRow], now: datetime) -> Observed:
    """Each referral's censored waits (figures.py) for an acknowledgement and an answer,
    counted once: working days are slow to count, and the same referral sits in a month,
    a partner and the total."""
    observed: Observed = {}
    for row in rows:
        values: dict[str, Any] = {
            "sent_at": row.sent_at,
            "closed_at": row.closed_at,
            "acknowledge_due": row.acknowledge_due,
        }
        observed[row.id] = (
            observation_of(values, row.acknowledged_at, now),
            observation_of(values, row.answered_at, now),
        )
    return observed


def _line(key: str, label: str, rows: Sequence[ActivityRow], observed: Observed | None) -> Line:
    """A line's counts, and its response figures when `observed` is given."""
    line = Line(key, label, sent=len(rows), outcomes=Counter(outcome_of(r) for r in rows))
    if observed is not None:
        waits = [observed[r.id] for r in rows]
        line.acknowledge = response_figure(a for a, _ in waits if a is not None)
        line.answer = response_figure(b for _, b in waits if b is not None)
    return line


def wandering_alerts(rows: Iterable[ActivityRow]) -> dict[UUID, list[datetime]]:
    """When each young person's referrals raised a wandering alert (errance), as the
    advisor's inbox would have shown it at the time: a referral that is the third in
    90 days with none accepted by then, or a return to a structure already tried within
    90 days (service/referrals/inbox.py). Returns the sending moments of those referrals."""
    by_young: dict[UUID, list[ActivityRow]] = {}
    for row in rows:
        by_young.setdefault(row.young_person, []).append(row)
    alerts: dict[UUID, list[datetime]] = {}
    for young, referrals in by_young.items():
        referrals.sort(key=lambda r: r.sent_at)
        for index, row in enumerate(referrals):
            window = [
                r for r in referrals[: index + 1] if row.sent_at - r.sent_at <= WANDERING_WINDOW
            ]
            none_accepted = not any(
                r.accepted_at is not None and r.accepted_at <= row.sent_at for r in window
            )
            many = len(window) >= WANDERING_COUNT and none_accepted
            bounce = any(r.to_structure == row.to_structure for r in window[:-1])
            if many or bounce:
                alerts.setdefault(young, []).append(row.sent_at)
    return alerts


def _grouped(
    rows: Sequence[ActivityRow], key: Any, label: Any, observed: Observed | None, order: Any
) -> list[Line]:
    groups: dict[Any, list[ActivityRow]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    lines = [_line(str(k), label(k, group), group, observed) for k, group in groups.items()]
    return sorted(lines, key=order)


def _domain_order(line: Line) -> tuple[int, str]:
    codes = [d.value for d in Domain]
    return (codes.index(line.key) if line.key in codes else len(codes), line.label)


def summarise(rows: Iterable[ActivityRow], period: Period, now: datetime) -> Activity:
    """Every figure of the activity page for the referrals sent in `period`.

    `rows` may also hold referrals sent up to 90 days before the period: they count for
    nothing but the wandering alerts, which look back that far."""
    every = list(rows)
    months = set(period.months)
    inside = [r for r in every if month_of(r.sent_at) in months]
    by_month: dict[str, list[ActivityRow]] = {m: [] for m in period.months}
    for row in inside:
        by_month[month_of(row.sent_at)].append(row)
    observed = observe(inside, now)
    month_lines = [_line(m, month_label(m), by_month[m], observed) for m in period.months]
    alerted: dict[str, set[UUID]] = {}
    for young, moments in wandering_alerts(every).items():
        for moment in moments:
            if month_of(moment) in months:
                alerted.setdefault(month_of(moment), set()).add(young)
    for line in month_lines:
        line.wandering = len(alerted.get(line.key, ()))
    declined = Counter(r.decline_reason for r in inside if outcome_of(r) == "declined")
    return Activity(
        period=period,
        total=_line("total", "Toute la période", inside, observed),
        months=month_lines,
        domains=_grouped(
            inside,
            lambda r: r.domain,
            lambda k, _g: _domain_label(k),
            None,
            _domain_order,
        ),
        receivers=_grouped(
            inside,
            lambda r: r.to_structure,
            lambda _k, g: g[0].to_name,
            observed,
            lambda line: (fold(line.label), line.key),
        ),
        senders=_grouped(
            inside,
            lambda r: r.from_structure,
            lambda _k, g: g[0].from_name,
            None,
            lambda line: (fold(line.label), line.key),
        ),
        decline_reasons=[
            (code, DECLINE_REASONS.get(code, code or "Sans motif"), declined[code])
            for code in [*DECLINE_REASONS, *sorted(set(declined) - set(DECLINE_REASONS))]
            if declined[code]
        ],
        wandering_young=len(set().union(*alerted.values())) if alerted else 0,
    )


def _domain_label(code: str) -> str:
    try:
        return Domain(code).label
    except ValueError:
        return code


_MONTHS = (
    *("janvier", "février", "mars", "avril", "mai", "juin"),
    *("juillet", "août", "septembre", "octobre", "novembre", "décembre"),
)


def month_label(month: str) -> str:
    """ "2026-02" -> "février 2026"."""
    year, number = month.split("-")
    return f"{_MONTHS[int(number) - 1]} {year}"


def look_back(period: Period) -> datetime:
    """How far before the period rows are needed: the wandering window."""
    return period.start - WANDERING_WINDOW - timedelta(days=1)
