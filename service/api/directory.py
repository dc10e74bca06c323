"""Directory endpoints: structures, sites, services, people, relationships, communes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect
from msgspec import Struct

from directory import history, merge, store
from directory.duplicate_checks import Candidate, PairPage, candidates_for
from directory.duplicate_review import dismiss
from directory.errors import Invalid
from directory.gazetteer import Commune, load_gazetteer
from directory.geo import AddressGeocoder
from directory.schemas import (
    STRUCTURE_KINDS,
    ContactRead,
    Page,
    PersonWrite,
    RelationshipWrite,
    ServiceRead,
    ServiceWrite,
    SiteRead,
    SiteWrite,
    StructureRead,
    StructureWrite,
)
from directory.vocabulary import (
    DOMAIN_LABELS,
    DOMAIN_THEMATIQUES,
    LEVEL_LABELS,
    NETWORKS,
    PUBLICS,
    THEMATIQUES,
)
from service import departures, duplicate_pages
from service.accounts.store import Actor
from service.directory_forms import verifier
from service.params import DuplicateScope, PageNumber, QueryText
from service.permissions import (
    check_can_create_structure,
    check_can_edit,
    check_can_restore,
    check_can_review_duplicates,
)


class Created(Struct):
    id: UUID
    notice: str = ""


class CommuneOut(Struct):
    insee: str
    name: str
    label: str
    postcodes: list[str]
    departement: str
    epci: str
    population: int
    lat: float
    lon: float

    @classmethod
    def of(cls, c: Commune) -> CommuneOut:
        return cls(
            c.insee,
            c.name,
            c.label,
            list(c.postcodes),
            c.departement,
            c.epci,
            c.population,
            c.lat,
            c.lon,
        )


ConfirmDuplicate = Annotated[
    bool,
    QueryParameter(
        description="true: create the structure even though it looks like existing ones "
        "(the 409 answer lists them)."
    ),
]


class Dismissal(Struct):
    """Two structures a coordinator judged not duplicates."""

    left_id: UUID
    right_id: UUID


class LikelyDuplicates(Struct):
    """The answer when a new structure looks like existing ones: nothing was created. An
    error body (status_code, detail) with the candidates."""

    detail: str
    candidates: list[Candidate]
    status_code: int = 409


class PersonUpdate(PersonWrite, forbid_unknown_fields=True):
    """A person's fields, and who takes over what they held when they leave."""

    replacement: UUID | None = None
    leave_orphans: bool = False


class LostHolding(Struct):
    kind: str
    id: str
    key: str
    label: str
    link: str


class WouldLoseContact(Struct):
    """The answer when a departure would leave services, conventions or relationships
    without their contact: nothing was saved."""

    detail: str
    would_lose_contact: list[LostHolding]
    status_code: int = 409


class Term(Struct):
    code: str
    label: str


class DomainTerm(Struct):
    code: str
    label: str
    thematiques: list[str]


class Vocabulary(Struct):
    domains: list[DomainTerm]
    levels: list[Term]
    thematiques: list[Term]
    publics: list[Term]
    networks: list[Term]
    structure_kinds: list[Term]


MERGED = {
    307: ResponseSpec(
        None,
        description="Fiche fusionnée dans une autre : Location donne la fiche conservée "
        "(307 et non 308, car une fusion peut être annulée).",
        generate_examples=False,
    )
}


async def _merged(record_id: UUID, prefix: str) -> Redirect | None:
    """A merged record answers with the kept one's address."""
    kept = await merge.merged_into(record_id)
    return Redirect(f"{prefix}{kept}", status_code=307) if kept else None


class DirectoryController(Controller):
    path = "/"

    @get("/vocabulary", summary="Codes and French labels of every list")
    async def vocabulary(self) -> Vocabulary:
        return Vocabulary(
            domains=[
                DomainTerm(d.value, label, list(DOMAIN_THEMATIQUES[d]))
                for d, label in DOMAIN_LABELS.items()
            ],
            levels=[Term(lv.value, label) for lv, label in LEVEL_LABELS.items()],
            thematiques=[Term(k, v) for k, v in THEMATIQUES.items()],
            publics=[Term(k, v) for k, v in PUBLICS.items()],
            networks=[Term(k, v) for k, v in NETWORKS.items()],
            structure_kinds=[Term(k, v) for k, v in STRUCTURE_KINDS.items()],
        )

    @get("/communes", summary="Find communes by name, postcode or INSEE code")
    async def communes(self, q: QueryText, limit: FromQuery[int] = 10) -> list[CommuneOut]:
        gazetteer = load_gazetteer()
        found = gazetteer.find(q) or gazetteer.suggest(q, limit=limit)
        return [CommuneOut.of(c) for c in found[: max(1, min(limit, 50))]]

    @get("/structures", summary="List structures, filtered by words or commune")
    async def list_structures(
        self,
        q: QueryText = "",
        commune: QueryText = "",
        page: PageNumber = 1,
        page_size: FromQuery[int] = 20,
    ) -> Page:
        return await store.list_structures(q, page, max(1, min(page_size, 100)), commune)

    @post(
        "/structures",
        summary="Create a structure (coordinators, admins)",
        description="Before creating, looks for likely duplicates (same SIRET, phone, e-mail "
        "or website, similar name): if there are, answers 409 with them and creates nothing. "
        "Send again with confirm_duplicate=true to create it anyway.",
        responses={
            409: ResponseSpec(
                data_container=LikelyDuplicates,
                description="Doublons probables : rien n'a été créé.",
                generate_examples=False,
            )
        },
    )
    async def create_structure(
        self,
        data: JSONBody[StructureWrite],
        actor: NamedDependency[Actor],
        confirm_duplicate: ConfirmDuplicate = False,
    ) -> Response[Created | LikelyDuplicates]:
        check_can_create_structure(actor)
        if errors := store.validate_structure(data):
            raise Invalid(errors)
        if not confirm_duplicate and (candidates := await candidates_for(data)):
            message = "Cette structure existe peut-être déjà (confirm_duplicate=true : la créer)."
            return Response(LikelyDuplicates(message, candidates), status_code=409)
        return Response(
            Created(await store.create_structure(data, by=verifier(actor))), status_code=201
        )

    @get(
        "/directory/duplicates",
        summary="Likely duplicate structures of a territory, best first (coordinators)",
        description="scope: a département (d:26), a territory (t:<id>) or, for "
        "administrators, france. Without it, the territory of the user's structure (or the "
        "département of its first site). Pairs dismissed as not duplicates are left out.",
    )
    async def duplicates(
        self,
        actor: NamedDependency[Actor],
        area: DuplicateScope = "",
        page: PageNumber = 1,
        page_size: FromQuery[int] = 20,
    ) -> PairPage:
        return await duplicate_pages.api_review(actor, area, page, page_size)

    @post(
        "/directory/duplicates/dismissals",
        summary="Record that two structures are not duplicates (coordinators)",
        description="The pair is never proposed again. 201 when recorded, 200 when it already was.",
    )
    async def dismiss_duplicate(
        self, actor: NamedDependency[Actor], data: JSONBody[Dismissal]
    ) -> Response[Dismissal]:
        check_can_review_duplicates(actor)
        created = await dismiss(data.left_id, data.right_id, actor.name)
        return Response(data, status_code=201 if created else 200)

    @get(
        "/structures/{structure_id:uuid}",
        summary="A structure with its sites, services, people and relationships",
        responses=MERGED,
    )
    async def get_structure(self, structure_id: FromPath[UUID]) -> Response[StructureRead]:
        if moved := await _merged(structure_id, "/api/v1/structures/"):
            return moved
        return Response(await store.get_structure(structure_id))

    @put("/structures/{structure_id:uuid}", summary="Update a structure")
    async def update_structure(
        self,
        structure_id: FromPath[UUID],
        data: JSONBody[StructureWrite],
        actor: NamedDependency[Actor],
    ) -> StructureRead:
        check_can_edit(actor, structure_id)
        await store.update_structure(structure_id, data, by=verifier(actor))
        return await store.get_structure(structure_id)

    @get(
        "/structures/{structure_id:uuid}/history",
        summary="Changes to a structure and its sites, services, people and relationships, "
        "newest first",
    )
    async def structure_history(
        self,
        structure_id: FromPath[UUID],
        page: PageNumber = 1,
        page_size: FromQuery[int] = 20,
    ) -> history.ChangePage:
        await store.get_structure(structure_id)
        size = max(1, min(page_size, 100))
        return await history.history_of(structure_id, size, (page - 1) * size)

    @post(
        "/structures/{structure_id:uuid}/history/{change_id:uuid}/restore",
        summary="Put the structure or one of its services back as it was after a change "
        "(coordinators)",
        status_code=200,
    )
    async def restore_change(
        self, structure_id: FromPath[UUID], change_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> StructureRead:
        check_can_restore(actor)
        await store.restore(structure_id, change_id, by=verifier(actor))
        return await store.get_structure(structure_id)

    @post("/structures/{structure_id:uuid}/sites", summary="Add a site")
    async def create_site(
        self,
        structure_id: FromPath[UUID],
        data: JSONBody[SiteWrite],
        actor: NamedDependency[Actor],
        geocoder: NamedDependency[AddressGeocoder | None],
    ) -> Created:
        check_can_edit(actor, structure_id)
        site_id, notice = await store.create_site(structure_id, data, geocoder, verifier(actor))
        return Created(site_id, notice)

    @get("/sites/{site_id:uuid}", summary="A site")
    async def get_site(self, site_id: FromPath[UUID]) -> SiteRead:
        return store.site_read(await store.get_site(site_id))

    @put("/sites/{site_id:uuid}", summary="Update a site")
    async def update_site(
        self,
        site_id: FromPath[UUID],
        data: JSONBody[SiteWrite],
        actor: NamedDependency[Actor],
        geocoder: NamedDependency[AddressGeocoder | None],
    ) -> SiteRead:
        check_can_edit(actor, (await store.get_site(site_id)).structure)
        await store.update_site(site_id, data, geocoder, verifier(actor))
        return store.site_read(await store.get_site(site_id))

    @post("/structures/{structure_id:uuid}/services", summary="Add a service")
    async def create_service(
        self,
        structure_id: FromPath[UUID],
        data: JSONBody[ServiceWrite],
        actor: NamedDependency[Actor],
    ) -> Created:
        check_can_edit(actor, structure_id)
        return Created(await store.create_service(structure_id, data, by=verifier(actor)))

    @get("/services/{service_id:uuid}", summary="A service", responses=MERGED)
    async def get_service(self, service_id: FromPath[UUID]) -> Response[ServiceRead]:
        if moved := await _merged(service_id, "/api/v1/services/"):
            return moved
        return Response(store.service_read(await store.get_service(service_id)))

    @put("/services/{service_id:uuid}", summary="Update a service")
    async def update_service(
        self,
        service_id: FromPath[UUID],
        data: JSONBody[ServiceWrite],
        actor: NamedDependency[Actor],
    ) -> ServiceRead:
        check_can_edit(actor, (await store.get_service(service_id)).structure)
        await store.update_service(service_id, data, by=verifier(actor))
        return store.service_read(await store.get_service(service_id))

    @post("/structures/{structure_id:uuid}/people", summary="Add a person")
    async def create_person(
        self,
        structure_id: FromPath[UUID],
        data: JSONBody[PersonWrite],
        actor: NamedDependency[Actor],
    ) -> Created:
        check_can_edit(actor, structure_id)
        return Created(await store.create_person(structure_id, data, verifier(actor)))

    @get("/people/{person_id:uuid}", summary="A person", responses=MERGED)
    async def get_person(self, person_id: FromPath[UUID]) -> Response[ContactRead]:
        if moved := await _merged(person_id, "/api/v1/people/"):
            return moved
        return Response(store.person_read(await store.get_person(person_id)))

    @put(
        "/people/{person_id:uuid}",
        summary="Update a person",
        description="Marking a person in post as having left (active: false) while they are "
        "still the contact of services, the referent of conventions or the person end of "
        "relationships answers 409 with what would lose its contact, and changes nothing, "
        "unless `replacement` names a colleague in post who takes all of it over, or "
        "`leave_orphans` is true.",
        responses={
            409: ResponseSpec(
                data_container=WouldLoseContact,
                description="Des éléments perdraient leur contact : rien n'a été enregistré.",
                generate_examples=False,
            )
        },
    )
    async def update_person(
        self,
        person_id: FromPath[UUID],
        data: JSONBody[PersonUpdate],
        actor: NamedDependency[Actor],
    ) -> ContactRead:
        check_can_edit(actor, (await store.get_person(person_id)).structure)
        await departures.update_from_api(person_id, data, by=verifier(actor))
        return store.person_read(await store.get_person(person_id))

    @post(
        "/structures/{structure_id:uuid}/relationships",
        summary="Add a relationship from this structure to a structure or a person",
    )
    async def create_relationship(
        self,
        structure_id: FromPath[UUID],
        data: JSONBody[RelationshipWrite],
        actor: NamedDependency[Actor],
    ) -> Created:
        check_can_edit(actor, structure_id)
        return Created(await store.create_relationship(structure_id, data, verifier(actor)))

    @put("/relationships/{relationship_id:uuid}", summary="Update a relationship")
    async def update_relationship(
        self,
        relationship_id: FromPath[UUID],
        data: JSONBody[RelationshipWrite],
        actor: NamedDependency[Actor],
    ) -> Created:
        check_can_edit(actor, (await store.get_relationship(relationship_id)).source)
        await store.update_relationship(relationship_id, data, verifier(actor))
        return Created(relationship_id)

    @delete("/relationships/{relationship_id:uuid}", summary="End a relationship")
    async def delete_relationship(
        self, relationship_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> None:
        check_can_edit(actor, (await store.get_relationship(relationship_id)).source)
        await store.delete_relationship(relationship_id, verifier(actor))
