"""Writes and reads of the directory. Every write validates everything first, then writes
in one transaction, so a bad form or a bad CSV row leaves nothing half-written."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from piccolo.columns import Column
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from directory import history
from directory.errors import Invalid, NotFound
from directory.freshness import Freshness, freshness
from directory.gazetteer import Gazetteer, load_gazetteer
from directory.geo import AddressGeocoder, Located, cell_of, commune_centre
from directory.raw import fetch
from directory.schemas import (
    STRUCTURE_KINDS,
    ContactRead,
    Page,
    PersonWrite,
    RelationshipRead,
    RelationshipWrite,
    ServiceRead,
    ServiceWrite,
    SiteRead,
    SiteWrite,
    StructureRead,
    StructureSummary,
    StructureWrite,
)
from directory.tables import Person, Relationship, Service, ServiceKey, Site, Structure
from directory.text import fold
from directory.validation import (
    email_problem,
    normalise_phone,
    normalise_siret,
    opening_hours_problem,
    siret_problem,
    website_problem,
    zone_problem,
)
from directory.verification import Verifier
from directory.vocabulary import (
    DOMAIN_LABELS,
    NETWORKS,
    PUBLICS,
    THEMATIQUES,
    Channel,
    StructureStatus,
)

# SQLite lets one writer in at a time and leaves the others to poll: under load, newcomers
# overtake writers that have waited for seconds, until one gives up with "database is
# locked" (measured with benchmarks/referrals_load.py at 96 clients). Writers of this
# process therefore queue on a lock of their own, first come first served; one lock per
# event loop, since an asyncio lock belongs to its loop.
_sqlite_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
_holding_write_lock: ContextVar[bool] = ContextVar("holding_write_lock", default=False)


@asynccontextmanager
async def writing() -> AsyncIterator[None]:
    """A write transaction. On SQLite it queues behind this process's other writers, then
    takes the database's write lock at once (IMMEDIATE) so that it cannot deadlock on a lock
    upgrade. Nested calls join the outer transaction."""
    db = Structure._meta.db
    if not isinstance(db, SQLiteEngine):
        async with db.transaction():
            yield
        return
    if _holding_write_lock.get():
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
        return
    loop = asyncio.get_running_loop()
    lock = _sqlite_writers.setdefault(loop, asyncio.Lock())
    async with lock:
        token = _holding_write_lock.set(True)
        try:
            async with db.transaction(transaction_type=TransactionType.immediate):
                yield
        finally:
            _holding_write_lock.reset(token)


async def write_one(table: type[Table], template: str, *args: Any) -> Sequence[Mapping[str, Any]]:
    """One statement that writes (directory.raw.fetch's template). On PostgreSQL a lone
    statement is its own transaction: no BEGIN and COMMIT around it, one round trip instead
    of three. On SQLite it queues behind this process's writers like any write."""
    if isinstance(Structure._meta.db, SQLiteEngine):
        async with writing():
            return await fetch(table, template, *args)
    return await fetch(table, template, *args)


def _now() -> datetime:
    return datetime.now(UTC)


def _columns(values: Mapping[str, Any]) -> dict[Column | str, Any]:
    """Checked values, keyed by column name, in the form Piccolo's update() is typed for."""
    return {name: value for name, value in values.items()}


# ---- Structures --------------------------------------------------------------------------


def _check_structure(data: StructureWrite) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = "Le nom est obligatoire."
    if data.kind not in STRUCTURE_KINDS:
        errors["kind"] = "Type de structure inconnu."
    if data.network and data.network not in NETWORKS:
        errors["network"] = "Réseau inconnu (liste data·inclusion)."
    if problem := siret_problem(data.siret):
        errors["siret"] = problem
    if problem := email_problem(data.email):
        errors["email"] = problem
    if problem := website_problem(data.website):
        errors["website"] = problem
    phone, problem = normalise_phone(data.phone)
    if problem:
        errors["phone"] = problem
    name = data.name.strip()
    values = {
        "name": name,
        "kind": data.kind,
        "network": data.network,
        "siret": normalise_siret(data.siret),
        "description": data.description.strip(),
        "website": data.website.strip(),
        "email": data.email.strip().lower(),
        "phone": phone,
        "status": data.status.value,
        "search_text": structure_text(name, data.description, data.network),
    }
    return values, errors


def structure_text(name: str, description: str, network: str) -> str:
    """What words search matches a structure on."""
    return fold(" ".join([name, description, NETWORKS.get(network, "")]))


async def create_structure(data: StructureWrite, *, by: Verifier) -> UUID:
    """A new structure, verified by `by` as it is written."""
    values, errors = _check_structure(data)
    if errors:
        raise Invalid(errors)
    row = Structure(**values, **by.stamp())
    async with writing():
        await row.save()
        await history.record("structure", row.id, row.id, "create", None, values, by)
    return row.id


async def update_structure(
    structure_id: UUID, data: StructureWrite, *, by: Verifier, action: str = "update"
) -> None:
    """Saving a structure is vouching for it: `by` becomes its last verifier. `action`
    says how the history tells it (an update, or a restore)."""
    await _structure_row(structure_id)
    values, errors = _check_structure(data)
    if errors:
        raise Invalid(errors)
    values["updated_at"] = _now()
    values |= by.stamp()
    async with writing():
        before = await Structure.select().where(Structure.id == structure_id).first()
        await Structure.update(_columns(values)).where(Structure.id == structure_id)
        await history.record("structure", structure_id, structure_id, action, before, values, by)
        # The structure's name is part of each service's searchable text.
        for service in await Service.objects().where(Service.structure == structure_id):
            await Service.update(
                {Service.search_text: service_text(service, values["name"])}
            ).where(Service.id == service.id)


async def confirm_structure(structure_id: UUID, *, by: Verifier) -> None:
    """The record is right as it is: only its verification changes."""
    await _structure_row(structure_id)
    async with writing():
        await Structure.update(_columns(by.stamp())).where(Structure.id == structure_id)
        await history.record("structure", structure_id, structure_id, "confirm", None, None, by)


async def confirm_service(service_id: UUID, *, by: Verifier) -> None:
    await get_service(service_id)
    await Service.update(_columns(by.stamp())).where(Service.id == service_id)


def freshness_of(row: Structure | Service) -> Freshness:
    """The record's freshness as seen now."""
    return freshness(row.verified_at, row.verified_by, _now())


async def _structure_row(structure_id: UUID) -> Structure:
    row = await Structure.objects().where(Structure.id == structure_id).first()
    if row is None:
        raise NotFound("Structure")
    return row


async def list_structures(
    words: str = "", page: int = 1, page_size: int = 20, commune: str = ""
) -> Page:
    query = Structure.select(
        Structure.id, Structure.name, Structure.kind, Structure.network, Structure.status
    )
    count = Structure.count()
    for word in fold(words).split():
        query = query.where(Structure.search_text.like(f"%{word}%"))
        count = count.where(Structure.search_text.like(f"%{word}%"))
    if commune:
        in_commune = Site.select(Site.structure).where(Site.commune == commune)
        query = query.where(Structure.id.is_in(in_commune))
        count = count.where(Structure.id.is_in(in_commune))
    page = max(page, 1)
    rows = await query.order_by(Structure.name).limit(page_size).offset((page - 1) * page_size)
    total = await count
    communes = await _communes_of([r["id"] for r in rows])
    items = [
        StructureSummary(
            id=r["id"],
            name=r["name"],
            kind=r["kind"],
            network=r["network"],
            status=r["status"],
            communes=communes.get(r["id"], []),
        )
        for r in rows
    ]
    return Page(items=items, total=total, page=page, page_size=page_size)


async def _communes_of(structure_ids: list[UUID]) -> dict[UUID, list[str]]:
    if not structure_ids:
        return {}
    gaz = load_gazetteer()
    found: dict[UUID, list[str]] = {}
    for row in await Site.select(Site.structure, Site.commune).where(
        Site.structure.is_in(structure_ids)
    ):
        commune = gaz.get(row["commune"])
        name = commune.name if commune else row["commune"]
        names = found.setdefault(row["structure"], [])
        if name not in names:
            names.append(name)
    return found


async def get_structure(structure_id: UUID) -> StructureRead:
    row = await _structure_row(structure_id)
    sites = await Site.objects().where(Site.structure == structure_id).order_by(Site.name)
    services = (
        await Service.objects().where(Service.structure == structure_id).order_by(Service.name)
    )
    people = (
        await Person.objects().where(Person.structure == structure_id).order_by(Person.last_name)
    )
    return StructureRead(
        id=row.id,
        name=row.name,
        kind=row.kind,
        network=row.network,
        siret=row.siret,
        description=row.description,
        website=row.website,
        email=row.email,
        phone=row.phone,
        status=StructureStatus(row.status),
        verified_at=row.verified_at,
        verified_by_kind=row.verified_by_kind,
        verified_by=row.verified_by,
        freshness=freshness_of(row),
        sites=[site_read(s) for s in sites],
        services=[service_read(s) for s in services],
        people=[person_read(p) for p in people],
        relationships=await relationships_of(structure_id, [p.id for p in people]),
    )


# ---- Sites -------------------------------------------------------------------------------


def site_read(row: Site) -> SiteRead:
    commune = load_gazetteer().get(row.commune)
    return SiteRead(
        id=row.id,
        name=row.name,
        address=row.address,
        commune=row.commune,
        commune_name=commune.name if commune else row.commune,
        postcode=row.postcode,
        lat=row.lat,
        lon=row.lon,
        geocoded=row.geocoded,
        opening_hours=row.opening_hours,
        accessibility=row.accessibility,
        walk_in=row.walk_in,
    )


def _site_problems(data: SiteWrite, gazetteer: Gazetteer) -> dict[str, str]:
    errors: dict[str, str] = {}
    commune = gazetteer.get(data.commune)
    if commune is None:
        errors["commune"] = f"Aucune commune n'a le code INSEE {data.commune}."
    postcode = data.postcode.strip()
    if commune and postcode and postcode not in commune.postcodes:
        errors["postcode"] = (
            f"Le code postal {postcode} n'est pas celui de {commune.name} "
            f"({', '.join(commune.postcodes)})."
        )
    if (data.lat is None) != (data.lon is None):
        errors["lat"] = "Donnez la latitude et la longitude, ou aucune des deux."
    if problem := opening_hours_problem(data.opening_hours):
        errors["opening_hours"] = problem
    return errors


async def _check_site(
    data: SiteWrite, gazetteer: Gazetteer, geocoder: AddressGeocoder | None
) -> tuple[dict[str, Any], dict[str, str], str]:
    errors = _site_problems(data, gazetteer)
    commune = gazetteer.get(data.commune)
    if errors or commune is None:
        return {}, errors, ""
    postcode = data.postcode.strip()
    if data.lat is not None and data.lon is not None:
        located = Located(data.lat, data.lon, "manual")
    elif geocoder is not None and data.address.strip():
        # geopy is synchronous: keep the event loop free while the service answers.
        located = await asyncio.to_thread(geocoder.locate, data.address, commune, gazetteer)
    else:
        located = commune_centre(commune)
    values = {
        "name": data.name.strip(),
        "address": data.address.strip(),
        "commune": commune.insee,
        "postcode": postcode or (commune.postcodes[0] if commune.postcodes else ""),
        "lat": located.lat,
        "lon": located.lon,
        "cell": cell_of(located.lat, located.lon),
        "geocoded": located.precision,
        "opening_hours": data.opening_hours.strip(),
        "accessibility": data.accessibility.strip(),
        "walk_in": data.walk_in,
    }
    return values, errors, located.notice


async def create_site(
    structure_id: UUID,
    data: SiteWrite,
    geocoder: AddressGeocoder | None = None,
    by: Verifier | None = None,
) -> tuple[UUID, str]:
    """Returns the new site's id and a notice for the user (e.g. address not found)."""
    await _structure_row(structure_id)
    values, errors, notice = await _check_site(data, load_gazetteer(), geocoder)
    if errors:
        raise Invalid(errors)
    row = Site(structure=structure_id, **values)
    async with writing():
        await row.save()
        await history.record("site", row.id, structure_id, "create", None, values, by)
    return row.id, notice


async def update_site(
    site_id: UUID,
    data: SiteWrite,
    geocoder: AddressGeocoder | None = None,
    by: Verifier | None = None,
) -> str:
    current = await get_site(site_id)
    values, errors, notice = await _check_site(data, load_gazetteer(), geocoder)
    if errors:
        raise Invalid(errors)
    async with writing():
        before = await Site.select().where(Site.id == site_id).first()
        await Site.update(_columns(values)).where(Site.id == site_id)
        await history.record("site", site_id, current.structure, "update", before, values, by)
    return notice


async def get_site(site_id: UUID) -> Site:
    row = await Site.objects().where(Site.id == site_id).first()
    if row is None:
        raise NotFound("Site")
    return row


# ---- Services ----------------------------------------------------------------------------


def service_read(row: Service) -> ServiceRead:
    return ServiceRead(
        id=row.id,
        structure_id=row.structure,
        name=row.name,
        description=row.description,
        domains=list(row.domains),
        thematiques=list(row.thematiques),
        publics=list(row.publics),
        conditions=row.conditions,
        fees=row.fees,
        on_site=row.on_site,
        remote=row.remote,
        zone=list(row.zone),
        unconditional=row.unconditional,
        site_id=row.site,
        contact_id=row.contact,
        verified_at=row.verified_at,
        verified_by_kind=row.verified_by_kind,
        verified_by=row.verified_by,
        freshness=freshness_of(row),
    )


def service_text(service: Service | dict[str, Any], structure_name: str) -> str:
    def get(key: str) -> Any:
        return service.get(key) if isinstance(service, dict) else getattr(service, key)

    parts: list[str] = [structure_name, get("name") or "", get("description") or ""]
    parts += [DOMAIN_LABELS.get(d, d) for d in get("domains") or ()]
    parts += [THEMATIQUES.get(t, t) for t in get("thematiques") or ()]
    return fold(" ".join(parts))


def service_keys(
    domains: Iterable[str],
    thematiques: Iterable[str],
    publics: Iterable[str],
    zone: Iterable[str],
    remote: bool = False,
) -> list[str]:
    """The indexed keys search filters on. A remote service also gets "r:<zone code>" (or
    "r:none" without a zone), so the remote services open to a commune are read through the
    index instead of by scanning every service."""
    zone = list(zone)
    remote_keys = ([f"r:{z}" for z in zone] or ["r:none"]) if remote else []
    return (
        [f"d:{d}" for d in domains]
        + [f"t:{t}" for t in thematiques]
        + [f"p:{p}" for p in publics]
        + [f"z:{z}" for z in zone]
        + remote_keys
    )


async def _check_service(
    structure_id: UUID, data: ServiceWrite
) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = "Le nom est obligatoire."
    if unknown := [t for t in data.thematiques if t not in THEMATIQUES]:
        errors["thematiques"] = "Thématiques inconnues : " + ", ".join(unknown)
    if unknown := [p for p in data.publics if p not in PUBLICS]:
        errors["publics"] = "Publics inconnus : " + ", ".join(unknown)
    zone = [z.strip() for z in data.zone if z.strip()]
    zone = [
        "france" if z.lower() == "france" else z.upper() if z[:2].lower() in {"2a", "2b"} else z
        for z in zone
    ]
    if problem := zone_problem(zone, load_gazetteer()):
        errors["zone"] = problem
    if not data.on_site and not data.remote:
        errors["on_site"] = "Le service est-il rendu sur place, à distance, ou les deux ?"
    if data.site_id is not None:
        site = await Site.select(Site.structure).where(Site.id == data.site_id).first()
        if site is None or site["structure"] != structure_id:
            errors["site_id"] = "Ce site n'appartient pas à la structure."
    if data.contact_id is not None:
        person = await Person.select(Person.structure).where(Person.id == data.contact_id).first()
        if person is None or person["structure"] != structure_id:
            errors["contact_id"] = "Cette personne ne travaille pas dans la structure."
    domains = list(dict.fromkeys(d.value for d in data.domains))
    values = {
        "name": data.name.strip(),
        "description": data.description.strip(),
        "domains": domains,
        "thematiques": list(dict.fromkeys(data.thematiques)),
        "publics": list(dict.fromkeys(data.publics)),
        "conditions": data.conditions.strip(),
        "fees": data.fees.strip(),
        "on_site": data.on_site,
        "remote": data.remote,
        "zone": list(dict.fromkeys(zone)),
        "unconditional": data.unconditional,
        "site": data.site_id,
        "contact": data.contact_id,
    }
    return values, errors


async def write_keys(service_id: UUID, values: Mapping[str, Any]) -> None:
    """Rewrite a service's search keys from its lists."""
    await ServiceKey.delete().where(ServiceKey.service == service_id)
    keys = service_keys(
        values["domains"],
        values["thematiques"],
        values["publics"],
        values["zone"],
        values["remote"],
    )
    if keys:
        await ServiceKey.insert(*[ServiceKey(service=service_id, key=k) for k in keys])


async def create_service(structure_id: UUID, data: ServiceWrite, *, by: Verifier) -> UUID:
    structure = await _structure_row(structure_id)
    values, errors = await _check_service(structure_id, data)
    if errors:
        raise Invalid(errors)
    values |= by.stamp()
    values["search_text"] = service_text(values, structure.name)
    async with writing():
        row = Service(structure=structure_id, **values)
        await row.save()
        await write_keys(row.id, values)
        await history.record("service", row.id, structure_id, "create", None, values, by)
    return row.id


async def update_service(
    service_id: UUID, data: ServiceWrite, *, by: Verifier, action: str = "update"
) -> None:
    current = await get_service(service_id)
    structure = await _structure_row(current.structure)
    values, errors = await _check_service(current.structure, data)
    if errors:
        raise Invalid(errors)
    values |= by.stamp()
    values["search_text"] = service_text(values, structure.name)
    async with writing():
        before = await Service.select().where(Service.id == service_id).first()
        await Service.update(_columns(values)).where(Service.id == service_id)
        await write_keys(service_id, values)
        await history.record("service", service_id, current.structure, action, before, values, by)


async def get_service(service_id: UUID) -> Service:
    row = await Service.objects().where(Service.id == service_id).first()
    if row is None:
        raise NotFound("Service")
    return row


# ---- People ------------------------------------------------------------------------------


def person_read(row: Person) -> ContactRead:
    return ContactRead(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        role=row.role,
        email=row.email,
        phone=row.phone,
        preferred_channel=Channel(row.preferred_channel),
        active=row.active,
        left_on=row.left_on,
    )


def _check_person(data: PersonWrite) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    if not data.first_name.strip():
        errors["first_name"] = "Le prénom est obligatoire."
    if not data.last_name.strip():
        errors["last_name"] = "Le nom est obligatoire."
    if problem := email_problem(data.email):
        errors["email"] = problem
    phone, problem = normalise_phone(data.phone)
    if problem:
        errors["phone"] = problem
    if data.preferred_channel == Channel.EMAIL and not data.email.strip():
        errors.setdefault("email", "Le courriel est le moyen préféré : indiquez-le.")
    if data.preferred_channel in {Channel.PHONE, Channel.SMS} and not data.phone.strip():
        errors.setdefault("phone", "Le téléphone est le moyen préféré : indiquez-le.")
    if data.active and data.left_on is not None:
        errors["left_on"] = "Une personne encore en poste n'a pas de date de départ."
    values = {
        "first_name": data.first_name.strip(),
        "last_name": data.last_name.strip(),
        "role": data.role.strip(),
        "email": data.email.strip().lower(),
        "phone": phone,
        "preferred_channel": data.preferred_channel.value,
        "active": data.active,
        "left_on": data.left_on,
    }
    return values, errors


async def create_person(structure_id: UUID, data: PersonWrite, by: Verifier | None = None) -> UUID:
    await _structure_row(structure_id)
    values, errors = _check_person(data)
    if errors:
        raise Invalid(errors)
    row = Person(structure=structure_id, **values)
    async with writing():
        await row.save()
        await history.record("person", row.id, structure_id, "create", None, values, by)
    return row.id


async def update_person(person_id: UUID, data: PersonWrite, by: Verifier | None = None) -> None:
    current = await get_person(person_id)
    values, errors = _check_person(data)
    if errors:
        raise Invalid(errors)
    async with writing():
        before = await Person.select().where(Person.id == person_id).first()
        await Person.update(_columns(values)).where(Person.id == person_id)
        await history.record("person", person_id, current.structure, "update", before, values, by)


async def get_person(person_id: UUID) -> Person:
    row = await Person.objects().where(Person.id == person_id).first()
    if row is None:
        raise NotFound("Personne")
    return row


# ---- Relationships -----------------------------------------------------------------------


async def _check_relationship(source_id: UUID, data: RelationshipWrite) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if (data.target_structure_id is None) == (data.target_person_id is None):
        errors["target"] = "Choisissez une structure ou une personne, et une seule."
    elif data.target_structure_id == source_id:
        errors["target"] = "Une structure ne peut pas être en relation avec elle-même."
    elif data.target_structure_id is not None and not await Structure.exists().where(
        Structure.id == data.target_structure_id
    ):
        errors["target"] = "Structure introuvable."
    elif data.target_person_id is not None and not await Person.exists().where(
        Person.id == data.target_person_id
    ):
        errors["target"] = "Personne introuvable."
    if errors:
        raise Invalid(errors)
    return {
        "target_structure": data.target_structure_id,
        "target_person": data.target_person_id,
        "level": data.level.value,
        "kind": data.kind.value,
        "since": data.since,
        "note": data.note.strip(),
    }


async def create_relationship(
    source_id: UUID, data: RelationshipWrite, by: Verifier | None = None
) -> UUID:
    await _structure_row(source_id)
    values = await _check_relationship(source_id, data)
    row = Relationship(source=source_id, **values)
    async with writing():
        await row.save()
        await history.record("relationship", row.id, source_id, "create", None, values, by)
    return row.id


async def update_relationship(
    relationship_id: UUID, data: RelationshipWrite, by: Verifier | None = None
) -> None:
    current = await get_relationship(relationship_id)
    values = await _check_relationship(current.source, data)
    async with writing():
        before = await Relationship.select().where(Relationship.id == relationship_id).first()
        await Relationship.update(_columns(values)).where(Relationship.id == relationship_id)
        await history.record(
            "relationship", relationship_id, current.source, "update", before, values, by
        )


async def delete_relationship(relationship_id: UUID, by: Verifier | None = None) -> None:
    current = await get_relationship(relationship_id)
    async with writing():
        before = await Relationship.select().where(Relationship.id == relationship_id).first()
        await Relationship.delete().where(Relationship.id == relationship_id)
        await history.record(
            "relationship", relationship_id, current.source, "delete", before, None, by
        )


async def get_relationship(relationship_id: UUID) -> Relationship:
    row = await Relationship.objects().where(Relationship.id == relationship_id).first()
    if row is None:
        raise NotFound("Relation")
    return row


async def relationships_of(structure_id: UUID, people_ids: list[UUID]) -> list[RelationshipRead]:
    """Edges touching a structure, in either direction, including those to its people."""
    where = (Relationship.source == structure_id) | (Relationship.target_structure == structure_id)
    if people_ids:
        where = where | Relationship.target_person.is_in(people_ids)
    rows = await Relationship.select(
        *Relationship.all_columns(),
        Relationship.source.name.as_alias("source_name"),
        Relationship.target_structure.name.as_alias("target_structure_name"),
        Relationship.target_person.first_name.as_alias("person_first_name"),
        Relationship.target_person.last_name.as_alias("person_last_name"),
    ).where(where)
    result = [
        RelationshipRead(
            id=r["id"],
            source_id=r["source"],
            source_name=r["source_name"],
            target_structure_id=r["target_structure"],
            target_person_id=r["target_person"],
            target_name=r["target_structure_name"]
            or f"{r['person_first_name']} {r['person_last_name']}",
            level=r["level"],
            kind=r["kind"],
            since=r["since"],
            note=r["note"],
        )
        for r in rows
    ]
    return sorted(result, key=lambda r: (r.level, r.source_name, r.target_name))


# ---- Validation without writing, for forms that report every error at once -------------


def validate_structure(data: StructureWrite) -> dict[str, str]:
    return _check_structure(data)[1]


def validate_site(data: SiteWrite) -> dict[str, str]:
    return _site_problems(data, load_gazetteer())


async def validate_service(structure_id: UUID, data: ServiceWrite) -> dict[str, str]:
    return (await _check_service(structure_id, data))[1]


def validate_person(data: PersonWrite) -> dict[str, str]:
    return _check_person(data)[1]


# ---- History -----------------------------------------------------------------------------


async def restore(structure_id: UUID, change_id: UUID, *, by: Verifier) -> None:
    """Put a structure or one of its services back as it was right after `change_id`: a new
    change, recorded as a restore, through the same checks as any save."""
    change = await history.get_change(change_id)
    if change is None or change["structure"] != structure_id:
        raise NotFound("Modification")
    if change["record_kind"] == "structure":
        current = await Structure.select().where(Structure.id == structure_id).first()
        fields = {f: f for f in StructureWrite.__struct_fields__}
        schema: type[StructureWrite] | type[ServiceWrite] = StructureWrite
    elif change["record_kind"] == "service":
        current = await Service.select().where(Service.id == change["record_id"]).first()
        fields = {f: f for f in ServiceWrite.__struct_fields__}
        fields |= {"site_id": "site", "contact_id": "contact"}
        schema = ServiceWrite
    else:
        raise Invalid({"change": "Seules une structure ou un de ses services se restaurent."})
    if current is None:
        raise NotFound("Service")
    state = await history.state_after(change, current)
    try:
        data = msgspec.convert({f: state[c] for f, c in fields.items()}, schema)
    except msgspec.ValidationError as error:
        raise Invalid({"change": f"Cette version ne peut plus être restaurée : {error}"}) from error
    if isinstance(data, StructureWrite):
        await update_structure(structure_id, data, by=by, action="restore")
    else:
        await update_service(change["record_id"], data, by=by, action="restore")
