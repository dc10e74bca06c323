"""Directory pages: list, partner page, and the forms to create and edit structures,
sites, services, people and relationships. A form with errors comes back with each message
next to its field and nothing saved."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from directory import store
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
from service.accounts.store import Actor
from service.forms import parse_and_check, parse_form, split_codes
from service.params import PageNumber, QueryText
from service.permissions import check_can_create_structure, check_can_edit
from service.referrals.stats import response_times


def _form_page(
    template: str, actor: Actor, values: Any, errors: dict[str, str] | None = None, **extra: Any
) -> Template:
    return Template(
        template,
        context={"actor": actor, "values": values, "errors": errors or {}, **extra},
        status_code=400 if errors else 200,
    )


def _commune_code(form: Any) -> dict[str, Any]:
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


async def _structure_choices(exclude: UUID) -> list[dict[str, Any]]:
    return (
        await Structure.select(Structure.id, Structure.name)
        .where(Structure.id != exclude)
        .order_by(Structure.name)
    )


class DirectoryPages(Controller):
    path = "/structures"
    include_in_schema = False

    # ---- list and partner page ---------------------------------------------------------

    @get("/")
    async def index(
        self, actor: NamedDependency[Actor], q: QueryText = "", page: PageNumber = 1
    ) -> Template:
        listing = await store.list_structures(q, page, 30)
        return Template("structures.html", context={"actor": actor, "q": q, "listing": listing})

    @get("/{structure_id:uuid}")
    async def show(self, structure_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Template:
        structure = await store.get_structure(structure_id)
        times = (await response_times([structure_id])).get(structure_id)
        return Template(
            "structure.html",
            context={
                "actor": actor,
                "s": structure,
                "times": times,
                "can_edit": actor.can_edit_structure(structure_id),
                "people_by_id": {p.id: p for p in structure.people},
                "sites_by_id": {site.id: site for site in structure.sites},
            },
        )

    # ---- structures ----------------------------------------------------------------------

    @get("/nouvelle")
    async def new_structure(self, actor: NamedDependency[Actor]) -> Template:
        check_can_create_structure(actor)
        return _form_page("structure_form.html", actor, {})

    @post("/nouvelle")
    async def create_structure(
        self, request: Request, actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        check_can_create_structure(actor)
        form = await request.form()
        try:
            structure_id = await store.create_structure(
                await parse_and_check(form, StructureWrite, store.validate_structure)
            )
        except Invalid as error:
            return _form_page("structure_form.html", actor, form, error.errors)
        return Redirect(f"/structures/{structure_id}")

    @get("/{structure_id:uuid}/modifier")
    async def edit_structure(
        self, structure_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Template:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        values = {f: getattr(structure, f) for f in StructureWrite.__struct_fields__}
        return _form_page("structure_form.html", actor, values, structure=structure)

    @post("/{structure_id:uuid}/modifier")
    async def update_structure(
        self, structure_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        check_can_edit(actor, structure_id)
        form = await request.form()
        try:
            await store.update_structure(
                structure_id, await parse_and_check(form, StructureWrite, store.validate_structure)
            )
        except Invalid as error:
            structure = await store.get_structure(structure_id)
            return _form_page("structure_form.html", actor, form, error.errors, structure=structure)
        return Redirect(f"/structures/{structure_id}")

    # ---- sites ---------------------------------------------------------------------------

    @get("/{structure_id:uuid}/sites/nouveau")
    async def new_site(
        self, structure_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Template:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        return _form_page("site_form.html", actor, {}, structure=structure)

    @post("/{structure_id:uuid}/sites/nouveau")
    async def create_site(
        self,
        structure_id: FromPath[UUID],
        request: Request,
        actor: NamedDependency[Actor],
        geocoder: NamedDependency[AddressGeocoder | None],
    ) -> Template | Redirect:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        form = await request.form()
        try:
            data = await parse_and_check(
                _commune_code(form), SiteWrite, store.validate_site, checkboxes=("walk_in",)
            )
            _site_id, notice = await store.create_site(structure_id, data, geocoder)
        except Invalid as error:
            return _form_page("site_form.html", actor, form, error.errors, structure=structure)
        return _saved(structure_id, notice)

    @get("/{structure_id:uuid}/sites/{site_id:uuid}/modifier")
    async def edit_site(
        self, structure_id: FromPath[UUID], site_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Template:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        site = _child(structure.sites, site_id)
        values = {f: getattr(site, f) for f in SiteWrite.__struct_fields__}
        return _form_page("site_form.html", actor, values, structure=structure, site=site)

    @post("/{structure_id:uuid}/sites/{site_id:uuid}/modifier")
    async def update_site(
        self,
        structure_id: FromPath[UUID],
        site_id: FromPath[UUID],
        request: Request,
        actor: NamedDependency[Actor],
        geocoder: NamedDependency[AddressGeocoder | None],
    ) -> Template | Redirect:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        site = _child(structure.sites, site_id)
        form = await request.form()
        try:
            data = await parse_and_check(
                _commune_code(form), SiteWrite, store.validate_site, checkboxes=("walk_in",)
            )
            notice = await store.update_site(site_id, data, geocoder)
        except Invalid as error:
            return _form_page(
                "site_form.html", actor, form, error.errors, structure=structure, site=site
            )
        return _saved(structure_id, notice)

    # ---- services ------------------------------------------------------------------------

    @get("/{structure_id:uuid}/services/nouveau")
    async def new_service(
        self, structure_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Template:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        return _form_page("service_form.html", actor, {"on_site": True}, structure=structure)

    @post("/{structure_id:uuid}/services/nouveau")
    async def create_service(
        self, structure_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        form = await request.form()
        try:
            await store.create_service(structure_id, await _service_form(structure_id, form))
        except Invalid as error:
            return _form_page(
                "service_form.html", actor, _service_values(form), error.errors, structure=structure
            )
        return _saved(structure_id)

    @get("/{structure_id:uuid}/services/{service_id:uuid}/modifier")
    async def edit_service(
        self,
        structure_id: FromPath[UUID],
        service_id: FromPath[UUID],
        actor: NamedDependency[Actor],
    ) -> Template:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        service = _child(structure.services, service_id)
        values = {f: getattr(service, f) for f in ServiceWrite.__struct_fields__}
        values["domains"] = [str(d) for d in service.domains]
        values["zone"] = " ".join(service.zone)
        return _form_page("service_form.html", actor, values, structure=structure, service=service)

    @post("/{structure_id:uuid}/services/{service_id:uuid}/modifier")
    async def update_service(
        self,
        structure_id: FromPath[UUID],
        service_id: FromPath[UUID],
        request: Request,
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        service = _child(structure.services, service_id)
        form = await request.form()
        try:
            await store.update_service(service_id, await _service_form(structure_id, form))
        except Invalid as error:
            return _form_page(
                "service_form.html",
                actor,
                _service_values(form),
                error.errors,
                structure=structure,
                service=service,
            )
        return _saved(structure_id)

    # ---- people --------------------------------------------------------------------------

    @get("/{structure_id:uuid}/personnes/nouvelle")
    async def new_person(
        self, structure_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Template:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        return _form_page("person_form.html", actor, {"active": True}, structure=structure)

    @post("/{structure_id:uuid}/personnes/nouvelle")
    async def create_person(
        self, structure_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        form = await request.form()
        try:
            await store.create_person(
                structure_id,
                await parse_and_check(
                    form, PersonWrite, store.validate_person, checkboxes=("active",)
                ),
            )
        except Invalid as error:
            return _form_page("person_form.html", actor, form, error.errors, structure=structure)
        return _saved(structure_id)

    @get("/{structure_id:uuid}/personnes/{person_id:uuid}/modifier")
    async def edit_person(
        self,
        structure_id: FromPath[UUID],
        person_id: FromPath[UUID],
        actor: NamedDependency[Actor],
    ) -> Template:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        person = _child(structure.people, person_id)
        values = {f: getattr(person, f) for f in PersonWrite.__struct_fields__}
        return _form_page("person_form.html", actor, values, structure=structure, person=person)

    @post("/{structure_id:uuid}/personnes/{person_id:uuid}/modifier")
    async def update_person(
        self,
        structure_id: FromPath[UUID],
        person_id: FromPath[UUID],
        request: Request,
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        person = _child(structure.people, person_id)
        form = await request.form()
        try:
            await store.update_person(
                person_id, parse_form(form, PersonWrite, checkboxes=("active",))
            )
        except Invalid as error:
            return _form_page(
                "person_form.html", actor, form, error.errors, structure=structure, person=person
            )
        return _saved(structure_id)

    # ---- relationships -------------------------------------------------------------------

    @get("/{structure_id:uuid}/relations/nouvelle")
    async def new_relationship(
        self, structure_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Template:
        check_can_edit(actor, structure_id)
        return await self._relationship_page(structure_id, actor, {})

    @post("/{structure_id:uuid}/relations/nouvelle")
    async def create_relationship(
        self, structure_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        check_can_edit(actor, structure_id)
        form = await request.form()
        try:
            await store.create_relationship(structure_id, _relationship_form(form))
        except Invalid as error:
            return await self._relationship_page(structure_id, actor, form, error.errors)
        return _saved(structure_id)

    @get("/{structure_id:uuid}/relations/{relationship_id:uuid}/modifier")
    async def edit_relationship(
        self,
        structure_id: FromPath[UUID],
        relationship_id: FromPath[UUID],
        actor: NamedDependency[Actor],
    ) -> Template:
        check_can_edit(actor, structure_id)
        relationship = await _own_relationship(structure_id, relationship_id)
        values = {
            "level": relationship.level,
            "kind": relationship.kind,
            "since": relationship.since,
            "note": relationship.note,
            "target": f"s:{relationship.target_structure}"
            if relationship.target_structure
            else f"p:{relationship.target_person}",
        }
        return await self._relationship_page(structure_id, actor, values, relationship=relationship)

    @post("/{structure_id:uuid}/relations/{relationship_id:uuid}/modifier")
    async def update_relationship(
        self,
        structure_id: FromPath[UUID],
        relationship_id: FromPath[UUID],
        request: Request,
        actor: NamedDependency[Actor],
    ) -> Template | Redirect:
        check_can_edit(actor, structure_id)
        relationship = await _own_relationship(structure_id, relationship_id)
        form = await request.form()
        try:
            await store.update_relationship(relationship_id, _relationship_form(form))
        except Invalid as error:
            return await self._relationship_page(
                structure_id, actor, form, error.errors, relationship=relationship
            )
        return _saved(structure_id)

    @post("/{structure_id:uuid}/relations/{relationship_id:uuid}/supprimer")
    async def delete_relationship(
        self,
        structure_id: FromPath[UUID],
        relationship_id: FromPath[UUID],
        actor: NamedDependency[Actor],
    ) -> Redirect:
        check_can_edit(actor, structure_id)
        await _own_relationship(structure_id, relationship_id)
        await store.delete_relationship(relationship_id)
        return _saved(structure_id)

    async def _relationship_page(
        self,
        structure_id: UUID,
        actor: Actor,
        values: Any,
        errors: dict[str, str] | None = None,
        **extra: Any,
    ) -> Template:
        structure = await store.get_structure(structure_id)
        people = await Person.select(
            Person.id,
            Person.first_name,
            Person.last_name,
            Person.structure.name.as_alias("structure_name"),
        ).order_by(Person.last_name)
        return _form_page(
            "relationship_form.html",
            actor,
            values,
            errors,
            structure=structure,
            structures=await _structure_choices(structure_id),
            people=people,
            **extra,
        )


def _child(items: list[Any], item_id: UUID) -> Any:
    """The site/service/person `item_id` among the structure's own, or 404."""
    from directory.errors import NotFound

    for item in items:
        if item.id == item_id:
            return item
    raise NotFound("Élément")


async def _own_relationship(structure_id: UUID, relationship_id: UUID) -> Any:
    from directory.errors import NotFound

    relationship = await store.get_relationship(relationship_id)
    if relationship.source != structure_id:
        raise NotFound("Relation")
    return relationship


def _saved(structure_id: UUID, notice: str = "") -> Redirect:
    suffix = f"?notice={notice}" if notice else ""
    return Redirect(f"/structures/{structure_id}{suffix}")


def _service_values(form: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(form.items())
    for name in ("domains", "thematiques", "publics"):
        values[name] = form.getall(name, [])
    for name in ("on_site", "remote", "unconditional"):
        values[name] = name in form
    return values


async def _service_form(structure_id: UUID, form: Any) -> ServiceWrite:
    values = _service_values(form)
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
