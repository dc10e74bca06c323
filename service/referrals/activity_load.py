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
from directory.tables import Territory
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
from service.referrals.tables import Referral, ReferralEvent

DEFAULT_MONTHS = 12
MAX_MONTHS = 36
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_EVENTS_CHUNK = 500


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
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise Invalid(
            {name: f"Mois attendu au format AAAA-MM (par exemple 2026-01), reçu « {value} »."}
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
        raise Invalid({"territoire": f"Territoire illisible : « {territoire} »."}) from None
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


async def _rows(actor: Actor, filters: Filters) -> list[dict[str, Any]]:
    query = Referral.select(
        Referral.id,
        Referral.young_person,
        Referral.sent_at,
        Referral.domain,
        Referral.from_structure,
        Referral.to_structure,
        Referral.status,
        Referral.decline_reason,
        Referral.acknowledged_at,
        Referral.answered_at,
        Referral.closed_at,
        Referral.acknowledge_due,
        Referral.from_structure.name.as_alias("from_name"),
        Referral.to_structure.name.as_alias("to_name"),
        Referral.young_person.commune.as_alias("commune"),
    ).where(
        Referral.sent_at.is_not_null(),
        Referral.sent_at >= look_back(filters.period).astimezone(UTC),
        Referral.sent_at < filters.period.end.astimezone(UTC),
    )
    if actor.role != Role.ADMIN:
        query = query.where(
            (Referral.from_structure == actor.structure_id)
            | (Referral.to_structure == actor.structure_id)
        )
    rows: list[dict[str, Any]] = await query
    if filters.territory_id is not None:
        # Where the young person lives; one without a known commune is in no territory.
        rows = [r for r in rows if r["commune"] in filters.communes]
    return rows


async def _history(ids: list[UUID]) -> dict[UUID, tuple[set[str], datetime | None]]:
    """The transitions an outcome depends on, and when each referral was accepted."""
    kept = [Transition.ACCEPT, Transition.NO_SHOW, Transition.WITHDRAW, Transition.CANCEL]
    history: dict[UUID, tuple[set[str], datetime | None]] = {}
    for start in range(0, len(ids), _EVENTS_CHUNK):
        events = await ReferralEvent.select(
            ReferralEvent.referral, ReferralEvent.transition, ReferralEvent.reason, ReferralEvent.at
        ).where(
            ReferralEvent.referral.is_in(ids[start : start + _EVENTS_CHUNK]),
            ReferralEvent.transition.is_in([t.value for t in kept]),
        )
        for event in events:
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
    history = await _history([r["id"] for r in rows])
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
