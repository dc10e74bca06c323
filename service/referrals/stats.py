"""Response-time figures of partners, shown to advisors as plain phrases next to the
partner (its page, search results): never a ranking. Unanswered, expired and withdrawn
referrals count, censored at the age they reached (figures.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from msgspec import Struct

from directory.raw import fetch
from directory.search import in_list
from service.referrals.calendar import working_days_between
from service.referrals.figures import Observation, describe, response_figure
from service.referrals.tables import Referral


class ResponseTimes(Struct):
    acknowledge: str
    answer: str
    count: int


def observation_of(
    row: Mapping[str, Any], event: datetime | None, now: datetime
) -> Observation | None:
    """None for a referral still within its acknowledgement deadline and without the
    event: it is not late, so it is not "without an answer to date" either."""
    if event is not None:
        return Observation(working_days_between(row["sent_at"], event), True)
    closed, due = row["closed_at"], row["acknowledge_due"]
    if closed is None and due is not None and now < due:
        return None
    return Observation(working_days_between(row["sent_at"], closed or now), False)


# Written once as SQL: it runs with every search (service.searching).
_TIMES_SQL = (
    "SELECT to_structure, sent_at, acknowledged_at, answered_at, closed_at, acknowledge_due "
    f"FROM {Referral._meta.tablename} WHERE to_structure IN ({{ids}}) AND sent_at IS NOT NULL"
)


async def response_times(
    structure_ids: Iterable[UUID], now: datetime | None = None
) -> dict[UUID, ResponseTimes]:
    """One query for all the structures asked about."""
    ids = list(set(structure_ids))
    if not ids:
        return {}
    now = now or datetime.now(UTC)
    rows = await fetch(Referral, in_list(_TIMES_SQL, ids), *ids)
    acknowledge: dict[UUID, list[Observation]] = {}
    answer: dict[UUID, list[Observation]] = {}
    for row in rows:
        key = row["to_structure"]
        for figure, event in ((acknowledge, row["acknowledged_at"]), (answer, row["answered_at"])):
            observations = figure.setdefault(key, [])
            if (observation := observation_of(row, event, now)) is not None:
                observations.append(observation)
    return {
        key: ResponseTimes(
            acknowledge=describe(response_figure(acknowledge[key]), "accuser réception"),
            answer=describe(response_figure(answer[key]), "répondre"),
            count=len(answer[key]),
        )
        for key in answer
    }
