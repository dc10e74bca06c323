"""Inputs and outputs of conventions."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from conventions.lifecycle import ConventionStatus
from directory.vocabulary import Domain, Level


class PartyIn(Struct, forbid_unknown_fields=True):
    structure_id: UUID
    referent_id: UUID | None = None


class ConventionWrite(Struct, forbid_unknown_fields=True):
    title: Annotated[str, Meta(min_length=1, max_length=200)]
    level: Level
    parties: Annotated[list[PartyIn], Meta(min_length=2, max_length=30)]
    starts_on: date
    domains: list[Domain] = []
    signed_on: date | None = None
    ends_on: date | None = None
    acknowledge_days: Annotated[int, Meta(ge=1, le=60)] | None = None
    answer_days: Annotated[int, Meta(ge=1, le=120)] | None = None
    commitments: Annotated[str, Meta(max_length=10000)] = ""


class Termination(Struct, forbid_unknown_fields=True):
    on: date
    reason: Annotated[str, Meta(min_length=1, max_length=2000)]


class PartyRead(Struct):
    structure_id: UUID
    structure_name: str
    referent_id: UUID | None
    referent_name: str
    referent_email: str
    referent_active: bool


class ConventionRead(Struct):
    id: UUID
    title: str
    level: Level
    domains: list[Domain]
    status: ConventionStatus
    status_label: str
    signed_on: date | None
    starts_on: date
    ends_on: date | None
    terminated_on: date | None
    termination_reason: str
    acknowledge_days: int | None
    answer_days: int | None
    commitments: str
    has_pdf: bool
    pdf_name: str
    parties: list[PartyRead]
