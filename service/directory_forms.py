"""The directory's edit forms read into the store's terms, apart from HTTP: each form
becomes the same Struct the API takes, checked the same way, then saved; a refused form
raises Invalid with one French message per field."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from directory import store
from directory.duplicate_checks import Candidate, candidates_for
from directory.errors import Invalid
from directory.gazetteer import AmbiguousPlace, UnknownPlace, load_gazetteer
from directory.geo import AddressGeocoder
from directory.schemas import (
    PersonWrite,
    RelationshipWrite,
    ServiceWrite,
    SiteWrite,
    StructureWrite,
)
from directory.tables import Person, Structure
from directory.verification import Verifier
from service import departures
from service.accounts.store import Actor
from service.forms import parse_and_check, parse_form, split_codes

# The structure form's checkbox that creates a structure despite likely duplicates.
CONFIRM_DUPLICATE = "confirm_duplicate"


class LikelyDuplicate(Exception):
    """The structure looks like existing ones; nothing was written."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self.candidates = candidates
        super().__init__(f"{len(candidates)} doublon(s) probable(s)")


def verifier(actor: Actor) -> Verifier:
    """A signed-in user vouches for what they save, under their name; the kind is their
    role (coordinator, advisor, admin)."""
    return Verifier(actor.role.value, actor.name)


async def create_structure(form: Any, actor: Actor) -> UUID:
    """A new structure from the form, unless it likely duplicates existing ones and the
    user has not confirmed (LikelyDuplicate)."""
    values = {k: v for k, v in form.items() if k != CONFIRM_DUPLICATE}
    data = await parse_and_check(values, StructureWrite, store.validate_structure)
    if form.get(CONFIRM_DUPLICATE) != "oui":
        candidates = await candidates_for(data)
        if candidates:
            raise LikelyDuplicate(candidates)
    return await store.create_structure(data, by=verifier(actor))


def commune_code(form: Any) -> dict[str, Any]:
    """The commune field accepts a name, postcode or code; the site needs the INSEE code."""
    data = dict(form.items()) if hasattr(form, "items") else dict(form)
    text = str(data.get("commune", "")).strip()
    if not text:
        return data
    try:
        data["commune"] = load_gazetteer().resolve(text).insee
    except AmbiguousPlace as error:
        raise Invalid({"commune": str(error)}) from error
    except UnknownPlace as error:
        if load_gazetteer().get(text) is None:
            raise Invalid({"commune": str(error)}) from error
    return data


def service_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(form.items())
    for name in ("domains", "thematiques", "publics"):
        values[name] = form.getall(name, [])
    for name in ("on_site", "remote", "unconditional"):
        values[name] = name in form
    return values


async def _service_form(structure_id: UUID, form: Any) -> ServiceWrite:
    values = service_values(form)
    values["zone"] = split_codes(str(form.get("zone", "")))
    return await parse_and_check(
        values,
        ServiceWrite,
        lambda data: store.validate_service(structure_id, data),
        lists=("domains", "thematiques", "publics", "zone"),
        checkboxes=("on_site", "remote", "unconditional"),
    )


def _relationship_form(form: Any) -> RelationshipWrite:
    """The target select holds 's:<uuid>' for a structure or 'p:<uuid>' for a person."""
    values: dict[str, Any] = dict(form.items())
    target = str(values.pop("target", ""))
    if target.startswith("s:"):
        values["target_structure_id"] = target[2:]
    elif target.startswith("p:"):
        values["target_person_id"] = target[2:]
    else:
        raise Invalid({"target": "Choisissez une structure ou une personne."})
    return parse_form(values, RelationshipWrite)


async def save_site(
    structure_id: UUID,
    form: Any,
    geocoder: AddressGeocoder | None,
    site_id: UUID | None = None,
    by: Verifier | None = None,
) -> str:
    """A new site, or `site_id` changed; returns the store's notice about its location."""
    data = await parse_and_check(
        commune_code(form), SiteWrite, store.validate_site, checkboxes=("walk_in",)
    )
    if site_id is None:
        _site_id, notice = await store.create_site(structure_id, data, geocoder, by)
        return notice
    return await store.update_site(site_id, data, geocoder, by)


async def save_service(
    structure_id: UUID, form: Any, by: Verifier, service_id: UUID | None = None
) -> None:
    """A new service, or `service_id` changed; `by` becomes its last verifier."""
    data = await _service_form(structure_id, form)
    if service_id is None:
        await store.create_service(structure_id, data, by=by)
    else:
        await store.update_service(service_id, data, by=by)


async def save_person(
    structure_id: UUID, form: Any, person_id: UUID | None = None, by: Verifier | None = None
) -> None:
    """A new person (checked against the structure's people), or `person_id` changed."""
    if person_id is None:
        data = await parse_and_check(
            form, PersonWrite, store.validate_person, checkboxes=("active",)
        )
        await store.create_person(structure_id, data, by)
    else:
        data = parse_form(form, PersonWrite, checkboxes=("active",))
        current = await store.get_person(person_id)
        held = await departures.holdings(person_id) if not data.active else []
        # Only a form that showed the hand-over selects can require them (not the partner's).
        asked = form.get(departures.ASKED) == "1"
        replacements = await departure_choices(
            person_id, form, held, must_answer=current.active and asked
        )
        await departures.depart(person_id, data, replacements, by=by)


async def departure_choices(
    person_id: UUID, form: Any, held: list[departures.Holding], *, must_answer: bool
) -> dict[str, UUID | None]:
    """Who takes over each holding, from the selects named by the holding's key: a person
    id, or NOBODY. When a person in post leaves, every holding needs an answer, so that
    nothing loses its contact without someone having said so."""
    chosen: dict[str, UUID | None] = {}
    errors: dict[str, str] = {}
    allowed = {str(p["id"]) for p in await departures.colleagues(person_id)} if held else set()
    for h in held:
        value = str(form.get(h.key, "")).strip()
        if value == departures.NOBODY:
            chosen[h.key] = None
        elif value in allowed:
            chosen[h.key] = UUID(value)
        elif value:
            errors[h.key] = departures.NOT_A_COLLEAGUE
        elif must_answer:
            errors[h.key] = (
                f"Qui reprend {h.label} ? Choisissez une personne, ou « Personne pour l'instant »."
            )
    if errors:
        raise Invalid(errors)
    return chosen


async def save_departure(person_id: UUID, form: Any, by: Verifier | None) -> None:
    """The departure page: the person has left (on the date given, if any), and each of
    their holdings goes to whom the form says."""
    person = store.person_read(await store.get_person(person_id))
    plain = msgspec.to_builtins(person)
    values = {f: plain[f] for f in PersonWrite.__struct_fields__ if plain[f] is not None}
    values |= {"active": False, "left_on": str(form.get("left_on", "")).strip()}
    data = parse_form(values, PersonWrite, checkboxes=("active",))
    held = await departures.holdings(person_id)
    replacements = await departure_choices(person_id, form, held, must_answer=True)
    await departures.depart(person_id, data, replacements, by=by)


async def save_relationship(
    structure_id: UUID,
    form: Any,
    relationship_id: UUID | None = None,
    by: Verifier | None = None,
) -> None:
    """A new relationship of the structure, or `relationship_id` changed."""
    data = _relationship_form(form)
    if relationship_id is None:
        await store.create_relationship(structure_id, data, by)
    else:
        await store.update_relationship(relationship_id, data, by)


def relationship_values(relationship: Any) -> dict[str, Any]:
    """The relationship form, filled with a relationship as it stands."""
    target = (
        f"s:{relationship.target_structure}"
        if relationship.target_structure
        else f"p:{relationship.target_person}"
    )
    return {
        "level": relationship.level,
        "kind": relationship.kind,
        "since": relationship.since,
        "note": relationship.note,
        "target": target,
    }


async def relationship_choices(structure_id: UUID) -> dict[str, Any]:
    """The structures and people a relationship of `structure_id` may point to."""
    structures = (
        await Structure.select(Structure.id, Structure.name)
        .where(Structure.id != structure_id)
        .order_by(Structure.name)
    )
    people = await Person.select(
        Person.id,
        Person.first_name,
        Person.last_name,
        Person.structure.name.as_alias("structure_name"),
    ).order_by(Person.last_name)
    return {"structures": structures, "people": people}
