"""Convention pages: the list, a convention's page (terminate, attach the signed PDF), and
the form to record or amend one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, MultipartBody
from litestar.response import File, Redirect, Template

from conventions import store
from conventions.schemas import ConventionWrite, Termination
from directory.errors import Conflict, Invalid
from directory.tables import Person, Structure
from directory.vocabulary import Domain, Level
from service.accounts.store import Actor
from service.forms import french
from service.permissions import check_can_edit_conventions
from service.settings import Settings


async def _choices() -> dict[str, Any]:
    structures = await Structure.select(Structure.id, Structure.name).order_by(Structure.name)
    people = await Person.select(
        Person.id,
        Person.first_name,
        Person.last_name,
        Person.structure,
        Person.structure.name.as_alias("structure_name"),
        Person.active,
    ).order_by(Person.last_name)
    return {
        "structures": structures,
        "people": people,
        "domains": [(d.value, d.label) for d in Domain],
        "levels": [(lv.value, lv.label) for lv in Level],
    }


async def _parse(form: Any) -> ConventionWrite:
    """Structures and referents come as two lists: each referent is matched to its own
    structure, and a structure may have one referent."""
    errors: dict[str, str] = {}
    structure_ids = [s for s in form.getall("structures", []) if s]
    referent_ids = [p for p in form.getall("referents", []) if p]
    if len(structure_ids) < 2:
        errors["structures"] = "Une convention lie au moins deux structures."
    works_at: dict[str, str] = {}
    if referent_ids:
        rows = await Person.select(Person.id, Person.structure).where(
            Person.id.is_in([UUID(r) for r in referent_ids])
        )
        works_at = {str(r["id"]): str(r["structure"]) for r in rows}
    referent_of: dict[str, str] = {}
    for person in referent_ids:
        structure = works_at.get(person)
        if structure is None or structure not in structure_ids:
            errors["referents"] = "Chaque référent·e doit travailler dans une structure signataire."
        elif structure in referent_of:
            errors["referents"] = "Un·e seul·e référent·e par structure."
        else:
            referent_of[structure] = person
    raw: dict[str, Any] = {
        "title": str(form.get("title", "")).strip(),
        "level": form.get("level") or "",
        "domains": form.getall("domains", []),
        "parties": [
            {"structure_id": s, **({"referent_id": referent_of[s]} if s in referent_of else {})}
            for s in structure_ids
        ],
    }
    for name in ("starts_on", "signed_on", "ends_on", "acknowledge_days", "answer_days"):
        if str(form.get(name, "")).strip():
            raw[name] = str(form.get(name)).strip()
    raw["commitments"] = str(form.get("commitments", ""))
    if not raw["title"]:
        errors["title"] = "Le titre est obligatoire."
    if not raw["level"]:
        errors["level"] = "Choisissez le niveau."
    if "starts_on" not in raw:
        errors["starts_on"] = "La date de début est obligatoire."
    if errors:
        raise Invalid(errors)
    try:
        return msgspec.convert(raw, ConventionWrite, strict=False)
    except msgspec.ValidationError as error:
        field = str(error).rsplit("$.", 1)[-1].rstrip("`").split("[")[0].split(".")[0]
        raise Invalid({field or "form": french(str(error))}) from error


class ConventionPages(Controller):
    path = "/conventions"
    include_in_schema = False

    @get("/")
    async def index(self, actor: NamedDependency[Actor]) -> Template:
        return Template(
            "conventions.html",
            context={"actor": actor, "items": await store.read_many()},
        )

    @get("/nouvelle")
    async def new(self, actor: NamedDependency[Actor]) -> Template:
        check_can_edit_conventions(actor)
        return Template(
            "convention_form.html",
            context={
                "actor": actor,
                "values": {},
                "errors": {},
                "convention": None,
                **await _choices(),
            },
        )

    @post("/nouvelle")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Template | Redirect:
        check_can_edit_conventions(actor)
        form = await request.form()
        try:
            convention_id = await store.create(await _parse(form))
        except Invalid as error:
            return self._form(actor, form, error.errors, None, await _choices())
        return Redirect(f"/conventions/{convention_id}")

    def _form(
        self,
        actor: Actor,
        form: Any,
        errors: dict[str, str],
        convention: Any,
        choices: dict[str, Any],
    ) -> Template:
        values = dict(form.items())
        for name in ("structures", "referents", "domains"):
            values[name] = form.getall(name, [])
        return Template(
            "convention_form.html",
            context={
                "actor": actor,
                "values": values,
                "errors": errors,
                "convention": convention,
                **choices,
            },
            status_code=400,
        )

    @get("/{convention_id:uuid}")
    async def show(self, convention_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Template:
        return await self._page(convention_id, actor)

    async def _page(
        self,
        convention_id: UUID,
        actor: Actor,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Template:
        return Template(
            "convention.html",
            context={"actor": actor, "c": await store.read(convention_id), "errors": errors or {}},
            status_code=status,
        )

    @get("/{convention_id:uuid}/modifier")
    async def edit(self, convention_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Template:
        check_can_edit_conventions(actor)
        c = await store.read(convention_id)
        values = {
            "title": c.title,
            "level": c.level,
            "domains": [str(d) for d in c.domains],
            "structures": [str(p.structure_id) for p in c.parties],
            "referents": [str(p.referent_id) for p in c.parties if p.referent_id],
            "starts_on": c.starts_on,
            "signed_on": c.signed_on,
            "ends_on": c.ends_on,
            "acknowledge_days": c.acknowledge_days,
            "answer_days": c.answer_days,
            "commitments": c.commitments,
        }
        return Template(
            "convention_form.html",
            context={
                "actor": actor,
                "values": values,
                "errors": {},
                "convention": c,
                **await _choices(),
            },
        )

    @post("/{convention_id:uuid}/modifier")
    async def update(
        self, convention_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        check_can_edit_conventions(actor)
        c = await store.read(convention_id)
        form = await request.form()
        try:
            await store.update(convention_id, await _parse(form))
        except Invalid as error:
            return self._form(actor, form, error.errors, c, await _choices())
        return Redirect(f"/conventions/{convention_id}")

    @post("/{convention_id:uuid}/resiliation")
    async def terminate(
        self, convention_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        check_can_edit_conventions(actor)
        form = await request.form()
        try:
            termination = msgspec.convert(
                {"on": form.get("on") or None, "reason": str(form.get("reason", "")).strip()},
                Termination,
                strict=False,
            )
            await store.terminate(convention_id, termination)
        except msgspec.ValidationError:
            return await self._page(
                convention_id,
                actor,
                {"termination": "Indiquez la date et la raison de la résiliation."},
                400,
            )
        except (Invalid, Conflict) as error:
            message = "; ".join(error.errors.values()) if isinstance(error, Invalid) else str(error)
            return await self._page(convention_id, actor, {"termination": message}, 400)
        return Redirect(f"/conventions/{convention_id}")

    @post("/{convention_id:uuid}/pdf")
    async def upload(
        self,
        convention_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        data: MultipartBody[dict[str, UploadFile]],
    ) -> Template | Redirect:
        check_can_edit_conventions(actor)
        upload = data.get("pdf")
        if upload is None or not upload.filename:
            return await self._page(
                convention_id, actor, {"pdf": "Choisissez un fichier PDF."}, 400
            )
        try:
            await store.attach_pdf(
                convention_id, upload.filename, await upload.read(), settings.media_dir
            )
        except Invalid as error:
            return await self._page(convention_id, actor, error.errors, 400)
        return Redirect(f"/conventions/{convention_id}")

    @get("/{convention_id:uuid}/pdf")
    async def pdf(self, convention_id: FromPath[UUID], settings: NamedDependency[Settings]) -> File:
        path, name = await store.pdf_path(convention_id, settings.media_dir)
        return File(path=path, filename=name, media_type="application/pdf")
