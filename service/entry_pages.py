"""What a partner does through the personal link to its own entry (`/fiche/{token}`),
apart from HTTP: read its entry, correct any part, add a site, a service or a person, mark
a person as gone, or confirm that nothing changed. Every write goes through the directory
store with the partner as verifier, so the history and the verification dates follow, and
records the partner's answer to the campaign that sent the link, in the same transaction.
The link opens one structure only: an id of another structure's record is "not found"."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from directory import store
from directory.errors import NotFound
from directory.gazetteer import load_gazetteer
from directory.geo import AddressGeocoder
from directory.schemas import PersonWrite, ServiceWrite, SiteWrite, StructureRead, StructureWrite
from directory.store import writing
from directory.verification import Verifier
from service import departures, entry_links
from service import directory_forms as forms
from service.campaigns import answers
from service.entry_links import EntryAccess
from service.forms import parse_and_check

LINK_NOT_VALID = (
    "Ce lien a peut-être expiré, ou il a été désactivé ou remplacé par un plus récent. "
    "Demandez un nouveau lien à la Mission Locale qui vous l’a envoyé."
)


class LinkNotValid(NotFound):
    """An unknown, expired or revoked link: the same plain answer for each."""

    def __init__(self) -> None:
        Exception.__init__(self, LINK_NOT_VALID)


async def open_link(token: str, now: datetime | None = None) -> EntryAccess:
    access = await entry_links.resolve(token, now)
    if access is None:
        raise LinkNotValid()
    return access


def partner(structure_name: str) -> Verifier:
    """The partner vouches for its own entry, through its link."""
    return Verifier("partner_link", f"{structure_name}, par son lien personnel")


async def entry(access: EntryAccess) -> StructureRead:
    return await store.get_structure(access.structure_id)


def own(items: list[Any], item_id: UUID) -> Any:
    """The site, service or person `item_id` among the structure's own, or not found."""
    for item in items:
        if item.id == item_id:
            return item
    raise NotFound("Élément")


def record_id(segment: str) -> UUID | None:
    """The record a form's path names: None for a new one ("nouveau", "nouvelle")."""
    if segment in ("nouveau", "nouvelle"):
        return None
    try:
        return UUID(segment)
    except ValueError:
        raise NotFound("Page") from None


def values_of(record: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in fields}


def site_values(site: Any) -> dict[str, Any]:
    """The site form, with the commune as "Valence (26)" rather than its INSEE code: a
    name alone may be ambiguous, and a code means nothing to a partner."""
    values = values_of(site, SiteWrite.__struct_fields__)
    commune = load_gazetteer().get(site.commune)
    if commune is not None:
        values["commune"] = commune.label
    return values


def service_values(service: Any) -> dict[str, Any]:
    values = values_of(service, ServiceWrite.__struct_fields__)
    values["domains"] = [str(d) for d in service.domains]
    values["zone"] = " ".join(service.zone)
    return values


async def confirm(access: EntryAccess, now: datetime | None = None) -> None:
    """Nothing changed: the structure and each of its services are confirmed as they are."""
    structure = await entry(access)
    by = partner(structure.name)
    async with writing():
        await store.confirm_structure(access.structure_id, by=by)
        for service in structure.services:
            await store.confirm_service(service.id, by=by)
        await answers.record(access, answers.CONFIRMED, now)
        await entry_links.touch(access.link_id, now)


async def _corrected(access: EntryAccess, by: Verifier, vouch: bool) -> None:
    """After a correction: the campaign's answer, and, when the change was to a site or a
    person (which carry no verification of their own), the structure's verification."""
    if vouch:
        await store.confirm_structure(access.structure_id, by=by)
    await answers.record(access, answers.CORRECTED)
    await entry_links.touch(access.link_id)


async def save_structure(access: EntryAccess, form: Any) -> None:
    structure = await entry(access)
    # Whether the structure is open, suspended or closed is the coordination's to say.
    values = {**dict(form.items()), "status": structure.status.value}
    data = await parse_and_check(values, StructureWrite, store.validate_structure)
    by = partner(structure.name)
    async with writing():
        await store.update_structure(access.structure_id, data, by=by)
        await _corrected(access, by, vouch=False)


def _site_form(form: Any, current: Any | None) -> dict[str, Any]:
    """The partner's site form has no coordinates: a site keeps its place while its address
    stays the same (even without a geocoder at hand), and is placed again from a new one."""
    values = forms.commune_code(form)
    if current is None:
        return values
    same_place = (
        str(values.get("address", "")).strip() == current.address
        and values.get("commune") == current.commune
    )
    if same_place and current.lat is not None and current.geocoded != "commune":
        values["lat"], values["lon"] = current.lat, current.lon
    return values


async def save_site(
    access: EntryAccess, form: Any, geocoder: AddressGeocoder | None, site_id: UUID | None
) -> str:
    structure = await entry(access)
    current = own(structure.sites, site_id) if site_id else None
    values = _site_form(form, current)
    by = partner(structure.name)
    data = await parse_and_check(values, SiteWrite, store.validate_site, checkboxes=("walk_in",))
    async with writing():
        if current is None:
            _new, notice = await store.create_site(access.structure_id, data, geocoder, by)
        else:
            notice = await store.update_site(current.id, data, geocoder, by)
        await _corrected(access, by, vouch=True)
    return notice


async def save_service(access: EntryAccess, form: Any, service_id: UUID | None) -> None:
    structure = await entry(access)
    if service_id is not None:
        own(structure.services, service_id)
    async with writing():
        await forms.save_service(access.structure_id, form, partner(structure.name), service_id)
        await _corrected(access, partner(structure.name), vouch=False)


async def save_person(access: EntryAccess, form: Any, person_id: UUID | None) -> None:
    structure = await entry(access)
    if person_id is not None:
        own(structure.people, person_id)
    by = partner(structure.name)
    async with writing():
        await forms.save_person(access.structure_id, form, person_id, by)
        await _corrected(access, by, vouch=True)


async def departure(access: EntryAccess, person_id: UUID) -> dict[str, Any]:
    """What the departure page asks about: the person, what they are still named for
    (services, conventions, relationships) and who in post may take each over."""
    structure = await entry(access)
    person = own(structure.people, person_id)
    return {
        "structure": structure,
        "person": person,
        **await departures.hand_over_choices(person_id),
    }


async def person_left(
    access: EntryAccess, person_id: UUID, form: Any, on: date | None = None
) -> None:
    """The person has left the structure (today, unless said otherwise). Whatever they
    were named for needs an answer, a colleague or "nobody for now", as on the staff's
    departure page, so that a partner's click cannot orphan a service silently."""
    structure = await entry(access)
    person = own(structure.people, person_id)
    held = await departures.holdings(person_id)
    replacements = await forms.departure_choices(person_id, form, held, must_answer=True)
    values = values_of(person, PersonWrite.__struct_fields__)
    values |= {"active": False, "left_on": on or datetime.now(UTC).date()}
    by = partner(structure.name)
    async with writing():
        await departures.depart(person.id, PersonWrite(**values), replacements, by=by)
        await _corrected(access, by, vouch=True)
