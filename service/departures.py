"""People who leave: what a person held (the contact of services, the referent of
conventions, the person end of relationships) is handed to a colleague in the same
transaction as the departure, so that nothing is orphaned silently; and `lost_contacts`
lists what still points at someone who left, for the network page, the structure page
and the verification campaign.

It lives in service/ because it crosses the directory and the conventions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from conventions.tables import ConventionParty
from directory import history, store
from directory.errors import Conflict, Invalid
from directory.schemas import PersonWrite
from directory.tables import Person, Relationship, Service, Site
from directory.verification import Verifier

NOBODY = "none"  # the form's "personne pour l'instant"
ASKED = "_departure"  # a form carrying the hand-over selects says so with this field
NOT_A_COLLEAGUE = (
    "Choisissez une personne en poste dans la même structure, autre que celle qui part."
)


@dataclass(frozen=True)
class Holding:
    """One thing a person holds. `key` names it in forms and in the API's 409."""

    kind: str  # service, convention, relationship
    id: str
    label: str
    link: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


class WouldOrphan(Conflict):
    """Marking the person as having left would leave these without a contact."""

    def __init__(self, holdings: list[Holding]) -> None:
        self.holdings = holdings
        self.extra = {"would_lose_contact": [h.__dict__ | {"key": h.key} for h in holdings]}
        super().__init__(
            "Cette personne est encore le contact ou la référente de "
            + "; ".join(h.label for h in holdings)
            + ". Donnez « replacement » (une personne en poste de la structure) "
            "ou « leave_orphans »: true."
        )


async def holdings(person_id: UUID) -> list[Holding]:
    """Everything that names the person as its contact, referent or relationship end."""
    person = await store.get_person(person_id)
    found: list[Holding] = []
    for sv in await Service.select(Service.id, Service.name).where(Service.contact == person_id):
        found.append(
            Holding(
                "service",
                str(sv["id"]),
                f"le service « {sv['name']} »",
                f"/structures/{person.structure}#service-{sv['id']}",
            )
        )
    for party in await ConventionParty.select(
        ConventionParty._meta.primary_key,
        ConventionParty.convention,
        ConventionParty.convention.title,
    ).where(ConventionParty.referent == person_id):
        found.append(
            Holding(
                "convention",
                str(party["id"]),
                f"la convention « {party['convention.title']} » (référent·e)",
                f"/conventions/{party['convention']}",
            )
        )
    for rel in await Relationship.select(
        Relationship.id, Relationship.source, Relationship.source.name
    ).where(Relationship.target_person == person_id):
        found.append(
            Holding(
                "relationship",
                str(rel["id"]),
                f"la relation avec {rel['source.name']}",
                f"/structures/{rel['source']}",
            )
        )
    return found


async def colleagues(person_id: UUID) -> list[dict[str, Any]]:
    """Who may take over: the structure's people still in post, the leaver apart."""
    person = await store.get_person(person_id)
    return list(
        await Person.select(Person.id, Person.first_name, Person.last_name, Person.role)
        .where(
            (Person.structure == person.structure)
            & (Person.active == True)  # noqa: E712
            & (Person.id != person_id)
        )
        .order_by(Person.last_name)
    )


async def hand_over_choices(person_id: UUID) -> dict[str, Any]:
    """What a departure form asks about (_departure_choices.html): what the person is still
    named for, who in post may take each over, and the "nobody for now" value."""
    return {
        "holdings": await holdings(person_id),
        "colleagues": await colleagues(person_id),
        "NOBODY": NOBODY,
    }


async def _checked(
    person_id: UUID, held: list[Holding], replacements: Mapping[str, UUID | None]
) -> dict[str, UUID | None]:
    allowed = {p["id"] for p in await colleagues(person_id)}
    errors: dict[str, str] = {}
    chosen: dict[str, UUID | None] = {}
    for h in held:
        if h.key not in replacements:
            continue
        who = replacements[h.key]
        if who is not None and who not in allowed:
            errors[h.key] = NOT_A_COLLEAGUE
        chosen[h.key] = who
    if errors:
        raise Invalid(errors)
    return chosen


async def depart(
    person_id: UUID,
    data: PersonWrite,
    replacements: Mapping[str, UUID | None],
    *,
    by: Verifier | None,
    leave_orphans: bool = False,
) -> None:
    """Save the person and hand each holding named in `replacements` to its new holder
    (None: nobody for now, the holding keeps pointing at the leaver and is listed by
    `lost_contacts`). Leaving with holdings nobody answered for raises WouldOrphan unless
    `leave_orphans`. One transaction; each change written to the history."""
    person = await store.get_person(person_id)
    leaving = not data.active
    held = await holdings(person_id) if leaving else []
    chosen = await _checked(person_id, held, replacements)
    unanswered = [h for h in held if h.key not in chosen]
    if leaving and person.active and unanswered and not leave_orphans:
        raise WouldOrphan(unanswered)
    errors = store.validate_person(data)
    if errors:
        raise Invalid(errors)
    async with store.writing():
        await store.update_person(person_id, data, by)
        for h in held:
            new = chosen.get(h.key)
            if new is not None:
                await _hand_over(h, person_id, new, person.structure, by)


async def _hand_over(
    h: Holding, old: UUID, new: UUID, structure_id: UUID, by: Verifier | None
) -> None:
    before, after = {"contact": str(old)}, {"contact": str(new)}
    if h.kind == "service":
        await Service.update({Service.contact: new}).where(Service.id == UUID(h.id))
        await history.record("service", UUID(h.id), structure_id, "update", before, after, by)
    elif h.kind == "relationship":
        rel = await store.get_relationship(UUID(h.id))
        await Relationship.update({Relationship.target_person: new}).where(
            Relationship.id == rel.id
        )
        pair = {"target_person": str(old)}, {"target_person": str(new)}
        await history.record("relationship", rel.id, rel.source, "update", *pair, by)
    else:
        party = await ConventionParty.select(ConventionParty.convention).where(
            ConventionParty._meta.primary_key == int(h.id)
        )
        await ConventionParty.update({ConventionParty.referent: new}).where(
            ConventionParty._meta.primary_key == int(h.id)
        )
        pair = {"referent": str(old)}, {"referent": str(new)}
        convention_id = party[0]["convention"]
        await history.record("convention", convention_id, structure_id, "update", *pair, by)


async def update_from_api(person_id: UUID, data: PersonWrite, *, by: Verifier | None) -> None:
    """The API's person update: `replacement` (a colleague in post) takes over everything
    the person held if they leave; `leave_orphans` lets them leave without one."""
    replacement = getattr(data, "replacement", None)
    leave_orphans = bool(getattr(data, "leave_orphans", False))
    fields = {f: getattr(data, f) for f in PersonWrite.__struct_fields__}
    person = PersonWrite(**fields)
    held = await holdings(person_id) if not person.active else []
    if replacement is not None:
        allowed = {p["id"] for p in await colleagues(person_id)}
        if replacement not in allowed:
            raise Invalid({"replacement": NOT_A_COLLEAGUE})
    chosen = {h.key: replacement for h in held} if replacement is not None else {}
    await depart(person_id, person, chosen, by=by, leave_orphans=leave_orphans)


# ---- What lost its contact ---------------------------------------------------------------


@dataclass(frozen=True)
class LostContact:
    """A service or convention party whose named person has left."""

    kind: str  # service, convention
    structure_id: UUID
    structure_name: str
    what: str  # the service's name or the convention's title
    person_id: UUID
    person_name: str
    left_on: str  # dd/mm/yyyy or ""
    fix_link: str  # the departure page of the person who left


async def lost_contacts(structure_ids: Iterable[UUID] | None = None) -> list[LostContact]:
    """Services whose contact has left, and convention parties whose referent has left,
    in the given structures (None: the whole directory). A territory's structures are
    `structures_in(communes)`. Sorted by structure name, then by what was lost."""
    wanted = None if structure_ids is None else list(structure_ids)
    if wanted == []:
        return []
    services = Service.select(
        Service.structure,
        Service.structure.name,
        Service.name,
        Service.contact,
        Service.contact.first_name,
        Service.contact.last_name,
        Service.contact.left_on,
    ).where((Service.contact.is_not_null()) & (Service.contact.active == False))  # noqa: E712
    parties = ConventionParty.select(
        ConventionParty.structure,
        ConventionParty.structure.name,
        ConventionParty.convention.title,
        ConventionParty.referent,
        ConventionParty.referent.first_name,
        ConventionParty.referent.last_name,
        ConventionParty.referent.left_on,
    ).where(
        (ConventionParty.referent.is_not_null())
        & (ConventionParty.referent.active == False)  # noqa: E712
        & ConventionParty.convention.terminated_on.is_null()
    )
    if wanted is not None:
        services = services.where(Service.structure.is_in(wanted))
        parties = parties.where(ConventionParty.structure.is_in(wanted))
    found = [_lost("service", r, "name", "contact") for r in await services]
    found += [_lost("convention", r, "convention.title", "referent") for r in await parties]
    return sorted(found, key=lambda x: (x.structure_name, x.kind, x.what))


def _lost(kind: str, row: dict[str, Any], what: str, who: str) -> LostContact:
    left_on = row[f"{who}.left_on"]
    return LostContact(
        kind=kind,
        structure_id=row["structure"],
        structure_name=row["structure.name"],
        what=row[what],
        person_id=row[who],
        person_name=f"{row[f'{who}.first_name']} {row[f'{who}.last_name']}",
        left_on=left_on.strftime("%d/%m/%Y") if left_on else "",
        fix_link=f"/structures/{row['structure']}/personnes/{row[who]}/depart",
    )


async def structures_in(communes: Iterable[str]) -> list[UUID]:
    """The structures with a site in one of `communes` (a territory's INSEE codes)."""
    codes = list(communes)
    if not codes:
        return []
    rows = await Site.select(Site.structure).where(Site.commune.is_in(codes)).distinct()
    return [r["structure"] for r in rows]
