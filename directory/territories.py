"""Territories: the communes a Mission Locale serves, given by INSEE codes, EPCI or
département codes (from a form or a CSV), and the reach to use for each domain."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from msgspec import Struct
from piccolo.columns import Column

from directory.errors import Invalid, NotFound
from directory.gazetteer import load_gazetteer
from directory.tables import Structure, Territory
from directory.vocabulary import Domain

# As the crow flies. Rarer services (health specialists) are worth a longer trip.
DEFAULT_REACH_KM: dict[Domain, float] = {d: 15.0 for d in Domain} | {Domain.HEALTH: 30.0}


class TerritoryRead(Struct):
    id: UUID
    name: str
    structure_id: UUID | None
    communes: list[str]
    population: int
    reach_km: dict[str, float]


def codes_from_text(text: str) -> list[str]:
    """Codes from a form field ("26362, 26058 200068781") or a CSV file (the first column
    of each row, an optional header line skipped)."""
    codes: list[str] = []
    for line in text.splitlines():
        cells = [line.split(";")[0]] if ";" in line or "\t" in line else [line]
        for part in re.split(r"[\s,\t]+", cells[0].split("\t")[0]):
            part = part.strip().strip('"')
            if part and part.lower() not in {"insee", "code", "commune", "codes", "nom"}:
                codes.append(part)
    return codes


def expand(codes: list[str]) -> tuple[list[str], list[str]]:
    """(sorted INSEE codes of the communes, unknown codes)."""
    gazetteer = load_gazetteer()
    communes: set[str] = set()
    unknown: list[str] = []
    for code in codes:
        normal = code.upper() if code[:2].lower() in {"2a", "2b"} else code
        kind = gazetteer.zone_kind(normal)
        if kind is None or kind == "france":
            unknown.append(code)
        else:
            communes.update(gazetteer.communes_of_zone(normal))
    return sorted(communes), unknown


def reach_of(stored: dict[str, float]) -> dict[str, float]:
    return {d.value: float(stored.get(d.value, km)) for d, km in DEFAULT_REACH_KM.items()}


def _check_reach(reach: dict[str, float]) -> dict[str, float]:
    clean: dict[str, float] = {}
    for domain, km in reach.items():
        if domain not in Domain.__members__.values():
            raise Invalid({"reach_km": f"Domaine inconnu : {domain}"})
        if not 1 <= float(km) <= 200:
            raise Invalid({"reach_km": "La distance va de 1 à 200 km."})
        clean[domain] = float(km)
    return clean


async def save(
    name: str,
    codes: list[str],
    reach: dict[str, float] | None = None,
    structure_id: UUID | None = None,
    territory_id: UUID | None = None,
) -> UUID:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Le nom est obligatoire."
    communes, unknown = expand(codes)
    if unknown:
        errors["codes"] = (
            "Codes inconnus : " + ", ".join(unknown[:20]) + ("…" if len(unknown) > 20 else "")
        )
    elif not communes:
        errors["codes"] = "Indiquez au moins une commune, un EPCI ou un département."
    if structure_id is not None and not await Structure.exists().where(
        Structure.id == structure_id
    ):
        errors["structure_id"] = "Structure introuvable."
    if errors:
        raise Invalid(errors)
    values: dict[Column, Any] = {
        Territory.name: name.strip(),
        Territory.structure: structure_id,
        Territory.communes: communes,
        Territory.reach_km: json.dumps(_check_reach(reach or {}), sort_keys=True),
    }
    if territory_id is None:
        row = Territory(created_at=datetime.now(UTC))
        for column, value in values.items():
            setattr(row, column._meta.name, value)
        await row.save()
        return row.id
    await get(territory_id)
    await Territory.update({column: value for column, value in values.items()}).where(
        Territory.id == territory_id
    )
    return territory_id


async def get(territory_id: UUID) -> TerritoryRead:
    row = await Territory.select().where(Territory.id == territory_id).first()
    if row is None:
        raise NotFound("Territoire")
    gazetteer = load_gazetteer()
    communes = list(row["communes"])
    return TerritoryRead(
        id=row["id"],
        name=row["name"],
        structure_id=row["structure"],
        communes=communes,
        population=sum(c.population for code in communes if (c := gazetteer.get(code))),
        reach_km=reach_of(json.loads(row["reach_km"] or "{}")),
    )


async def all_territories() -> list[TerritoryRead]:
    rows = await Territory.select(Territory.id).order_by(Territory.name)
    return [await get(r["id"]) for r in rows]
