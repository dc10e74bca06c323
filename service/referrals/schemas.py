"""Inputs and outputs of the referral exchange."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from msgspec import Meta, Struct

from directory.vocabulary import Domain
from service.referrals.machine import Status, Transition

AGE_RANGES = {
    "16-17": "16–17 ans",
    "18-21": "18–21 ans",
    "22-25": "22–25 ans",
    "26+": "26 ans et plus",
}
# What the young person may agree to share with the partner, beyond their first name.
SHAREABLE = {
    "age": "Âge ou année de naissance",
    "commune": "Commune",
    "phone": "Téléphone",
    "email": "Courriel",
    "message": "Message de l'orientation (situation, besoin)",
}


class YoungPersonIn(Struct, forbid_unknown_fields=True):
    first_name: Annotated[str, Meta(min_length=1, max_length=80)]
    commune: Annotated[str, Meta(pattern=r"^(\d{5}|2[AB]\d{3})$")]
    # The ages accepted move with the calendar: see exchange.birth_year_problem.
    birth_year: Annotated[int, Meta(ge=1900, le=2100)] | None = None
    age_range: Literal["", "16-17", "18-21", "22-25", "26+"] = ""
    phone: Annotated[str, Meta(max_length=30)] = ""
    email: Annotated[str, Meta(max_length=254)] = ""
    channel: Literal["", "email", "sms"] = ""


class ConsentIn(Struct, forbid_unknown_fields=True):
    given: bool
    shares: list[Literal["age", "commune", "phone", "email", "message"]] = []


class ReferralCreate(Struct, forbid_unknown_fields=True):
    to_structure_id: UUID
    domain: Domain
    consent: ConsentIn
    young_person: YoungPersonIn | None = None
    # A further referral for a young person already known: their journey continues.
    young_person_id: UUID | None = None
    to_service_id: UUID | None = None
    to_contact_id: UUID | None = None
    message: Annotated[str, Meta(max_length=4000)] = ""
    urgency: Literal["normal", "urgent"] = "normal"
    # The young person's language for their page and emails: fr (default), en or ar.
    language: Annotated[
        Literal["fr", "en", "ar"],
        Meta(description="Langue de la page et des courriels du jeune : fr, en ou ar."),
    ] = "fr"


class Action(Struct, forbid_unknown_fields=True):
    transition: Transition
    reason: Annotated[str, Meta(max_length=40)] = ""
    # A message the referent advisor alone reads (e.g. why the partner declines).
    note: Annotated[str, Meta(max_length=4000)] = ""
    # For a redirection: the better-placed structure, and optionally its service.
    redirect_to_structure_id: UUID | None = None
    redirect_to_service_id: UUID | None = None
    # For a decline: a structure the partner suggests to the advisor instead (optional).
    suggested_structure_id: UUID | None = None
    # The version the actor saw; a stale one means someone else acted first.
    expected_version: int | None = None
    # A young person who could not go asks their advisor to call them back.
    call_back: bool = False


class EventRead(Struct):
    at: datetime
    actor_kind: str
    actor_label: str
    transition: Transition
    transition_label: str
    # The event as a sentence naming who did what ("Le Foyer a accusé réception").
    sentence: str
    from_status: Status
    to_status: Status
    reason: str
    reason_label: str
    note: str


class ReferralRead(Struct):
    id: UUID
    status: Status
    status_label: str
    version: int
    domain: Domain
    urgency: str
    message: str
    from_structure_id: UUID
    from_structure_name: str
    referent_name: str
    referent_email: str
    to_structure_id: UUID
    to_structure_name: str
    to_service_id: UUID | None
    to_service_name: str
    to_contact_name: str
    young_person_id: UUID
    young_person: dict[str, object]
    consent_withdrawn: bool
    parent_id: UUID | None
    children_ids: list[UUID]
    convention_id: UUID | None
    convention_title: str
    acknowledge_due: datetime | None
    answer_due: datetime | None
    overdue: bool
    sent_at: datetime | None
    closed_at: datetime | None
    outcome: str
    decline_reason: str
    private_note: str
    # The structure the declining partner suggests, while it is active (not for the young
    # person: the advisor talks it over with them).
    suggested_structure_id: UUID | None
    suggested_structure_name: str
    allowed: list[Transition]
    events: list[EventRead]
    appointment: AppointmentRead | None = None
    # The young person's own answer ("went" or "could_not_go"), once given.
    young_said: str = ""
    young_said_reason: str = ""
    young_said_at: datetime | None = None
    young_said_call_back: bool = False
    # The young person's language (fr, en, ar), chosen by the advisor or by them.
    language: str = "fr"


class Created(Struct):
    id: UUID
    status: Status


class AppointmentIn(Struct, forbid_unknown_fields=True):
    """A meeting given to the young person; date and time are Paris wall-clock."""

    date: Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}$", description="AAAA-MM-JJ")]
    time: Annotated[str, Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM")]
    place: Annotated[str, Meta(min_length=1, max_length=300)]
    ask_for: Annotated[str, Meta(max_length=120)] = ""
    # What to bring: never an identity document (unconditional welcome).
    bring: Annotated[str, Meta(max_length=1000)] = ""


class AppointmentRead(Struct):
    starts_at: datetime
    # « lundi 7 décembre 2026 à 14 h 30 », Paris time.
    when: str
    place: str
    ask_for: str
    bring: str
    # The time has passed: the partner is asked whether the young person came.
    passed: bool
