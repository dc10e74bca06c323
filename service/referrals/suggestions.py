"""The structures a declining partner may suggest to the advisor instead: active ones of
the directory, nearest first to where the young person lives, so that the list stays short
enough to read and the right one is near its top."""

from __future__ import annotations

from typing import Any

from directory.gazetteer import load_gazetteer
from directory.geo import bounding_box, distance_km
from directory.tables import Site, Structure
from service.referrals.schemas import ReferralRead

RADIUS_KM = 60
LIMIT = 40


async def nearby_structures(referral: ReferralRead) -> list[dict[str, Any]]:
    """Active structures other than the two of the referral, each with `id` and `label`
    ("name — commune, 12 km"). Near the young person's commune when the reader may see it,
    else near the sending structure (a partner who was not shown the commune learns
    nothing of it from the order); by name when neither is placed."""
    excluded = [referral.to_structure_id, referral.from_structure_id]
    centre = await _centre(referral)
    if centre is None:
        return await _by_name(excluded)
    south, west, north, east = bounding_box(centre[0], centre[1], RADIUS_KM)
    sites = await Site.select(
        Site.structure, Site.structure.name.as_alias("name"), Site.commune, Site.lat, Site.lon
    ).where(
        (Site.structure.status == "active")
        & Site.structure.not_in(excluded)
        & (Site.lat >= south)
        & (Site.lat <= north)
        & (Site.lon >= west)
        & (Site.lon <= east)
    )
    nearest: dict[Any, tuple[float, dict[str, Any]]] = {}
    for site in sites:
        km = distance_km(centre, (site["lat"], site["lon"]))
        if km <= RADIUS_KM and (
            site["structure"] not in nearest or km < nearest[site["structure"]][0]
        ):
            nearest[site["structure"]] = (km, site)
    if not nearest:
        return await _by_name(excluded)
    ranked = sorted(nearest.values(), key=lambda pair: (pair[0], pair[1]["name"]))[:LIMIT]
    return [{"id": site["structure"], "label": _label(site, km)} for km, site in ranked]


async def _centre(referral: ReferralRead) -> tuple[float, float] | None:
    commune = load_gazetteer().get(str(referral.young_person.get("commune") or ""))
    if commune is not None:
        return commune.lat, commune.lon
    site = (
        await Site.select(Site.lat, Site.lon)
        .where((Site.structure == referral.from_structure_id) & Site.lat.is_not_null())
        .first()
    )
    if site is None or site["lon"] is None:
        return None
    return site["lat"], site["lon"]


async def _by_name(excluded: list[Any]) -> list[dict[str, Any]]:
    rows = (
        await Structure.select(Structure.id, Structure.name)
        .where((Structure.status == "active") & Structure.id.not_in(excluded))
        .order_by(Structure.name)
    )
    return [{"id": row["id"], "label": row["name"]} for row in rows]


def _label(site: dict[str, Any], km: float) -> str:
    commune = load_gazetteer().get(site["commune"])
    where = f"{commune.name}, " if commune else ""
    return f"{site['name']} — {where}{round(km)} km"
