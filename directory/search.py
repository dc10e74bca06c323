"""Partner search: a need, a place, a radius, words and filters -> the services that can
help, nearest first. Sites are pre-filtered on indexed grid cells (directory.geo), so a
distance is computed only for the few hundred sites around the place, never for the
whole table; a service whose eligibility zone covers the commune matches beyond the radius;
remote services are listed apart."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from msgspec import Struct

from directory.freshness import Freshness, freshness
from directory.gazetteer import Commune, load_gazetteer
from directory.geo import MAX_RADIUS_KM, bounding_box, cells_around, distance_from
from directory.hours import status_now
from directory.tables import Person, Relationship, Service, Site, Structure
from directory.text import fold
from directory.validation import display_phone
from directory.vocabulary import (
    DOMAIN_LABELS,
    DOMAIN_THEMATIQUES,
    LEVEL_LABELS,
    NETWORKS,
    PUBLICS,
    THEMATIQUES,
    Channel,
    Domain,
    Level,
)

# Words advisors type for a need, beyond the labels themselves.
NEED_SYNONYMS: dict[str, tuple[str, ...]] = {
    "travail": ("d:employment",),
    "job": ("d:employment",),
    "stage": ("d:employment", "d:career"),
    "orientation": ("d:career",),
    "metier": ("d:career",),
    "hebergement": ("d:housing",),
    "toit": ("d:housing",),
    "psy": ("t:sante--sante-mentale",),
    "psychologue": ("t:sante--sante-mentale",),
    "addiction": ("t:sante--addictions",),
    "drogue": ("t:sante--addictions",),
    "permis": ("t:mobilite--preparer-un-permis",),
    "transport": ("d:mobility",),
    "droits": ("d:rights",),
    "juridique": ("d:rights",),
    "papiers": ("d:rights",),
    "budget": ("d:rights",),
    "alimentation": ("t:equipement-et-alimentation--alimentation",),
    "benevolat": ("d:citizenship",),
    "vote": ("d:citizenship",),
    "apprentissage": ("d:training",),
    "francais": ("t:lecture-ecriture-calcul--maitriser-le-francais",),
}


class Need(Struct):
    text: str
    keys: list[str]
    labels: list[str]


def need_domains(need: Need) -> list[str]:
    """The domains a need names, directly or through one of their thematiques, in order."""
    found: list[str] = []
    for key in need.keys:
        if key.startswith("d:"):
            found.append(key[2:])
        elif key.startswith("t:"):
            found.extend(d.value for d, ths in DOMAIN_THEMATIQUES.items() if key[2:] in ths)
    return list(dict.fromkeys(found))


def heading(
    need_labels: Sequence[str], commune_name: str, radius_km: float, within: int, beyond: int
) -> str:
    """Say what the list is: partners within the radius, or only partners whose zone covers
    the commune from further away (« aucun à moins de 15 km ; voici ceux dont la zone… »)."""
    need = ", ".join(need_labels) if need_labels else "tout besoin"
    radius = f"{radius_km:g} km"
    if within:
        text = (
            f"{within} partenaire{'s' if within > 1 else ''} pour {need} "
            f"à moins de {radius} de {commune_name}"
        )
        if beyond:
            text += f", et {beyond} plus loin dont la zone couvre {commune_name}"
        return text
    if beyond:
        them = "voici celui, plus loin," if beyond == 1 else f"voici les {beyond}, plus loin,"
        return (
            f"Aucun partenaire pour {need} à moins de {radius} de {commune_name} ; "
            f"{them} dont la zone couvre {commune_name}"
        )
    return f"Aucun partenaire sur place pour {need} à moins de {radius} de {commune_name}"


def resolve_need(text: str, domains: Sequence[Domain] = ()) -> Need:
    """Turn what the advisor typed into domain / thematique keys; unknown words stay words
    matched against the services' text."""
    keys: list[str] = [f"d:{d.value}" for d in domains]
    labels: list[str] = [DOMAIN_LABELS[d] for d in domains]
    folded = fold(text)
    if folded:
        for domain, label in DOMAIN_LABELS.items():
            if fold(label) == folded or domain.value == folded:
                keys.append(f"d:{domain.value}")
                labels.append(label)
        for value, label in THEMATIQUES.items():
            if folded in {fold(label), value}:
                keys.append(f"t:{value}")
                labels.append(label)
        if len(keys) == len(domains):
            # Nothing matched the whole phrase: try each word ("logement urgent").
            for word in folded.split():
                keys.extend(NEED_SYNONYMS.get(word, ()))
                for domain, label in DOMAIN_LABELS.items():
                    if fold(label) == word:
                        keys.append(f"d:{domain.value}")
                        labels.append(label)
    # A domain also covers its thematiques, so services tagged only finely still match.
    for key in list(keys):
        if key.startswith("d:"):
            keys.extend(f"t:{t}" for t in DOMAIN_THEMATIQUES[Domain(key[2:])])
    return Need(text=text, keys=list(dict.fromkeys(keys)), labels=list(dict.fromkeys(labels)))


class SearchFilters(Struct):
    level: Level | None = None
    publics: list[str] = []
    on_site_only: bool = False
    unconditional_only: bool = False


class ContactOut(Struct):
    name: str
    role: str
    email: str
    phone: str
    phone_display: str
    preferred_channel: Channel
    preferred_channel_label: str


class SearchHit(Struct):
    service_id: UUID
    service_name: str
    description: str
    domains: list[str]
    domain_values: list[str]
    thematiques: list[str]
    publics: list[str]
    conditions: str
    fees: str
    unconditional: bool
    on_site: bool
    remote: bool
    structure_id: UUID
    structure_name: str
    network: str
    site_id: UUID | None
    site_name: str
    address: str
    commune_name: str
    postcode: str
    opening_hours: str
    open_now: str
    walk_in: bool
    distance_km: float | None
    within_radius: bool
    via_zone: bool
    contact: ContactOut | None
    partner_levels: list[str]
    # Filled by the referral exchange: how this partner usually answers, as a phrase.
    response_times: str = ""
    # The domain a referral to this service is for, from the need typed: it pre-selects the
    # referral form's domain ('' when the need names none of the service's domains).
    referral_domain: str = ""
    # When the service was last verified (or its structure, if the service never was), and
    # what that means for the adviser: shown with every hit, stale ones included.
    freshness: Freshness | None = None


class SearchResults(Struct):
    commune: str
    commune_name: str
    radius_km: float
    need: list[str]
    total: int
    page: int
    page_size: int
    items: list[SearchHit]
    remote_total: int
    remote: list[SearchHit]
    # Of `total`: services with a site within the radius, and services beyond it that are
    # listed only because their eligibility zone covers the commune.
    within_total: int = 0
    beyond_total: int = 0
    # What the list is, in one sentence, so that a far service is never presented as near.
    heading: str = ""


_ZONE_BASE = """
SELECT CAST(sv.id AS TEXT) AS service_id, CAST(si.id AS TEXT) AS site_id,
       si.lat AS lat, si.lon AS lon, sv.remote AS remote
FROM service_key z
JOIN service sv ON sv.id = z.service
JOIN structure st ON st.id = sv.structure
JOIN site si ON si.structure = sv.structure AND (sv.site IS NULL OR sv.site = si.id)
WHERE st.status = 'active' AND sv.on_site = {} AND si.lat IS NOT NULL
"""


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("{}" for _ in values)


def _filters_sql(need: Need, words: list[str], filters: SearchFilters) -> tuple[str, list[Any]]:
    sql = ""
    args: list[Any] = []
    # Punctuation alone ("-", "_") folds to nothing: no need stated, not an empty clause.
    need_text = fold(need.text)
    if need.keys or need_text:
        clauses = []
        if need.keys:
            clauses.append(
                "EXISTS (SELECT 1 FROM service_key k WHERE k.service = sv.id AND k.key IN ("
                + _placeholders(need.keys)
                + "))"
            )
            args += need.keys
        if need_text:
            clauses.append("sv.search_text LIKE {}")
            args.append(f"%{need_text}%")
        sql += " AND (" + " OR ".join(clauses) + ")"
    for word in words:
        sql += " AND sv.search_text LIKE {}"
        args.append(f"%{word}%")
    for public in filters.publics:
        sql += " AND EXISTS (SELECT 1 FROM service_key p WHERE p.service = sv.id AND p.key = {})"
        args.append(f"p:{public}")
    if filters.unconditional_only:
        sql += " AND sv.unconditional = {}"
        args.append(True)
    return sql, args


# Ids come back as text: converting tens of thousands of candidate rows to UUID objects
# costs more than the query in a dense city; only the page's rows are converted.
# Driven by the sites of the grid cells around the place. CROSS JOIN fixes the join order
# on SQLite (its planner otherwise starts from the service table when no statistics exist);
# PostgreSQL plans it as an ordinary join.
_NEAR_BASE = """
SELECT CAST(sv.id AS TEXT) AS service_id, CAST(si.id AS TEXT) AS site_id,
       si.lat AS lat, si.lon AS lon, sv.remote AS remote
FROM site si
CROSS JOIN service sv
CROSS JOIN structure st
WHERE sv.structure = si.structure AND (sv.site IS NULL OR sv.site = si.id)
  AND st.id = sv.structure AND st.status = 'active' AND sv.on_site = {}
"""


async def search(
    commune: Commune,
    need: Need,
    words: str = "",
    radius_km: float = 15.0,
    filters: SearchFilters | None = None,
    page: int = 1,
    page_size: int = 20,
    viewer_structure: UUID | None = None,
    origin: tuple[float, float] | None = None,
) -> SearchResults:
    """`origin` is the young person's address when geocoded, else the commune centre."""
    filters = filters or SearchFilters()
    radius_km = min(max(radius_km, 1.0), MAX_RADIUS_KM)
    lat, lon = origin or (commune.lat, commune.lon)
    word_list = fold(words).split()
    extra_sql, extra_args = _filters_sql(need, word_list, filters)

    partner_levels = await _partner_levels(viewer_structure)
    if filters.level is not None:
        allowed = [s for s, levels in partner_levels.items() if filters.level.value in levels]
        if allowed:
            extra_sql += " AND sv.structure IN (" + _placeholders(allowed) + ")"
            extra_args += allowed
        else:  # no partner at that level: nothing matches (and IN () is not valid SQL)
            extra_sql += " AND 1 = 0"

    cells = cells_around(lat, lon, radius_km)
    south, west, north, east = bounding_box(lat, lon, radius_km)
    near_sql = (
        _NEAR_BASE
        + " AND si.cell IN ("
        + _placeholders(cells)
        + ") AND si.lat BETWEEN {} AND {} AND si.lon BETWEEN {} AND {}"
        + extra_sql
    )
    near_rows = await Service.raw(near_sql, True, *cells, south, north, west, east, *extra_args)

    zone_keys = [f"z:{code}" for code in _zone_codes(commune)]
    # Driven by the indexed zone keys: only services whose zone names this commune, its
    # EPCI, its département or France are read, never the whole service table.
    zone_sql = _ZONE_BASE + " AND z.key IN (" + _placeholders(zone_keys) + ")" + extra_sql
    zone_rows = await Service.raw(zone_sql, True, *zone_keys, *extra_args)

    found = _nearest_sites(near_rows, zone_rows, distance_from((lat, lon)), radius_km)
    page = max(page, 1)
    # Only the page is sorted: a dense city has tens of thousands of services around it.
    window = heapq.nsmallest(
        page * page_size, found.nearest.items(), key=lambda item: (item[1][0], item[0])
    )[(page - 1) * page_size :]
    items = await _hydrate(
        [
            (
                UUID(service_id),
                {
                    "site_id": UUID(site_id),
                    "distance": distance,
                    "within": distance <= radius_km,
                    "via_zone": service_id in found.zoned,
                },
            )
            for service_id, (distance, site_id) in window
        ],
        partner_levels,
    )

    remote_total, remote = 0, list[SearchHit]()
    if not filters.on_site_only:
        # A service already listed on site (it also works remotely) is listed once.
        remote_total, remote = await _remote(
            extra_sql,
            extra_args,
            zone_keys,
            partner_levels,
            page_size,
            listed={service_id: service_id in found.zoned for service_id in found.remote},
        )
    wanted = need_domains(need)
    for hit in items + remote:
        hit.referral_domain = next((d for d in wanted if d in hit.domain_values), "")
    within_total = sum(1 for distance, _ in found.nearest.values() if distance <= radius_km)
    beyond_total = len(found.nearest) - within_total
    return SearchResults(
        commune=commune.insee,
        commune_name=commune.name,
        radius_km=radius_km,
        need=need.labels,
        total=len(found.nearest),
        page=page,
        page_size=page_size,
        items=items,
        remote_total=remote_total,
        remote=remote,
        within_total=within_total,
        beyond_total=beyond_total,
        heading=heading(need.labels, commune.name, radius_km, within_total, beyond_total),
    )


class _Found(NamedTuple):
    nearest: dict[str, tuple[float, str]]  # service id -> (distance, its nearest site's id)
    zoned: set[str]  # services whose eligibility zone covers the commune
    remote: set[str]  # of `nearest`, those also working remotely


def _nearest_sites(
    near_rows: list[dict[str, Any]],
    zone_rows: list[dict[str, Any]],
    measure: Callable[[float, float], float],
    radius_km: float,
) -> _Found:
    """Each service's nearest site: among its sites within the radius, or among all its
    sites when its zone covers the commune. One pass, no record per row."""
    found = _Found({}, set(), set())
    nearest = found.nearest
    for via_zone, rows in ((False, near_rows), (True, zone_rows)):
        for row in rows:
            distance = measure(row["lat"], row["lon"])
            service_id = row["service_id"]
            if via_zone:
                found.zoned.add(service_id)
            elif distance > radius_km:
                continue
            current = nearest.get(service_id)
            if current is None or distance < current[0]:
                nearest[service_id] = (distance, row["site_id"])
                if row["remote"]:
                    found.remote.add(service_id)
    return found


def _zone_codes(commune: Commune) -> list[str]:
    codes = [commune.insee, commune.departement, "france"]
    if commune.epci:
        codes.append(commune.epci)
    return codes


async def _remote(
    extra_sql: str,
    extra_args: list[Any],
    zone_keys: list[str],
    partner_levels: dict[UUID, set[str]],
    limit: int,
    listed: dict[str, bool],
) -> tuple[int, list[SearchHit]]:
    """Remote services open to the commune: no zone stated, or a zone that covers it.
    Counted and paged in SQL: a rural search used to read thousands of rows to show 20.
    `listed`: the remote services already in the on-site list (listed once), each with
    whether it came through its zone."""
    # Driven by the "r:" keys: only remote services open to this commune are read.
    remote_keys = ["r:none", *(f"r:{key[2:]}" for key in zone_keys)]
    where = (
        "FROM service_key r JOIN service sv ON sv.id = r.service "
        "JOIN structure st ON st.id = sv.structure "
        "WHERE r.key IN (" + _placeholders(remote_keys) + ") AND st.status = 'active' "
        "AND sv.remote = {}" + extra_sql
    )
    args: list[Any] = [*remote_keys, True, *extra_args]
    overlap = await _open_remotely(listed, remote_keys)
    # One pass: the window counts every remote service while only the page is sent back.
    sql = (
        "SELECT service_id, COUNT(*) OVER () AS n FROM (SELECT DISTINCT CAST(sv.id AS TEXT) "
        "AS service_id, sv.name AS name " + where + ") AS open_remotely "
        "ORDER BY name, service_id LIMIT {}"
    )
    # The services listed on site can only push the page further: read that many more.
    rows = await Service.raw(sql, *args, limit + len(overlap))
    chosen = [
        (
            UUID(r["service_id"]),
            {"site_id": None, "distance": None, "within": False, "via_zone": False},
        )
        for r in rows
        if r["service_id"] not in overlap
    ][:limit]
    total = rows[0]["n"] - len(overlap) if rows else 0
    return total, await _hydrate(chosen, partner_levels)


async def _open_remotely(listed: dict[str, bool], remote_keys: list[str]) -> set[str]:
    """Of the remote services already listed on site, those the remote list would also
    show. Those that came through their zone are (their zone covers the commune); for the
    others, the index says whether they have no zone or one that covers it."""
    found = {service_id for service_id, via_zone in listed.items() if via_zone}
    others = sorted(service_id for service_id, via_zone in listed.items() if not via_zone)
    for start in range(0, len(others), 2000):
        chunk = others[start : start + 2000]
        rows = await Service.raw(
            "SELECT DISTINCT CAST(service AS TEXT) AS service_id FROM service_key "
            "WHERE key IN (" + _placeholders(remote_keys) + ") "
            "AND service IN (" + _placeholders(chunk) + ")",
            *remote_keys,
            *(UUID(service_id) for service_id in chunk),
        )
        found.update(r["service_id"] for r in rows)
    return found


async def _partner_levels(viewer_structure: UUID | None) -> dict[UUID, set[str]]:
    """Levels at which each structure works with the viewer's own structure."""
    if viewer_structure is None:
        return {}
    rows = await Relationship.select(
        Relationship.source, Relationship.target_structure, Relationship.level
    ).where(
        (Relationship.source == viewer_structure)
        | (Relationship.target_structure == viewer_structure)
    )
    levels: dict[UUID, set[str]] = {}
    for row in rows:
        other = row["target_structure"] if row["source"] == viewer_structure else row["source"]
        if other is not None:
            levels.setdefault(other, set()).add(row["level"])
    return levels


async def _hydrate(
    chosen: list[tuple[UUID, dict[str, Any]]], partner_levels: dict[UUID, set[str]]
) -> list[SearchHit]:
    """Load what the page shows, for the page's rows only: four queries, whatever its size."""
    if not chosen:
        return []
    service_ids = [service_id for service_id, _ in chosen]
    services = {s["id"]: s for s in await Service.select().where(Service.id.is_in(service_ids))}
    structure_ids = list({s["structure"] for s in services.values()})
    structures = {
        s["id"]: s
        for s in await Structure.select(
            Structure.id,
            Structure.name,
            Structure.network,
            Structure.verified_at,
            Structure.verified_by,
        ).where(Structure.id.is_in(structure_ids))
    }
    site_ids = [found["site_id"] for _, found in chosen if found["site_id"] is not None]
    sites = (
        {s["id"]: s for s in await Site.select().where(Site.id.is_in(site_ids))} if site_ids else {}
    )
    people = (
        await Person.select()
        .where(
            Person.structure.is_in(structure_ids) & (Person.active == True)  # noqa: E712
        )
        .order_by(Person.last_name)
    )
    people_by_id = {p["id"]: p for p in people}
    first_person: dict[UUID, dict[str, Any]] = {}
    for person in people:
        first_person.setdefault(person["structure"], person)

    gazetteer = load_gazetteer()
    now = datetime.now(UTC)
    hits = []
    for service_id, found in chosen:
        service = services[service_id]
        structure = structures[service["structure"]]
        site = sites.get(found["site_id"]) if found["site_id"] else None
        contact = people_by_id.get(service["contact"]) or first_person.get(service["structure"])
        site_commune = gazetteer.get(site["commune"]) if site else None
        hits.append(
            SearchHit(
                service_id=service_id,
                service_name=service["name"],
                description=service["description"],
                domains=[DOMAIN_LABELS[Domain(d)] for d in service["domains"]],
                domain_values=list(service["domains"]),
                thematiques=[THEMATIQUES.get(t, t) for t in service["thematiques"]],
                publics=[PUBLICS.get(p, p) for p in service["publics"]],
                conditions=service["conditions"],
                fees=service["fees"],
                unconditional=service["unconditional"],
                on_site=service["on_site"],
                remote=service["remote"],
                structure_id=structure["id"],
                structure_name=structure["name"],
                network=NETWORKS.get(structure["network"], ""),
                site_id=site["id"] if site else None,
                site_name=site["name"] if site else "",
                address=site["address"] if site else "",
                commune_name=site_commune.name if site_commune else "",
                postcode=site["postcode"] if site else "",
                opening_hours=site["opening_hours"] if site else "",
                open_now=status_now(site["opening_hours"]) if site else "",
                walk_in=site["walk_in"] if site else False,
                distance_km=round(found["distance"], 1) if found["distance"] is not None else None,
                within_radius=found["within"],
                via_zone=found["via_zone"],
                contact=_contact(contact) if contact else None,
                partner_levels=[
                    LEVEL_LABELS[Level(v)]
                    for v in sorted(partner_levels.get(structure["id"], set()))
                ],
                freshness=_freshness(service, structure, now),
            )
        )
    return hits


def _freshness(service: dict[str, Any], structure: dict[str, Any], now: datetime) -> Freshness:
    verified = service if service["verified_at"] is not None else structure
    return freshness(verified["verified_at"], verified["verified_by"], now)


def _contact(person: dict[str, Any]) -> ContactOut:
    channel = Channel(person["preferred_channel"])
    return ContactOut(
        name=f"{person['first_name']} {person['last_name']}",
        role=person["role"],
        email=person["email"],
        phone=person["phone"],
        phone_display=display_phone(person["phone"]),
        preferred_channel=channel,
        preferred_channel_label=channel.label,
    )
