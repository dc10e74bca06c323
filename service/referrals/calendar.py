"""French working days (« jours ouvrés ») for referral deadlines and response times.

Conventions set deadlines in working days: Monday to Friday, minus public holidays. The
holidays come from the maintained `holidays` library rather than a hand-kept table, because
Easter-based dates move every year and Alsace-Moselle and the overseas departments have
holidays of their own.

Days are counted on local calendar dates (Europe/Paris, or the overseas territory's own
zone), whatever the time zone of the datetimes handed in: a referral sent at 23:30 UTC on a
Friday was sent on a Saturday in Paris. Working time is measured on the local wall clock,
where every working day lasts 24 hours, so a deadline keeps its time of day across a
daylight-saving change (which in France always happens on a Sunday anyway). Aware datetimes
come back in the time zone they came in; naive ones are taken as local wall-clock times and
come back naive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

PARIS = ZoneInfo("Europe/Paris")
_DAY = timedelta(days=1)

# Alsace-Moselle is three départements; the library knows Moselle ("57") and the Collectivité
# européenne d'Alsace ("6AE"), with the same two extra holidays. Its old "Alsace-Moselle"
# subdivision still works but raises a DeprecationWarning, so it is mapped here instead.
_ALIASES = {
    "Alsace-Moselle": "6AE",
    "67": "6AE",
    "68": "6AE",
    "Bas-Rhin": "6AE",
    "Haut-Rhin": "6AE",
    # INSEE codes of the overseas collectivities the library names by letters.
    "975": "PM",
    "977": "BL",
    "978": "MF",
    "984": "TF",
    "986": "WF",
    "987": "PF",
    "988": "NC",
    "Métropole": None,
}
# Any other metropolitan département has the national holidays only.
_METROPOLITAN = re.compile(r"(0[1-9]|[1-8][0-9]|9[0-5]|2[AB])")
# The library's school zones are not places with holidays of their own; refuse them rather
# than silently read them as metropolitan France.
_SCHOOL_ZONES = frozenset({"Zone A", "Zone B", "Zone C"})

# Overseas, "today" turns at local midnight, not at Paris midnight.
_ZONES = {
    "971": ZoneInfo("America/Guadeloupe"),
    "972": ZoneInfo("America/Martinique"),
    "973": ZoneInfo("America/Cayenne"),
    "974": ZoneInfo("Indian/Reunion"),
    "976": ZoneInfo("Indian/Mayotte"),
    "BL": ZoneInfo("America/St_Barthelemy"),
    "MF": ZoneInfo("America/Marigot"),
    "NC": ZoneInfo("Pacific/Noumea"),
    "PF": ZoneInfo("Pacific/Tahiti"),
    "PM": ZoneInfo("America/Miquelon"),
    "TF": ZoneInfo("Indian/Kerguelen"),
    "WF": ZoneInfo("Pacific/Wallis"),
}


def _subdivision(subdivision: str | None) -> str | None:
    """The library's code for a subdivision given as a département code, a name or a code."""
    if subdivision is None:
        return None
    name = subdivision.strip()
    if not name:
        return None
    if name in _ALIASES:
        return _ALIASES[name]
    known = holidays.France.subdivisions
    if name in known and name not in _SCHOOL_ZONES:
        return name
    if name in holidays.France.subdivisions_aliases:
        return holidays.France.subdivisions_aliases[name]
    if _METROPOLITAN.fullmatch(name):
        return None
    codes = ", ".join(sorted(set(known) - _SCHOOL_ZONES))
    raise ValueError(
        f"Subdivision inconnue : {subdivision!r} (un numéro de département comme « 57 » "
        f"ou « 974 », « Alsace-Moselle », ou l'un de {codes})"
    )


def _zone(subdivision: str | None) -> ZoneInfo:
    return _ZONES.get(subdivision or "", PARIS)


@lru_cache(maxsize=512)
def _public_holidays(year: int, subdivision: str | None) -> frozenset[date]:
    """One year's public holidays, cached: deadlines are computed on every referral."""
    return frozenset(holidays.France(years=year, subdiv=subdivision, categories=(holidays.PUBLIC,)))


def _working(day: date, subdivision: str | None) -> bool:
    return day.weekday() < 5 and day not in _public_holidays(day.year, subdivision)


def _local(moment: datetime, subdivision: str | None) -> datetime:
    """The naive local wall-clock time of `moment`; naive datetimes are already local."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        return moment
    return moment.astimezone(_zone(subdivision)).replace(tzinfo=None)


def _back(local: datetime, like: datetime, subdivision: str | None) -> datetime:
    """`local` expressed like `like`: naive, or aware in the same time zone."""
    if like.tzinfo is None or like.utcoffset() is None:
        return local
    return local.replace(tzinfo=_zone(subdivision)).astimezone(like.tzinfo)


def _midnight_after(moment: datetime) -> datetime:
    return datetime.combine(moment.date() + _DAY, time())


def _whole_working_days(first: date, last: date, subdivision: str | None) -> int:
    """How many working days fall strictly between two dates, by whole weeks rather than
    day by day: the activity page measures the waits of thousands of referrals at once."""
    start = first + _DAY
    days = (last - start).days
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    count += sum((start + timedelta(days=weeks * 7 + i)).weekday() < 5 for i in range(rest))
    for year in range(start.year, last.year + 1):
        count -= sum(
            start <= holiday < last and holiday.weekday() < 5
            for holiday in _public_holidays(year, subdivision)
        )
    return count


def _working_time(start: datetime, end: datetime, subdivision: str | None) -> timedelta:
    """Wall-clock time between two local moments that falls on working days: the part of
    the first day, whole working days between, the part of the last day."""
    if start >= end:
        return timedelta()
    if start.date() == end.date():
        return end - start if _working(start.date(), subdivision) else timedelta()
    total = _DAY * _whole_working_days(start.date(), end.date(), subdivision)
    if _working(start.date(), subdivision):
        total += _midnight_after(start) - start
    if _working(end.date(), subdivision):
        total += end - datetime.combine(end.date(), time())
    return total


def _advance(start: datetime, amount: timedelta, subdivision: str | None) -> datetime:
    """The local moment once `amount` of working time has run from `start`.

    Time on weekends and holidays does not run. When the amount runs out exactly at the end
    of a working day, the result is the start of the next working day, which is the same
    working time: so a deadline never falls on a day off.
    """
    if amount < timedelta():
        raise ValueError("Working time cannot be negative.")
    moment, remaining = start, amount
    while True:
        following = _midnight_after(moment)
        if _working(moment.date(), subdivision):
            if remaining < following - moment:
                return moment + remaining
            remaining -= following - moment
        moment = following


def _retreat(end: datetime, amount: timedelta, subdivision: str | None) -> datetime:
    """The local moment from which `amount` of working time remains until `end`: the
    mirror of `_advance`, so that days off before `end` are skipped, not counted."""
    moment, remaining = end, amount
    while True:
        start_of_day = datetime.combine(
            moment.date() if moment.time() != time() else moment.date() - _DAY, time()
        )
        if _working(start_of_day.date(), subdivision):
            if remaining <= moment - start_of_day:
                return moment - remaining
            remaining -= moment - start_of_day
        moment = start_of_day


def is_working_day(day: date, subdivision: str | None = None) -> bool:
    """Monday to Friday and not a French public holiday (of the subdivision, if given).

    `subdivision` is a département code ("57", "67", "974"...), "Alsace-Moselle", or one of
    the `holidays` library's French subdivisions or aliases; by default metropolitan France.
    An aware datetime is first brought to its local date.
    """
    subdiv = _subdivision(subdivision)
    if isinstance(day, datetime):
        day = _local(day, subdiv).date()
    return _working(day, subdiv)


def add_working_days(start: datetime, days: int, subdivision: str | None = None) -> datetime:
    """The deadline `days` working days after `start`, at the same wall-clock time.

    A start on a weekend or holiday counts from the beginning (00:00) of the next working
    day, so a referral sent on Saturday or Sunday gets the same deadline, at midnight.
    """
    if days < 0:
        raise ValueError("A deadline cannot be a negative number of working days away.")
    subdiv = _subdivision(subdivision)
    local = _advance(_local(start, subdiv), days * _DAY, subdiv)
    return _back(local, start, subdiv)


def subtract_working_days(end: datetime, days: int, subdivision: str | None = None) -> datetime:
    """The moment `days` working days before `end`: when a reminder "the working day before
    a deadline" is due. A deadline on Monday at 10:00 is one working day after Friday 10:00."""
    if days < 0:
        raise ValueError("Cannot go back a negative number of working days.")
    subdiv = _subdivision(subdivision)
    local = _retreat(_local(end, subdiv), days * _DAY, subdiv)
    return _back(local, end, subdiv)


def working_days_between(
    start: datetime,
    end: datetime,
    subdivision: str | None = None,
    *,
    pauses: Iterable[tuple[datetime, datetime]] = (),
) -> float:
    """Working time from `start` to `end`, in (fractional) working days.

    Used to express response times: a referral sent on Friday afternoon and answered on
    Monday morning waited less than a working day. Time spent on hold (`pauses`, as
    (paused, resumed) pairs) is the young person's own time and does not count either.
    """
    subdiv = _subdivision(subdivision)
    first, last = _local(start, subdiv), _local(end, subdiv)
    if last < first:
        raise ValueError("The end comes before the start.")
    total = _working_time(first, last, subdiv)
    # Clip the pauses to [start, end] and merge overlaps so that no time is taken off twice.
    spans = sorted(
        (max(_local(paused, subdiv), first), min(_local(resumed, subdiv), last))
        for paused, resumed in pauses
    )
    covered_until = first
    for paused, resumed in spans:
        paused = max(paused, covered_until)
        if resumed > paused:
            total -= _working_time(paused, resumed, subdiv)
            covered_until = resumed
    return total / _DAY


def shift_for_pause(
    deadline: datetime,
    paused_at: datetime,
    resumed_at: datetime,
    subdivision: str | None = None,
) -> datetime:
    """The deadline after a pause: its timer stops while the referral is on hold.

    The deadline moves by the *working* time spent on hold, so a pause from Friday evening
    to Monday morning costs a few hours, not the weekend. A deadline already past when the
    pause began does not move.
    """
    subdiv = _subdivision(subdivision)
    due, paused, resumed = (_local(m, subdiv) for m in (deadline, paused_at, resumed_at))
    if resumed < paused:
        raise ValueError("A referral cannot resume before it was paused.")
    if paused >= due:
        return deadline
    remaining = _working_time(paused, due, subdiv)
    return _back(_advance(resumed, remaining, subdiv), deadline, subdiv)
