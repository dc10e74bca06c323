"""Partner search: a need, a place, a radius, words and filters -> the services that can
help, nearest first. Sites are pre-filtered on indexed grid cells (directory.geo), so a
distance is computed only for the few hundred sites around the place, never for the
whole table; a service whose eligibility zone covers the commune matches beyond the radius;
remote services are listed apart."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Hashable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from msgspec import Struct

from directory.freshness import Freshness, freshness
from directory.gazetteer import Commune, load_gazetteer
from directory.geo import MAX_RADIUS_KM
from directory.hours import local_now, status_now
from directory.raw import fetch
from directory.search_index import (
    IndexedService,
    SearchIndex,
    by_name,
    current_index,
    distance_to_sites,
    text_matches,
    uuid_int,
)
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


# By value, as rows hold them: no enum constructor per result.
_DOMAIN_LABELS = {domain.value: label for domain, label in DOMAIN_LABELS.items()}
# Labels as typed needs are compared with them, folded once rather than on every search.
_FOLDED_DOMAINS = [(domain, label, fold(label)) for domain, label in DOMAIN_LABELS.items()]
_FOLDED_THEMATIQUES = [(value, label, fold(label)) for value, label in THEMATIQUES.items()]


def resolve_need(text: str, domains: Sequence[Domain] = ()) -> Need:
    """Turn what the advisor typed into domain / thematique keys; unknown words stay words
    matched against the services' text."""
    keys: list[str] = [f"d:{d.value}" for d in domains]
    labels: list[str] = [DOMAIN_LABELS[d] for d in domains]
    folded = fold(text)
    if folded:
        for domain, label, folded_label in _FOLDED_DOMAINS:
            if folded in (folded_label, domain.value):
                keys.append(f"d:{domain.value}")
                labels.append(label)
        for value, label, folded_label in _FOLDED_THEMATIQUES:
            if folded in (folded_label, value):
                keys.append(f"t:{value}")
                labels.append(label)
        if len(keys) == len(domains):
            # Nothing matched the whole phrase: try each word ("logement urgent").
            for word in folded.split():
                keys.extend(NEED_SYNONYMS.get(word, ()))
                for domain, label, folded_label in _FOLDED_DOMAINS:
                    if folded_label == word:
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


class _Match:
    """Whether an indexed service answers the need, the words and the filters. The need's
    keys are one bit mask; words are sets of service ids read once (search_index)."""

    def __init__(
        self,
        need_mask: int,
        need_text: set[int] | None,
        words: list[set[int]],
        publics_mask: int,
        unconditional_only: bool,
        structures: set[int] | None,
        asked: Hashable,
    ) -> None:
        self.need_mask = need_mask
        self.need_text = need_text
        self.words = words
        self.publics_mask = publics_mask
        self.unconditional_only = unconditional_only
        self.structures = structures
        self.needs = need_mask or need_text is not None
        # What the search asks, as a key: services matching it are cached (remote lists,
        # cells' matches).
        self.asked = asked

    def __call__(self, service: IndexedService) -> bool:
        if self.needs and not (
            service.mask & self.need_mask
            or (self.need_text is not None and service.id in self.need_text)
        ):
            return False
        if service.mask & self.publics_mask != self.publics_mask:
            return False
        if self.unconditional_only and not service.unconditional:
            return False
        if self.structures is not None and service.structure not in self.structures:
            return False
        return all(service.id in ids for ids in self.words)


async def _match(
    index: SearchIndex,
    need: Need,
    words: list[str],
    filters: SearchFilters,
    structures: set[int] | None,
) -> _Match:
    # Punctuation alone ("-", "_") folds to nothing: no need stated, not an empty clause.
    need_text = fold(need.text)
    publics = [f"p:{p}" for p in filters.publics]
    publics_mask = index.mask(publics)
    if len(publics) > 0 and publics_mask.bit_count() < len(set(publics)):
        structures = set()  # a public no service has: nothing matches
    need_mask = index.mask(need.keys)
    return _Match(
        need_mask=need_mask,
        need_text=await text_matches(index, need_text) if need_text else None,
        words=[await text_matches(index, word) for word in words],
        publics_mask=publics_mask,
        unconditional_only=filters.unconditional_only,
        structures=structures,
        asked=(
            need_mask,
            need_text,
            tuple(words),
            publics_mask,
            filters.unconditional_only,
            None if structures is None else frozenset(structures),
        ),
    )


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
    index = await current_index()
    partner_levels = await _partner_levels(viewer_structure)
    allowed = None
    if filters.level is not None:
        level = filters.level.value
        allowed = {uuid_int(s) for s, levels in partner_levels.items() if level in levels}
    match = await _match(index, need, fold(words).split(), filters, allowed)
    zone_keys = [f"z:{code}" for code in _zone_codes(commune)]
    page = max(page, 1)
    found = _nearest_sites(index, match, (lat, lon), radius_km, zone_keys, page * page_size)
    listed = found.inside | found.zoned
    # Only the page is sorted: a dense city has tens of thousands of services around it.
    window = heapq.nsmallest(
        page * page_size, found.nearest.items(), key=lambda item: (item[1][0], item[0])
    )[(page - 1) * page_size :]
    chosen = [
        (
            UUID(int=service_id),
            {
                "site_id": UUID(int=site_id),
                "distance": distance,
                "within": distance <= radius_km,
                "via_zone": service_id in found.zoned,
            },
        )
        for service_id, (distance, site_id) in window
    ]
    remote_total, remote_chosen = 0, list[tuple[UUID, dict[str, Any]]]()
    if not filters.on_site_only:
        remote_total, remote_chosen = _remote(index, match, zone_keys, page_size, listed)
    # Both lists' rows are read together: four queries in all.
    hits = await _hydrate(chosen + remote_chosen, partner_levels)
    items = [hit for hit in hits if hit.distance_km is not None]
    remote = [hit for hit in hits if hit.distance_km is None]
    wanted = need_domains(need)
    for hit in items + remote:
        hit.referral_domain = next((d for d in wanted if d in hit.domain_values), "")
    within_total = len(found.inside)
    beyond_total = len(listed) - within_total
    return SearchResults(
        commune=commune.insee,
        commune_name=commune.name,
        radius_km=radius_km,
        need=need.labels,
        total=len(listed),
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
    # Service id -> (distance, its nearest site's id), for those that can be on the page.
    nearest: dict[int, tuple[float, int]]
    zoned: set[int]  # services whose eligibility zone covers the commune
    inside: set[int]  # services with a site within the radius


def _nearest_sites(
    index: SearchIndex,
    match: _Match,
    origin: tuple[float, float],
    radius_km: float,
    zone_keys: list[str],
    first: int,
) -> _Found:
    """Each matching service's nearest site: among its sites within the radius, or among
    all its sites when its zone covers the commune; measured for the `first` nearest."""
    nearest_first, inside = index.nearest_within(origin, radius_km, match, first)
    found = _Found(nearest_first, set(), inside)
    nearest = found.nearest
    # Once `first` services are within the radius, a service whose zone covers the commune
    # but with no site within the radius is farther than all of them: counted, not measured.
    # One with a site within the radius already has its nearest site (its others are
    # beyond the radius), or is too far for the page.
    page_full = len(nearest) >= first
    measure = distance_to_sites(origin)
    for key in zone_keys:
        for service in index.zoned(key, match):
            found.zoned.add(service.id)
            if page_full or service.id in inside:
                continue
            for site in service.sites:
                distance = measure(site)
                current = nearest.get(service.id)
                if current is None or (distance, site.id) < current:
                    nearest[service.id] = (distance, site.id)
    return found


def _zone_codes(commune: Commune) -> list[str]:
    codes = [commune.insee, commune.departement, "france"]
    if commune.epci:
        codes.append(commune.epci)
    return codes


def _remote(
    index: SearchIndex,
    match: _Match,
    zone_keys: list[str],
    limit: int,
    listed: set[int],
) -> tuple[int, list[tuple[UUID, dict[str, Any]]]]:
    """Remote services open to the commune: no zone stated, or a zone that covers it,
    by name; a service already listed on site is listed once."""
    remote_keys = ["r:none", *(f"r:{key[2:]}" for key in zone_keys)]
    lists = sorted(
        (index.remote_list(key, match.asked, match) for key in remote_keys),
        key=lambda found: -len(found.ids),
    )
    # Counted without building their union: the first list is thousands long, the others
    # short, and a service with two zones that cover the commune is in two lists.
    largest = lists[0].ids
    others = {i for found in lists[1:] for i in found.ids if i not in largest}
    total = len(largest) + len(others)
    if len(listed) < total:
        total -= sum(1 for i in listed if i in largest or i in others)
    else:
        total -= sum(1 for i in largest if i in listed) + sum(1 for i in others if i in listed)
    chosen: list[tuple[UUID, dict[str, Any]]] = []
    for service in heapq.merge(*(found.by_name for found in lists), key=by_name):
        if len(chosen) == limit:
            break
        service_id = service.id
        if service_id not in listed and (not chosen or chosen[-1][0].int != service_id):
            chosen.append(
                (
                    UUID(int=service_id),
                    {"site_id": None, "distance": None, "within": False, "via_zone": False},
                )
            )
    return total, chosen


async def _partner_levels(viewer_structure: UUID | None) -> dict[UUID, set[str]]:
    """Levels at which each structure works with the viewer's own structure."""
    if viewer_structure is None:
        return {}
    rows = await fetch(Relationship, _PARTNER_LEVELS, viewer_structure, viewer_structure)
    levels: dict[UUID, set[str]] = {}
    for row in rows:
        other = row["target_structure"] if row["source"] == viewer_structure else row["source"]
        if other is not None:
            levels.setdefault(other, set()).add(row["level"])
    return levels


# What the page shows, written once as SQL: building these Piccolo selects for every
# search (joins, `is_in` clauses) cost more server time than running them.
_HIT_SERVICES = (
    "SELECT s.id, s.structure, s.contact, s.name, s.description, s.domains, s.thematiques, "
    "s.publics, s.conditions, s.fees, s.unconditional, s.on_site, s.remote, s.verified_at, "
    "s.verified_by, st.name AS structure_name, st.network AS structure_network, "
    "st.verified_at AS structure_verified_at, st.verified_by AS structure_verified_by "
    f"FROM {Service._meta.tablename} s JOIN {Structure._meta.tablename} st "
    "ON st.id = s.structure WHERE s.id IN ({ids})"
)
_HIT_SITES = (
    "SELECT id, name, address, commune, postcode, opening_hours, walk_in "
    f"FROM {Site._meta.tablename} WHERE id IN ({{ids}})"
)
_HIT_PEOPLE = (
    "SELECT id, structure, first_name, last_name, role, email, phone, preferred_channel "
    f"FROM {Person._meta.tablename} WHERE structure IN ({{ids}}) AND active = {{{{}}}} "
    "ORDER BY last_name"
)
_PARTNER_LEVELS = (
    f"SELECT source, target_structure, level FROM {Relationship._meta.tablename} "
    "WHERE source = {} OR target_structure = {}"
)


def in_list(sql: str, ids: Sequence[UUID]) -> str:
    """`sql` with as many placeholders in its IN (...) as there are ids."""
    return sql.format(ids=", ".join(["{}"] * len(ids)))


async def _none() -> list[dict[str, Any]]:
    return []


async def _hydrate(
    chosen: list[tuple[UUID, dict[str, Any]]], partner_levels: dict[UUID, set[str]]
) -> list[SearchHit]:
    """Load what the page shows, for the page's rows only: three queries, whatever its
    size, and only the columns it shows."""
    if not chosen:
        return []
    service_ids = [service_id for service_id, _ in chosen]
    rows = await fetch(Service, in_list(_HIT_SERVICES, service_ids), *service_ids)
    services = {s["id"]: s for s in rows}
    structures = {
        s["structure"]: {
            "id": s["structure"],
            "name": s["structure_name"],
            "network": s["structure_network"],
            "verified_at": s["structure_verified_at"],
            "verified_by": s["structure_verified_by"],
        }
        for s in rows
    }
    structure_ids = list(structures)
    site_ids = [found["site_id"] for _, found in chosen if found["site_id"] is not None]
    # Sites and people are read at the same time.
    site_rows, people = await asyncio.gather(
        fetch(Site, in_list(_HIT_SITES, site_ids), *site_ids) if site_ids else _none(),
        fetch(Person, in_list(_HIT_PEOPLE, structure_ids), *structure_ids, True),
    )
    sites = {s["id"]: s for s in site_rows}
    people_by_id = {p["id"]: p for p in people}
    first_person: dict[UUID, Mapping[str, Any]] = {}
    for person in people:
        first_person.setdefault(person["structure"], person)

    gazetteer = load_gazetteer()
    now = datetime.now(UTC)
    local = local_now()
    hits = []
    for service_id, found in chosen:
        # Deleted since the index was read (a write racing this search): left out.
        service = services.get(service_id)
        structure = structures.get(service["structure"]) if service else None
        site = sites.get(found["site_id"]) if found["site_id"] else None
        if service is None or structure is None or (found["site_id"] and site is None):
            continue
        contact = people_by_id.get(service["contact"]) or first_person.get(service["structure"])
        site_commune = gazetteer.get(site["commune"]) if site else None
        hits.append(
            SearchHit(
                service_id=service_id,
                service_name=service["name"],
                description=service["description"],
                domains=[_DOMAIN_LABELS[d] for d in service["domains"]],
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
                open_now=status_now(site["opening_hours"], local) if site else "",
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


def _freshness(
    service: Mapping[str, Any], structure: Mapping[str, Any], now: datetime
) -> Freshness:
    verified = service if service["verified_at"] is not None else structure
    return freshness(verified["verified_at"], verified["verified_by"], now)


def _contact(person: Mapping[str, Any]) -> ContactOut:
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
