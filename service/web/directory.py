"""Directory pages: list, partner page, and the forms to create and edit structures,
sites, services, people and relationships. A form with errors comes back with each message
next to its field and nothing saved."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from directory import history, merge, store
from directory.errors import Invalid, NotFound
from directory.geo import AddressGeocoder
from directory.schemas import (
    PersonWrite,
    ServiceWrite,
    SiteWrite,
    StructureWrite,
)
from service import departures, duplicate_pages, merge_forms
from service import directory_forms as forms
from service.accounts.store import Actor
from service.forms import parse_and_check
from service.params import DuplicateScope, PageNumber, QueryText
from service.permissions import (
    check_can_confirm,
    check_can_create_structure,
    check_can_edit,
    check_can_merge,
    check_can_restore,
)
from service.referrals.stats import response_times
from service.reports import store as reports


def _form_page(
    template: str, actor: Actor, values: Any, errors: dict[str, str] | None = None, **extra: Any
) -> Template:
    # 409 when likely duplicates wait for a confirmation: a 4xx gives the one-time key
    # back, and nothing was written.
    status = 400 if errors else 409 if extra.get("duplicates") else 200
    return Template(
        template,
        context={"actor": actor, "values": values, "errors": errors or {}, **extra},
        status_code=status,
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
    async def show(
        self, structure_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        if kept := await merge.merged_into(structure_id):
            return _saved(kept, "Cette fiche a été fusionnée dans celle-ci.")
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
                "history": await history.history_of(structure_id, 20),
                "merged": await merge_forms.just_merged(
                    structure_id, request.query_params.get("fusion")
                ),
                "lost": await departures.lost_contacts([structure_id]),
                "open_reports": await reports.open_count(structure_id),
            },
        )

    @get("/doublons")
    async def duplicates(
        self, actor: NamedDependency[Actor], area: DuplicateScope = "", page: PageNumber = 1
    ) -> Template:
        """The likely duplicates of the user's territory (or the one chosen), best first."""
        context = await duplicate_pages.page_context(actor, area, page)
        return Template("duplicates.html", context=context)

    @post("/doublons/ecarter")
    async def dismiss_duplicate(self, request: Request, actor: NamedDependency[Actor]) -> Redirect:
        """ "Pas un doublon": the pair never comes back."""
        return Redirect(await duplicate_pages.dismiss_from_form(await request.form(), actor))

    # ---- merging duplicates --------------------------------------------------------------

    @get("/fusion")
    async def merge_page(
        self, actor: NamedDependency[Actor], a: FromQuery[UUID], b: FromQuery[UUID]
    ) -> Template:
        """Two records side by side: what differs, what will move, which one to keep."""
        check_can_merge(actor)
        compared = await merge_forms.comparison(a, b)
        context = {"actor": actor, "c": compared}
        return Template("merge.html", context=context)

    @post("/fusion")
    async def merge_structures(self, request: Request, actor: NamedDependency[Actor]) -> Redirect:
        check_can_merge(actor)
        done = await merge_forms.merge_structures(await request.form(), actor)
        return Redirect(f"/structures/{done.kept_id}?fusion={done.id}")

    @post("/{structure_id:uuid}/personnes/fusion")
    async def merge_people(
        self, structure_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Redirect:
        """Two people of the structure become one."""
        return await _merge_within("person", structure_id, request, actor)

    @post("/{structure_id:uuid}/services/fusion")
    async def merge_services(
        self, structure_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Redirect:
        """Two services of the structure become one."""
        return await _merge_within("service", structure_id, request, actor)

    @post("/fusions/{merge_id:uuid}/annuler")
    async def undo_merge(self, merge_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Redirect:
        check_can_merge(actor)
        undone = await merge.undo_merge(merge_id, by=forms.verifier(actor))
        notice = "Fusion annulée : les deux fiches sont de nouveau séparées."
        return _saved(undone.structure_id, notice)

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
            structure_id = await forms.create_structure(form, actor)
        except Invalid as error:
            return _form_page("structure_form.html", actor, form, error.errors)
        except forms.LikelyDuplicate as found:
            return _form_page("structure_form.html", actor, form, duplicates=found.candidates)
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
            data = await parse_and_check(form, StructureWrite, store.validate_structure)
            await store.update_structure(structure_id, data, by=forms.verifier(actor))
        except Invalid as error:
            structure = await store.get_structure(structure_id)
            return _form_page("structure_form.html", actor, form, error.errors, structure=structure)
        return Redirect(f"/structures/{structure_id}")

    @post("/{structure_id:uuid}/confirmer")
    async def confirm_structure(
        self, structure_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Redirect:
        """One click: the record is right as it is, only its verification changes."""
        check_can_confirm(actor)
        await store.confirm_structure(structure_id, by=forms.verifier(actor))
        return _saved(structure_id, "Merci : la fiche est confirmée à jour.")

    # ---- history -------------------------------------------------------------------------

    @get("/{structure_id:uuid}/historique")
    async def history_page(
        self, structure_id: FromPath[UUID], actor: NamedDependency[Actor], page: PageNumber = 1
    ) -> Template | Redirect:
        if kept := await merge.merged_into(structure_id):
            return Redirect(f"/structures/{kept}/historique")
        structure = await store.get_structure(structure_id)
        changes = await history.history_of(structure_id, 50, (page - 1) * 50)
        context = {"actor": actor, "s": structure, "changes": changes, "page": page}
        return Template("structure_history.html", context=context)

    @get("/{structure_id:uuid}/historique/{change_id:uuid}/restaurer")
    async def restore_page(
        self, structure_id: FromPath[UUID], change_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Template:
        """The confirmation: what the record will be put back to."""
        check_can_restore(actor)
        change = await _change(structure_id, change_id)
        structure = await store.get_structure(structure_id)
        context = {"actor": actor, "s": structure, "change": change}
        return Template("structure_restore.html", context=context)

    @post("/{structure_id:uuid}/historique/{change_id:uuid}/restaurer")
    async def restore(
        self, structure_id: FromPath[UUID], change_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Redirect:
        check_can_restore(actor)
        await store.restore(structure_id, change_id, by=forms.verifier(actor))
        return _saved(structure_id, "La version antérieure est restaurée.")

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
            notice = await forms.save_site(structure_id, form, geocoder, by=forms.verifier(actor))
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
            notice = await forms.save_site(
                structure_id, form, geocoder, site_id, forms.verifier(actor)
            )
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
            await forms.save_service(structure_id, form, forms.verifier(actor))
        except Invalid as error:
            values = forms.service_values(form)
            return _form_page("service_form.html", actor, values, error.errors, structure=structure)
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
            await forms.save_service(structure_id, form, forms.verifier(actor), service_id)
        except Invalid as error:
            values = forms.service_values(form)
            extra = {"structure": structure, "service": service}
            return _form_page("service_form.html", actor, values, error.errors, **extra)
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
            await forms.save_person(structure_id, form, by=forms.verifier(actor))
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
        extra = await departures.hand_over_choices(person_id)
        return _form_page(
            "person_form.html", actor, values, structure=structure, person=person, **extra
        )

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
            await forms.save_person(structure_id, form, person_id, forms.verifier(actor))
        except Invalid as error:
            extra = {"structure": structure, "person": person}
            extra |= await departures.hand_over_choices(person_id)
            return _form_page("person_form.html", actor, form, error.errors, **extra)
        return _saved(structure_id)

    @get("/{structure_id:uuid}/personnes/{person_id:uuid}/depart")
    async def departure_page(
        self,
        structure_id: FromPath[UUID],
        person_id: FromPath[UUID],
        actor: NamedDependency[Actor],
    ) -> Template:
        """A person leaves: what they held, and who takes over each."""
        check_can_edit(actor, structure_id)
        structure = await store.get_structure(structure_id)
        person = _child(structure.people, person_id)
        extra = {
            "structure": structure,
            "person": person,
            **await departures.hand_over_choices(person_id),
        }
        return _form_page("person_departure.html", actor, {}, **extra)

    @post("/{structure_id:uuid}/personnes/{person_id:uuid}/depart")
    async def save_departure(
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
            await forms.save_departure(person_id, form, forms.verifier(actor))
        except Invalid as error:
            extra = {"structure": structure, "person": person}
            extra |= await departures.hand_over_choices(person_id)
            return _form_page("person_departure.html", actor, form, error.errors, **extra)
        name = f"{person.first_name} {person.last_name}"
        return _saved(structure_id, f"Le départ de {name} est enregistré.")

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
            await forms.save_relationship(structure_id, form, by=forms.verifier(actor))
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
        values = forms.relationship_values(relationship)
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
            await forms.save_relationship(
                structure_id, form, relationship_id, forms.verifier(actor)
            )
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
        await store.delete_relationship(relationship_id, forms.verifier(actor))
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
        choices = await forms.relationship_choices(structure_id)
        return _form_page(
            "relationship_form.html", actor, values, errors, structure=structure, **choices, **extra
        )


async def _merge_within(kind: str, structure_id: UUID, request: Request, actor: Actor) -> Redirect:
    check_can_merge(actor)
    done = await merge_forms.merge_within(kind, structure_id, await request.form(), actor)
    return Redirect(f"/structures/{structure_id}?fusion={done.id}")


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


async def _change(structure_id: UUID, change_id: UUID) -> history.ChangeRead:
    row = await history.get_change(change_id)
    if row is None or row["structure"] != structure_id:
        raise NotFound("Modification")
    return history.read(row)


def _saved(structure_id: UUID, notice: str = "") -> Redirect:
    suffix = f"?notice={notice}" if notice else ""
    return Redirect(f"/structures/{structure_id}{suffix}")
