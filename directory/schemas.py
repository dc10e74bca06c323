"""Inputs and outputs of the directory as msgspec Structs: constraints live here, once, for
the API, the forms and the CSV import alike."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from directory.freshness import Freshness
from directory.vocabulary import Channel, Domain, Level, RelationshipKind, StructureStatus

Name = Annotated[str, Meta(min_length=1, max_length=200)]
ShortText = Annotated[str, Meta(max_length=300)]
LongText = Annotated[str, Meta(max_length=5000)]
Email = Annotated[str, Meta(max_length=254)]
Phone = Annotated[str, Meta(max_length=30)]
InseeCode = Annotated[str, Meta(pattern=r"^(\d{5}|2[AB]\d{3})$")]
Latitude = Annotated[float, Meta(ge=-90, le=90)]
Longitude = Annotated[float, Meta(ge=-180, le=180)]

STRUCTURE_KINDS: dict[str, str] = {
    "mission-locale": "Mission Locale",
    "association": "Association",
    "public-service": "Service public",
    "local-authority": "Collectivité territoriale",
    "state-service": "Service de l'État",
    "elected-body": "Élu·e, assemblée",
    "health-centre": "Centre de santé",
    "training-body": "Organisme de formation",
    "employer": "Employeur",
    "housing": "Bailleur, résidence, hébergement",
    "club": "Club, équipement sportif ou culturel",
}


class StructureWrite(Struct, forbid_unknown_fields=True):
    name: Name
    kind: str = "association"
    network: str = ""
    siret: Annotated[str, Meta(max_length=20)] = ""
    description: LongText = ""
    website: ShortText = ""
    email: Email = ""
    phone: Phone = ""
    status: StructureStatus = StructureStatus.ACTIVE


class SiteWrite(Struct, forbid_unknown_fields=True):
    commune: InseeCode
    name: Annotated[str, Meta(max_length=200)] = ""
    address: ShortText = ""
    postcode: Annotated[str, Meta(max_length=5)] = ""
    lat: Latitude | None = None
    lon: Longitude | None = None
    opening_hours: Annotated[str, Meta(max_length=500)] = ""
    accessibility: LongText = ""
    walk_in: bool = False


class ServiceWrite(Struct, forbid_unknown_fields=True):
    name: Name
    domains: Annotated[list[Domain], Meta(min_length=1)]
    description: LongText = ""
    thematiques: list[str] = []
    publics: list[str] = []
    conditions: LongText = ""
    fees: Annotated[str, Meta(max_length=200)] = ""
    on_site: bool = True
    remote: bool = False
    zone: list[str] = []
    unconditional: bool = False
    site_id: UUID | None = None
    contact_id: UUID | None = None


class PersonWrite(Struct, forbid_unknown_fields=True):
    first_name: Annotated[str, Meta(min_length=1, max_length=100)]
    last_name: Annotated[str, Meta(min_length=1, max_length=100)]
    role: Annotated[str, Meta(max_length=150)] = ""
    email: Email = ""
    phone: Phone = ""
    preferred_channel: Channel = Channel.EMAIL
    active: bool = True
    left_on: date | None = None


class RelationshipWrite(Struct, forbid_unknown_fields=True):
    level: Level
    target_structure_id: UUID | None = None
    target_person_id: UUID | None = None
    kind: RelationshipKind = RelationshipKind.PARTNERSHIP
    since: date | None = None
    note: LongText = ""


# ---- Read models -------------------------------------------------------------------------


class ContactRead(Struct):
    id: UUID
    first_name: str
    last_name: str
    role: str
    email: str
    phone: str
    preferred_channel: Channel
    active: bool
    left_on: date | None


class SiteRead(Struct):
    id: UUID
    name: str
    address: str
    commune: str
    commune_name: str
    postcode: str
    lat: float | None
    lon: float | None
    geocoded: str
    opening_hours: str
    accessibility: str
    walk_in: bool


class ServiceRead(Struct):
    id: UUID
    structure_id: UUID
    name: str
    description: str
    domains: list[Domain]
    thematiques: list[str]
    publics: list[str]
    conditions: str
    fees: str
    on_site: bool
    remote: bool
    zone: list[str]
    unconditional: bool
    site_id: UUID | None
    contact_id: UUID | None
    # Last verification; freshness is computed from it when the record is read.
    verified_at: datetime | None = None
    verified_by_kind: str = ""
    verified_by: str = ""
    freshness: Freshness | None = None


class RelationshipRead(Struct):
    id: UUID
    source_id: UUID
    source_name: str
    target_structure_id: UUID | None
    target_person_id: UUID | None
    target_name: str
    level: Level
    kind: RelationshipKind
    since: date | None
    note: str


class StructureSummary(Struct):
    id: UUID
    name: str
    kind: str
    network: str
    status: StructureStatus
    communes: list[str] = []


class StructureRead(Struct):
    id: UUID
    name: str
    kind: str
    network: str
    siret: str
    description: str
    website: str
    email: str
    phone: str
    status: StructureStatus
    verified_at: datetime | None
    verified_by_kind: str
    verified_by: str
    freshness: Freshness
    sites: list[SiteRead]
    services: list[ServiceRead]
    people: list[ContactRead]
    relationships: list[RelationshipRead]


class Page(Struct):
    items: list[StructureSummary]
    total: int
    page: int
    page_size: int
