"""The conventions part of `maillage remind`: warn the coordinators and the named referents
90 and 30 days before a convention ends, and the coordinators when a named referent has
left their structure. Idempotent through the outbox's message keys."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from conventions.store import read_many
from directory.store import writing
from service import outbox
from service.accounts.tables import User

WARN_AT_DAYS = (90, 30)


async def _coordinators(structure_ids: list[Any]) -> list[str]:
    rows = await User.select(User.email).where(
        User.structure.is_in(structure_ids) & (User.role == "coordinator") & (User.active == True)  # noqa: E712
    )
    return sorted({r["email"] for r in rows})


async def _tell(
    key: str, kind: str, template: str, to: str, context: dict[str, Any], now: datetime | None
) -> int:
    async with writing():
        return int(await outbox.enqueue(key, kind, template, to=to, context=context, now=now))


async def watch_conventions(today: date, now: datetime | None = None) -> tuple[int, int]:
    """Returns (expiry warnings written, departed-referent warnings written)."""
    expiring = departed = 0
    for convention in await read_many(today=today):
        if not convention.status.in_force:
            continue
        structures = [p.structure_id for p in convention.parties]
        coordinators = await _coordinators(structures)
        context = {
            "title": convention.title,
            "ends_on": convention.ends_on.strftime("%d/%m/%Y") if convention.ends_on else "",
            "parties": ", ".join(p.structure_name for p in convention.parties),
            "link": f"/conventions/{convention.id}",
        }
        if convention.ends_on is not None:
            left = (convention.ends_on - today).days
            # The nearest threshold reached: 30 days left is the 30-day warning.
            for threshold in sorted(WARN_AT_DAYS):
                if 0 <= left <= threshold:
                    referents = [
                        p.referent_email
                        for p in convention.parties
                        if p.referent_email and p.referent_active
                    ]
                    for recipient in sorted(set(coordinators + referents)):
                        expiring += await _tell(
                            f"convention:{convention.id}:expiring:{threshold}:{recipient}",
                            f"convention_expiring_{threshold}",
                            "convention_expiring",
                            recipient,
                            {**context, "days_left": left, "threshold": threshold},
                            now,
                        )
                    break
        for party in convention.parties:
            if party.referent_id is not None and not party.referent_active:
                for recipient in coordinators:
                    departed += await _tell(
                        f"convention:{convention.id}:referent_left:{party.referent_id}:{recipient}",
                        "convention_referent_left",
                        "convention_referent_left",
                        recipient,
                        {
                            **context,
                            "referent_name": party.referent_name,
                            "structure_name": party.structure_name,
                        },
                        now,
                    )
    return expiring, departed
