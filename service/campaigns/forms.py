"""A campaign request, from the page's form or the API's JSON, into a CampaignSpec; a
refused one raises Invalid naming each field."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from msgspec import Struct

from directory.errors import Invalid
from directory.tables import Structure, Territory
from service.campaigns.start import CampaignSpec


class CampaignIn(Struct, forbid_unknown_fields=True):
    """Start a campaign for a territory, or for a selection of structures (not both)."""

    name: str
    territory_id: UUID | None = None
    structure_ids: list[UUID] = []
    older_than_months: int = 12


def from_json(data: CampaignIn) -> CampaignSpec:
    return CampaignSpec(
        name=data.name,
        territory_id=data.territory_id,
        structure_ids=list(data.structure_ids),
        older_than_months=data.older_than_months,
    )


def _uuid(text: str, field: str, errors: dict[str, str]) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        errors[field] = "Cet identifiant n'est pas valide."
        return None


def from_form(form: Any) -> CampaignSpec:
    """The page's form: a territory select, or structures ticked in the list."""
    errors: dict[str, str] = {}
    territory = str(form.get("territory_id", "")).strip()
    territory_id = _uuid(territory, "territory_id", errors) if territory else None
    ids = [str(v) for v in (form.getall("structure_ids", []) if hasattr(form, "getall") else [])]
    structure_ids = [i for v in ids if v and (i := _uuid(v, "structure_ids", errors))]
    months_text = str(form.get("older_than_months", "12")).strip() or "12"
    months = int(months_text) if months_text.isdigit() else 0
    if not months_text.isdigit():
        errors["older_than_months"] = "Un nombre entier de mois, par exemple 12."
    if errors:
        raise Invalid(errors)
    return CampaignSpec(str(form.get("name", "")), territory_id, structure_ids, months)


async def choices() -> dict[str, Any]:
    """The territories and the structures a campaign may be for."""
    territories = await Territory.select(Territory.id, Territory.name).order_by(Territory.name)
    structures = (
        await Structure.select(Structure.id, Structure.name)
        .where(Structure.status == "active")
        .order_by(Structure.name)
    )
    options = [(str(row["id"]), row["name"]) for row in structures]
    return {"territories": territories, "structure_options": options}
