"""The partner's own entry, opened from its personal link (`/fiche/{token}`), without an
account: the whole entry in plain French, a form per part, and one button to say nothing
changed. The logic is in service.entry_pages; a bad link gets a plain 404 page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from directory.errors import Invalid
from directory.geo import AddressGeocoder
from directory.schemas import PersonWrite, StructureWrite
from service import entry_pages as pages
from service.campaigns import progress

# The parts of an entry a partner edits: the form's heading for a change and a creation.
PARTS = {
    "structure": ("Modifier la structure", ""),
    "lieux": ("Modifier le lieu", "Ajouter un lieu d’accueil"),
    "services": ("Modifier le service", "Ajouter un service"),
    "personnes": ("Modifier la personne", "Ajouter une personne"),
}


def _form(token: str, part: str, structure: Any, values: Any, **extra: Any) -> Template:
    errors = extra.pop("errors", None) or {}
    heading = PARTS[part][0 if extra.get("record") or part == "structure" else 1]
    context = {
        "token": token,
        "part": part,
        "heading": heading,
        "structure": structure,
        "values": values,
        "errors": errors,
        "partner": True,
        **extra,
    }
    return Template("entry_form.html", context=context, status_code=400 if errors else 200)


def _departure(token: str, context: dict[str, Any], values: Any, errors: dict) -> Template:
    context |= {"token": token, "values": values, "errors": errors, "partner": True}
    return Template("entry_departure.html", context=context, status_code=400 if errors else 200)


def _back(token: str, notice: str = "") -> Redirect:
    return Redirect(f"/fiche/{token}?enregistre={notice or 'oui'}#{notice or 'fiche'}")


class EntryPages(Controller):
    path = "/fiche/{token:str}"
    include_in_schema = False

    @get("/")
    async def show(self, token: FromPath[str], enregistre: FromQuery[str] = "") -> Template:
        access = await pages.open_link(token)
        await pages.entry_links.touch(access.link_id)
        structure = await pages.entry(access)
        helpline = await progress.helpline_for(access.campaign_id)
        context = {"token": token, "s": structure, "saved": enregistre, "helpline": helpline}
        return Template("entry.html", context=context)

    @post("/a-jour")
    async def confirm(self, token: FromPath[str]) -> Redirect:
        """One click: nothing changed."""
        await pages.confirm(await pages.open_link(token))
        return _back(token, "a-jour")

    # ---- the structure -------------------------------------------------------------------

    @get("/structure")
    async def edit_structure(self, token: FromPath[str]) -> Template:
        structure = await pages.entry(await pages.open_link(token))
        values = pages.values_of(structure, StructureWrite.__struct_fields__)
        return _form(token, "structure", structure, values)

    @post("/structure")
    async def save_structure(self, token: FromPath[str], request: Request) -> Template | Redirect:
        access = await pages.open_link(token)
        form = await request.form()
        try:
            await pages.save_structure(access, form)
        except Invalid as error:
            return _form(token, "structure", await pages.entry(access), form, errors=error.errors)
        return _back(token)

    # ---- sites ---------------------------------------------------------------------------

    @get("/lieux/{record:str}")
    async def edit_site(self, token: FromPath[str], record: FromPath[str]) -> Template:
        structure = await pages.entry(await pages.open_link(token))
        site = (
            pages.own(structure.sites, record_id)
            if (record_id := pages.record_id(record))
            else None
        )
        values = pages.site_values(site) if site else {}
        return _form(token, "lieux", structure, values, record=site)

    @post("/lieux/{record:str}")
    async def save_site(
        self,
        token: FromPath[str],
        request: Request,
        geocoder: NamedDependency[AddressGeocoder | None],
        record: FromPath[str],
    ) -> Template | Redirect:
        access = await pages.open_link(token)
        form = await request.form()
        record_id = pages.record_id(record)
        try:
            await pages.save_site(access, form, geocoder, record_id)
        except Invalid as error:
            return await self._again(token, access, "lieux", form, error, record_id)
        return _back(token)

    # ---- services ------------------------------------------------------------------------

    @get("/services/{record:str}")
    async def edit_service(self, token: FromPath[str], record: FromPath[str]) -> Template:
        structure = await pages.entry(await pages.open_link(token))
        service = (
            pages.own(structure.services, record_id)
            if (record_id := pages.record_id(record))
            else None
        )
        values = pages.service_values(service) if service else {"on_site": True}
        return _form(token, "services", structure, values, record=service)

    @post("/services/{record:str}")
    async def save_service(
        self, token: FromPath[str], request: Request, record: FromPath[str]
    ) -> Template | Redirect:
        access = await pages.open_link(token)
        form = await request.form()
        record_id = pages.record_id(record)
        try:
            await pages.save_service(access, form, record_id)
        except Invalid as error:
            values = pages.forms.service_values(form)
            return await self._again(token, access, "services", values, error, record_id)
        return _back(token)

    # ---- people --------------------------------------------------------------------------

    @get("/personnes/{record:str}")
    async def edit_person(self, token: FromPath[str], record: FromPath[str]) -> Template:
        structure = await pages.entry(await pages.open_link(token))
        person = (
            pages.own(structure.people, record_id)
            if (record_id := pages.record_id(record))
            else None
        )
        values = pages.values_of(person, PersonWrite.__struct_fields__) if person else {}
        return _form(token, "personnes", structure, values or {"active": True}, record=person)

    @post("/personnes/{record:str}")
    async def save_person(
        self, token: FromPath[str], request: Request, record: FromPath[str]
    ) -> Template | Redirect:
        access = await pages.open_link(token)
        form = await request.form()
        record_id = pages.record_id(record)
        try:
            await pages.save_person(access, form, record_id)
        except Invalid as error:
            return await self._again(token, access, "personnes", form, error, record_id)
        return _back(token)

    @get("/personnes/{record_id:uuid}/depart")
    async def departure(self, token: FromPath[str], record_id: FromPath[UUID]) -> Template:
        """Confirm a departure, saying who takes over what the person was named for."""
        access = await pages.open_link(token)
        return _departure(token, await pages.departure(access, record_id), {}, {})

    @post("/personnes/{record_id:uuid}/depart")
    async def person_left(
        self, request: Request, token: FromPath[str], record_id: FromPath[UUID]
    ) -> Template | Redirect:
        access = await pages.open_link(token)
        form = await request.form()
        try:
            await pages.person_left(access, record_id, form)
        except Invalid as error:
            context = await pages.departure(access, record_id)
            return _departure(token, context, form, error.errors)
        return _back(token, "personnes")

    async def _again(
        self,
        token: str,
        access: pages.EntryAccess,
        part: str,
        values: Any,
        error: Invalid,
        record_id: UUID | None,
    ) -> Template:
        """The form again, with each message next to its field; nothing was saved."""
        structure = await pages.entry(access)
        items: dict[str, list[Any]] = {"lieux": structure.sites, "services": structure.services}
        record = pages.own(items.get(part, structure.people), record_id) if record_id else None
        return _form(token, part, structure, values, record=record, errors=error.errors)
