"""Who may see referral activity, the filters read from a link, and the rows the figures
of service/referrals/activity.py are computed from.

Coordinators and administrators see it (a director signs in as a coordinator of the
Mission Locale). A coordinator sees the referrals their structure sent or received, and
may narrow them to one of their structure's territories; an administrator sees every
referral and every territory. The checks are here, on the server, not in the pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from directory.errors import Forbidden, Invalid, NotFound
from directory.hours import LOCAL_TIME
from directory.tables import Structure, Territory
from service.accounts.store import Actor, Role
from service.referrals.activity import (
    Activity,
    ActivityRow,
    Period,
    last_months,
    look_back,
    month_start,
    months_between,
    summarise,
)
from service.referrals.machine import Transition
from service.referrals.tables import Referral, ReferralEvent, YoungPerson

DEFAULT_MONTHS = 12
MAX_MONTHS = 36
_MONTH = re.compile(r"^(\d{4})-(\d{2})$", re.ASCII)


@dataclass(frozen=True)
class Filters:
    period: Period
    territory_id: UUID | None
    territory_name: str
    communes: frozenset[str]


@dataclass(frozen=True)
class TerritoryChoice:
    id: UUID
    name: str


def check_can_see_activity(actor: Actor) -> None:
    """Activity names partners and counts young people: the coordination's view."""
    if actor.role not in {Role.COORDINATOR, Role.ADMIN}:
        raise Forbidden(
            "Seuls les coordinateurs, directeurs et administrateurs voient l'activité des "
            "orientations."
        )


def _month(name: str, value: str) -> str:
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        raise Invalid(
            {name: f"Mois attendu au format AAAA-MM (par exemple 2026-01), reçu « {value[:20]} »."}
        )
    return value.strip()


def parse_period(du: str, au: str, now: datetime) -> Period:
    """The period of a link (du=2026-01&au=2026-06); the last 12 months when absent."""
    default = last_months(now.astimezone(LOCAL_TIME).date(), DEFAULT_MONTHS)
    first = _month("du", du) if du else ""
    last = _month("au", au) if au else ""
    if not first and not last:
        return default
    if not last:
        last = max(first, default.last)
    if not first:
        first = last_months(month_start(last).date(), DEFAULT_MONTHS).first
    if first > last:
        raise Invalid({"au": f"La fin de la période ({last}) précède son début ({first})."})
    if len(months_between(first, last)) > MAX_MONTHS:
        raise Invalid(
            {"du": f"Période de plus de {MAX_MONTHS} mois : choisissez-en une plus courte."}
        )
    return Period(first, last)


async def territory_choices(actor: Actor) -> list[TerritoryChoice]:
    """The territories an actor may filter on: their structure's, or all for an admin."""
    query = Territory.select(Territory.id, Territory.name).order_by(Territory.name)
    if actor.role != Role.ADMIN:
        query = query.where(Territory.structure == actor.structure_id)
    return [TerritoryChoice(row["id"], row["name"]) for row in await query]


async def parse_filters(actor: Actor, du: str, au: str, territoire: str, now: datetime) -> Filters:
    """Every filter checked: a clear 400 naming the parameter, 404 for an unknown territory,
    403 for another structure's territory."""
    period = parse_period(du, au, now)
    if not territoire.strip():
        return Filters(period, None, "", frozenset())
    try:
        territory_id = UUID(territoire.strip())
    except ValueError:
        raise Invalid({"territoire": f"Territoire illisible : « {territoire[:40]} »."}) from None
    row = (
        await Territory.select(Territory.name, Territory.structure, Territory.communes)
        .where(Territory.id == territory_id)
        .first()
    )
    if row is None:
        raise NotFound("Territoire")
    if actor.role != Role.ADMIN and row["structure"] != actor.structure_id:
        raise Forbidden("Ce territoire est celui d'une autre structure.")
    return Filters(period, territory_id, row["name"], frozenset(row["communes"] or []))


# Written as SQL: at a busy Mission Locale's year (20,000 referrals) Piccolo's query
# builder took twice as long to read the same rows (benchmarks/activity_load.py).
_ROWS_SQL = (
    "SELECT r.id, r.young_person, r.sent_at, r.domain, r.from_structure, r.to_structure, "
    "r.status, r.decline_reason, r.acknowledged_at, r.answered_at, r.closed_at, "
    "r.acknowledge_due, f.name AS from_name, t.name AS to_name, y.commune AS commune "
    f"FROM {Referral._meta.tablename} r "
    f"JOIN {Structure._meta.tablename} f ON f.id = r.from_structure "
    f"JOIN {Structure._meta.tablename} t ON t.id = r.to_structure "
    f"JOIN {YoungPerson._meta.tablename} y ON y.id = r.young_person "
    "WHERE r.sent_at >= {{}} AND r.sent_at < {{}}{scope}"
)
# The transitions an outcome depends on, of the same referrals.
_EVENTS_SQL = (
    "SELECT e.referral, e.transition, e.reason, e.at "
    f"FROM {ReferralEvent._meta.tablename} e "
    f"JOIN {Referral._meta.tablename} r ON r.id = e.referral "
    "WHERE e.transition IN ('accept', 'no_show', 'withdraw', 'cancel') "
    "AND r.sent_at >= {{}} AND r.sent_at < {{}}{scope}"
)
_SCOPE = " AND (r.from_structure = {} OR r.to_structure = {})"


def _query(sql: str, actor: Actor, filters: Filters) -> tuple[str, list[Any]]:
    """The SQL and its values: every referral for an admin, else those of their structure."""
    values: list[Any] = [
        look_back(filters.period).astimezone(UTC),
        filters.period.end.astimezone(UTC),
    ]
    if actor.role == Role.ADMIN:
        return sql.format(scope=""), values
    return sql.format(scope=_SCOPE), [*values, actor.structure_id, actor.structure_id]


async def _rows(actor: Actor, filters: Filters) -> list[dict[str, Any]]:
    sql, values = _query(_ROWS_SQL, actor, filters)
    rows: list[dict[str, Any]] = await Referral.raw(sql, *values)
    if filters.territory_id is not None:
        # Where the young person lives; one without a known commune is in no territory.
        rows = [r for r in rows if r["commune"] in filters.communes]
    return rows


async def _history(actor: Actor, filters: Filters) -> dict[UUID, tuple[set[str], datetime | None]]:
    """The transitions an outcome depends on, and when each referral was accepted."""
    sql, values = _query(_EVENTS_SQL, actor, filters)
    history: dict[UUID, tuple[set[str], datetime | None]] = {}
    for event in await ReferralEvent.raw(sql, *values):
        transitions, accepted_at = history.get(event["referral"], (set(), None))
        name = event["transition"]
        if name == Transition.CANCEL and event["reason"] == "consent_withdrawn":
            name = Transition.WITHDRAW.value
        transitions.add(name)
        if name == Transition.ACCEPT:
            accepted_at = event["at"]
        history[event["referral"]] = (transitions, accepted_at)
    return history


async def load_rows(actor: Actor, filters: Filters) -> list[ActivityRow]:
    rows = await _rows(actor, filters)
    history = await _history(actor, filters)
    result = []
    for r in rows:
        transitions, accepted_at = history.get(r["id"], (set(), None))
        result.append(
            ActivityRow(
                id=r["id"],
                young_person=r["young_person"],
                sent_at=r["sent_at"],
                domain=r["domain"],
                from_structure=r["from_structure"],
                from_name=r["from_name"] or "",
                to_structure=r["to_structure"],
                to_name=r["to_name"] or "",
                status=r["status"],
                decline_reason=r["decline_reason"],
                acknowledged_at=r["acknowledged_at"],
                answered_at=r["answered_at"],
                closed_at=r["closed_at"],
                acknowledge_due=r["acknowledge_due"],
                transitions=frozenset(transitions),
                accepted_at=accepted_at,
            )
        )
    return result


async def activity(
    actor: Actor, du: str = "", au: str = "", territoire: str = "", now: datetime | None = None
) -> tuple[Filters, Activity]:
    """The figures an actor may see for the filters of a link."""
    check_can_see_activity(actor)
    now = now or datetime.now(UTC)
    filters = await parse_filters(actor, du, au, territoire, now)
    return filters, summarise(await load_rows(actor, filters), filters.period, now)
