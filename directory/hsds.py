"""The directory written as Open Referral HSDS 3.0, for the other directories and referral
tools that speak it. One organization per structure, fully nested as the HSDS API's
`/organizations/{id}?full_service=true` answer: its phones, contacts, locations (sites,
with address, accessibility and schedules) and services (with service areas, contacts and
their service_at_location links). That form is checked against Open Referral's own
schemas: `organization.json` for the organization and `service.json` for each service.

Ids are stable from one export to the next: structures, sites, services and people keep
their own UUIDs; rows HSDS needs that Maillage has no table for (phones, addresses,
schedules, service areas...) get a UUID5 derived from the owner's id and what they are.

Opening hours are OpenStreetMap `opening_hours`. What HSDS schedules can say — weekly
openings on given days between two times — becomes structured schedules; what they
cannot (public holidays, seasons, school holidays, comments, "unknown") becomes a
schedule carrying only a French `description`, and every schedule's `notes` keeps the
original expression, so nothing is lost on the way. Times are local French times.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import opening_hours
import phonenumbers

from directory.gazetteer import Gazetteer, load_gazetteer
from directory.hours import DAYS, describe
from directory.schemas import STRUCTURE_KINDS
from directory.tables import Person, Service, Site, Structure
from directory.vocabulary import DOMAIN_LABELS, PUBLICS, THEMATIQUES

HSDS_VERSION = "3.0"
# Fixed for ever: changing it would change every derived id of every export.
NAMESPACE = UUID("6f1c3a52-8f0e-5b7d-9a43-2d7e0c9b4e11")

# HSDS service status for a structure's status.
SERVICE_STATUS = {"active": "active", "suspended": "temporarily closed", "closed": "defunct"}
WEEKDAYS = {"Mo": "MO", "Tu": "TU", "We": "WE", "Th": "TH", "Fr": "FR", "Sa": "SA", "Su": "SU"}
ALL_DAYS = list(WEEKDAYS)
DAY_NAMES = dict(zip(ALL_DAYS, DAYS, strict=True))
# One normalised rule HSDS can hold: weekdays (none = every day), then hours or a state.
_WEEKLY = re.compile(
    r"^(?P<days>(?:(?:Mo|Tu|We|Th|Fr|Sa|Su)(?:-(?:Mo|Tu|We|Th|Fr|Sa|Su))?,?)+)?\s*"
    r"(?P<what>24/7|open|(?:\d{2}:\d{2}-\d{2}:\d{2},?)+)?$"
)
# geo.api.gouv.fr answers at these addresses with the area, its outline included.
AREA_URI = {
    "commune": "https://geo.api.gouv.fr/communes/{}",
    "epci": "https://geo.api.gouv.fr/epcis/{}",
    "departement": "https://geo.api.gouv.fr/departements/{}",
}
AREA_KIND = {
    "commune": "Commune",
    "epci": "Intercommunalité (EPCI)",
    "departement": "Département",
}


def derived_id(*parts: object) -> str:
    """A stable UUID for an HSDS row Maillage stores no id for."""
    return str(uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


# ---- Schedules ---------------------------------------------------------------------------


def schedules(expression: str, owner: Mapping[str, str]) -> list[dict[str, Any]]:
    """HSDS schedules for an `opening_hours` expression; `owner` holds the link field, e.g.
    {"location_id": ...}. Empty for an empty or unreadable expression."""
    try:
        parsed = opening_hours.OpeningHours(expression, country="FR") if expression else None
    except Exception:
        return []
    if parsed is None:
        return []
    normal = str(parsed.normalize())
    notes = f"Horaires d'origine (OpenStreetMap opening_hours) : {expression.strip()}"
    owner_id = next(iter(owner.values()))
    found: list[dict[str, Any]] = []
    for index, part in enumerate(normal.split(" || ")):
        for rule in part.split("; "):
            rows = _weekly(rule) if index == 0 else None
            if rows is None:
                rows = [{"description": _sentence(rule, fallback=index > 0)}]
            found += rows
    return [
        {"id": derived_id("schedule", owner_id, n), **owner, **row, "notes": notes}
        for n, row in enumerate(found)
    ]


def _weekly(rule: str) -> list[dict[str, Any]] | None:
    """Structured weekly schedules for one rule, or None if HSDS cannot hold it."""
    found = _WEEKLY.match(rule.strip())
    if found is None or not rule.strip():
        return None
    days = _days(found["days"] or "")
    what = found["what"] or "open"
    byday = ",".join(WEEKDAYS[d] for d in days)
    spans = (
        [("00:00", "23:59")]
        if what in {"24/7", "open"}
        else [tuple(span.split("-")) for span in what.split(",") if span]
    )
    base = {"freq": "WEEKLY", "wkst": "MO", "byday": byday}
    rows = []
    for opens, closes in spans:
        row = {**base, "opens_at": opens, "closes_at": closes}
        row["description"] = _sentence(rule) if what == "24/7" else _span_text(days, opens, closes)
        rows.append(row)
    return rows


def _days(text: str) -> list[str]:
    if not text:
        return list(ALL_DAYS)
    days: list[str] = []
    for piece in filter(None, text.split(",")):
        start, _, end = piece.partition("-")
        first = ALL_DAYS.index(start)
        last = ALL_DAYS.index(end) if end else first
        # "Fr-Mo" runs over the weekend.
        days += (
            ALL_DAYS[first : last + 1] if last >= first else ALL_DAYS[first:] + ALL_DAYS[: last + 1]
        )
    return list(dict.fromkeys(days))


def _span_text(days: list[str], opens: str, closes: str) -> str:
    """ "Du lundi au vendredi et le samedi : 9 h 00 – 12 h 00", as directory.hours says it."""
    runs: list[list[str]] = []
    for day in days:
        if runs and ALL_DAYS.index(day) == ALL_DAYS.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names: list[str] = []
    for run in runs:
        if len(run) > 2:
            names.append(f"du {DAY_NAMES[run[0]]} au {DAY_NAMES[run[-1]]}")
        else:
            names += [f"le {DAY_NAMES[d]}" for d in run]
    which = ", ".join(names[:-1]) + " et " + names[-1] if len(names) > 1 else names[0]
    if len(days) == 7:
        which = "tous les jours"
    hours = "24 h/24" if (opens, closes) == ("00:00", "23:59") else f"{_hm(opens)} – {_hm(closes)}"
    late = " (jusqu'au lendemain)" if closes < opens else ""
    return f"{which[0].upper()}{which[1:]} : {hours}{late}"


def _hm(text: str) -> str:
    hours, minutes = text.split(":")
    return f"{int(hours)} h {minutes}"


def _sentence(rule: str, fallback: bool = False) -> str:
    """French for a rule HSDS cannot structure, from directory.hours; the rule itself when
    it is beyond what we can phrase."""
    rule = rule.strip()
    comment = re.fullmatch(r'24/7 "([^"]*)"', rule)
    if fallback and comment:
        return f"Sinon : {comment[1]}"
    lines = ["Fermé"] if rule in {"closed", "off"} else describe(rule)
    text = " ; ".join(lines) if lines else f"Règle d'horaires : {rule}"
    return f"Sinon : {text}" if fallback else text


# ---- Rows --------------------------------------------------------------------------------


def _phone(number: str, owner: Mapping[str, str], description: str = "") -> dict[str, Any]:
    """An E.164 number as an HSDS phone; mobiles are "cell" (RFC 6350 types)."""
    owner_id = next(iter(owner.values()))
    row: dict[str, Any] = {"id": derived_id("phone", owner_id), **owner, "number": number}
    row["type"] = "cell" if _is_mobile(number) else "voice"
    if description:
        row["description"] = description
    return row


def _is_mobile(number: str) -> bool:
    # Metropolitan mobiles at once; overseas numbering plans through phonenumbers.
    if number.startswith("+33"):
        return number[3:4] in {"6", "7"}
    try:
        parsed = phonenumbers.parse(number, "FR")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE


def _contact(person: Mapping[str, Any], contact_id: str, owner: Mapping[str, str]) -> dict:
    row: dict[str, Any] = {
        "id": contact_id,
        **owner,
        "name": f"{person['first_name']} {person['last_name']}".strip(),
    }
    if person["role"]:
        row["title"] = person["role"]
    if person["email"]:
        row["email"] = person["email"]
    row["phones"] = [_phone(person["phone"], {"contact_id": contact_id})] if person["phone"] else []
    return row


def _location(site: Mapping[str, Any], structure: Mapping[str, Any], gaz: Gazetteer) -> dict:
    site_id = str(site["id"])
    commune = gaz.get(site["commune"])
    row: dict[str, Any] = {
        "id": site_id,
        "location_type": "physical",
        "organization_id": str(structure["id"]),
        "name": site["name"] or structure["name"],
    }
    if site["walk_in"]:
        row["description"] = "Accueil sans rendez-vous."
    if site["lat"] is not None and site["lon"] is not None:
        row["latitude"], row["longitude"] = site["lat"], site["lon"]
    row["addresses"] = [
        {
            "id": derived_id("address", site_id),
            "location_id": site_id,
            "address_1": site["address"],
            "city": commune.name if commune else site["commune"],
            "region": gaz.name_of("region", commune.region) if commune else "",
            "state_province": gaz.name_of("departement", commune.departement) if commune else "",
            "postal_code": site["postcode"],
            "country": "FR",
            "address_type": "physical",
        }
    ]
    row["accessibility"] = (
        [
            {
                "id": derived_id("accessibility", site_id),
                "location_id": site_id,
                "description": site["accessibility"],
            }
        ]
        if site["accessibility"]
        else []
    )
    row["schedules"] = schedules(site["opening_hours"], {"location_id": site_id})
    return row


def service_areas(service_id: str, zone: Iterable[str], gaz: Gazetteer) -> list[dict]:
    """One HSDS service area per code of the eligibility zone, named in French and
    identified by its geo.api.gouv.fr address (which serves its outline)."""
    areas = []
    for code in zone:
        kind = gaz.zone_kind(code)
        row: dict[str, Any] = {"id": derived_id("service_area", service_id, code)}
        row["service_id"] = service_id
        if kind == "france":
            row["name"] = "France entière"
            row["description"] = "Toute la France."
        elif kind is not None:
            name = gaz.name_of(kind, code) or code
            if kind == "commune" and (commune := gaz.get(code)) is not None:
                name = commune.label
            row["name"] = name
            row["description"] = f"{AREA_KIND[kind]} {name} (code {code})."
            row["uri"] = AREA_URI[kind].format(code)
        else:
            row["name"] = code
        areas.append(row)
    return areas


def _eligibility(service: Mapping[str, Any]) -> str:
    parts = []
    if service["publics"]:
        parts.append("Publics : " + ", ".join(PUBLICS.get(p, p) for p in service["publics"]) + ".")
    if service["unconditional"]:
        parts.append("Accueil inconditionnel : aucune condition ni aucun papier demandé.")
    if service["conditions"]:
        parts.append(service["conditions"])
    return " ".join(parts)


def _modes(service: Mapping[str, Any]) -> str:
    if service["on_site"] and service["remote"]:
        return "Sur place ou à distance."
    return "À distance." if service["remote"] else "Sur place."


# data·inclusion's lists for thematiques and publics, Maillage's own for the life domains.
TAXONOMIES: dict[str, tuple[str, Mapping[Any, str], str]] = {
    "domain": ("maillage-domaines", DOMAIN_LABELS, "Domaine de vie (approche globale)"),
    "thematique": ("data-inclusion-thematiques", THEMATIQUES, "Thématique data·inclusion"),
    "public": ("data-inclusion-publics", PUBLICS, "Public data·inclusion"),
}


@cache
def _term_id(taxonomy: str, code: str) -> str:
    return derived_id("taxonomy_term", taxonomy, code)


def _attributes(service_id: str, service: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What a service is about and for whom, as HSDS attributes with their taxonomy term."""
    rows = []
    for kind, codes in (
        ("domain", service["domains"]),
        ("thematique", service["thematiques"]),
        ("public", service["publics"]),
    ):
        taxonomy, labels, what = TAXONOMIES[kind]
        for code in codes:
            term_id = _term_id(taxonomy, code)
            label = labels.get(code, code)
            rows.append(
                {
                    "id": derived_id("attribute", service_id, taxonomy, code),
                    "link_id": service_id,
                    "link_type": kind,
                    "link_entity": "service",
                    "taxonomy_term_id": term_id,
                    "value": code,
                    "taxonomy_term": {
                        "id": term_id,
                        "code": code,
                        "name": label,
                        "description": f"{what} : {label}",
                        "taxonomy": taxonomy,
                        "language": "fr",
                    },
                }
            )
    return rows


# ---- Organizations -----------------------------------------------------------------------


@dataclass
class Batch:
    """One page of structures with everything the export needs of them."""

    structures: list[dict[str, Any]]
    sites: dict[UUID, list[dict[str, Any]]] = field(default_factory=dict)
    services: dict[UUID, list[dict[str, Any]]] = field(default_factory=dict)
    people: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    staff: dict[UUID, list[dict[str, Any]]] = field(default_factory=dict)


def _service(
    row: Mapping[str, Any],
    structure: Mapping[str, Any],
    sites: list[dict[str, Any]],
    people: Mapping[UUID, dict[str, Any]],
    gaz: Gazetteer,
) -> dict[str, Any]:
    service_id = str(row["id"])
    service: dict[str, Any] = {
        "id": service_id,
        "organization_id": str(structure["id"]),
        "name": row["name"],
        "description": row["description"],
        "status": SERVICE_STATUS.get(structure["status"], "active"),
        "application_process": _modes(row),
        "last_modified": structure["updated_at"].isoformat(),
    }
    if row["fees"]:
        service["fees_description"] = row["fees"]
    if eligibility := _eligibility(row):
        service["eligibility_description"] = eligibility
    if structure["verified_at"] is not None:
        service["assured_date"] = structure["verified_at"].date().isoformat()
    at = [s for s in sites if row["site"] in (None, s["id"])] if row["on_site"] else []
    service["service_at_locations"] = [
        {"id": derived_id("service_at_location", service_id, s["id"]), "service_id": service_id}
        | {"location_id": str(s["id"])}
        for s in at
    ]
    service["service_areas"] = service_areas(service_id, row["zone"], gaz)
    person = people.get(row["contact"]) if row["contact"] else None
    service["contacts"] = (
        [
            _contact(
                person, derived_id("contact", service_id, person["id"]), {"service_id": service_id}
            )
        ]
        if person
        else []
    )
    service["attributes"] = _attributes(service_id, row)
    return service


def organization(batch: Batch, structure: Mapping[str, Any], gaz: Gazetteer) -> dict[str, Any]:
    """One structure as a fully nested HSDS organization."""
    structure_id = structure["id"]
    org_id = str(structure_id)
    org: dict[str, Any] = {
        "id": org_id,
        "name": structure["name"],
        "description": structure["description"],
        "legal_status": STRUCTURE_KINDS.get(structure["kind"], structure["kind"]),
    }
    if structure["email"]:
        org["email"] = structure["email"]
    if structure["website"]:
        org["website"] = structure["website"]
    org["phones"] = (
        [_phone(structure["phone"], {"organization_id": org_id}, "Accueil")]
        if structure["phone"]
        else []
    )
    org["organization_identifiers"] = (
        [
            {
                "id": derived_id("siret", org_id),
                "organization_id": org_id,
                "identifier_scheme": "FR-SIRET",
                "identifier_type": "SIRET",
                "identifier": structure["siret"],
            }
        ]
        if structure["siret"]
        else []
    )
    people = batch.staff.get(structure_id, [])
    org["contacts"] = [
        _contact(p, str(p["id"]), {"organization_id": org_id})
        for p in sorted(people, key=lambda p: (p["last_name"], p["first_name"], str(p["id"])))
    ]
    sites = batch.sites.get(structure_id, [])
    org["locations"] = [_location(s, structure, gaz) for s in sites]
    org["services"] = [
        _service(s, structure, sites, batch.people, gaz)
        for s in batch.services.get(structure_id, [])
    ]
    return org


async def load_batch(offset: int, limit: int, with_people: bool = True) -> Batch:
    """Structures [offset, offset + limit) in id order (the primary key's index: a page far
    into a national directory costs no sort), then their sites, services and active people
    in three queries. People who have left are never exported."""
    structures = await Structure.select().order_by(Structure.id).offset(offset).limit(limit)
    batch = Batch(structures)
    ids = [s["id"] for s in structures]
    if not ids:
        return batch
    for site in await Site.select().where(Site.structure.is_in(ids)).order_by(Site.name):
        batch.sites.setdefault(site["structure"], []).append(site)
    services = await Service.select().where(Service.structure.is_in(ids)).order_by(Service.name)
    for service in services:
        batch.services.setdefault(service["structure"], []).append(service)
    if with_people:
        people = await Person.select().where(Person.structure.is_in(ids), Person.active.eq(True))
        batch.people = {p["id"]: p for p in people}
        for person in people:
            batch.staff.setdefault(person["structure"], []).append(person)
    return batch


async def count_organizations() -> int:
    return await Structure.count()


async def organizations(offset: int, limit: int, with_people: bool = True) -> list[dict]:
    """A page of HSDS organizations, in a stable order (by id)."""
    batch = await load_batch(offset, limit, with_people)
    gaz = load_gazetteer()
    return [organization(batch, s, gaz) for s in batch.structures]


async def all_organizations(
    with_people: bool = True, batch_size: int = 500
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every organization, a batch at a time, so that a national export never holds the
    whole directory in memory."""
    offset = 0
    while True:
        page = await organizations(offset, batch_size, with_people)
        if not page:
            return
        yield page
        offset += batch_size


async def write_organizations(
    path: Path, with_people: bool = True, on_batch: Callable[[int], object] | None = None
) -> dict[str, int]:
    """Write every organization to `path` as one JSON array, batch by batch (memory stays
    flat at national scale); returns how many rows of each HSDS table it holds."""
    found: dict[str, int] = defaultdict(int)
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        first = True
        async for batch in all_organizations(with_people):
            for org in batch:
                out.write(("\n" if first else ",\n") + json.dumps(org, ensure_ascii=False))
                first = False
            for table, count in counts(batch).items():
                found[table] += count
            if on_batch is not None:
                on_batch(len(batch))
        out.write("\n]\n")
    return dict(found)


def counts(organizations: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """How many rows of each HSDS table an export holds, for the command's report."""
    found: dict[str, int] = defaultdict(int)
    for org in organizations:
        found["organizations"] += 1
        found["locations"] += len(org["locations"])
        found["contacts"] += len(org["contacts"])
        for location in org["locations"]:
            found["schedules"] += len(location["schedules"])
        for service in org["services"]:
            found["services"] += 1
            found["service_at_locations"] += len(service["service_at_locations"])
            found["service_areas"] += len(service["service_areas"])
            found["contacts"] += len(service["contacts"])
    return dict(found)
