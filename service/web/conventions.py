"""Convention pages: the list, a convention's page (terminate, attach the signed PDF), and
the form to record or amend one."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, MultipartBody
from litestar.response import File, Redirect, Template
from msgspec import Meta

from conventions import store
from directory.errors import Invalid
from directory.vocabulary import Level
from service import convention_pages as pages
from service.accounts.store import Actor
from service.permissions import check_can_edit_conventions
from service.settings import Settings


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
    async def new(
        self,
        actor: NamedDependency[Actor],
        structures: FromQuery[list[UUID] | None] = None,
        level: FromQuery[Level | None] = None,
        title: FromQuery[Annotated[str, Meta(max_length=300)]] = "",
    ) -> Template:
        """The blank form, or one pre-filled from the network page's « Préparer une
        convention » (?structures=…&structures=…&level=…&title=…)."""
        check_can_edit_conventions(actor)
        values = await pages.prefilled_values(structures or [], level, title)
        context = await pages.form_context(actor, values, {}, None)
        return Template("convention_form.html", context=context)

    @post("/nouvelle")
    async def create(self, request: Request, actor: NamedDependency[Actor]) -> Template | Redirect:
        check_can_edit_conventions(actor)
        form = await request.form()
        try:
            convention_id = await store.create(await pages.parse_form(form))
        except Invalid as error:
            return await self._form(actor, form, error.errors, None)
        return Redirect(f"/conventions/{convention_id}")

    async def _form(
        self, actor: Actor, form: Any, errors: dict[str, str], convention: Any
    ) -> Template:
        values = pages.form_values(form)
        context = await pages.form_context(actor, values, errors, convention)
        return Template("convention_form.html", context=context, status_code=400)

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
        context = await pages.page_context(actor, convention_id, errors)
        return Template("convention.html", context=context, status_code=status)

    @get("/{convention_id:uuid}/modifier")
    async def edit(self, convention_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Template:
        check_can_edit_conventions(actor)
        c = await store.read(convention_id)
        context = await pages.form_context(actor, pages.current_values(c), {}, c)
        return Template("convention_form.html", context=context)

    @post("/{convention_id:uuid}/modifier")
    async def update(
        self, convention_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        check_can_edit_conventions(actor)
        c = await store.read(convention_id)
        form = await request.form()
        try:
            await store.update(convention_id, await pages.parse_form(form))
        except Invalid as error:
            return await self._form(actor, form, error.errors, c)
        return Redirect(f"/conventions/{convention_id}")

    @post("/{convention_id:uuid}/resiliation")
    async def terminate(
        self, convention_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        check_can_edit_conventions(actor)
        try:
            await pages.terminate_from_form(convention_id, await request.form())
        except Invalid as error:
            return await self._page(convention_id, actor, error.errors, 400)
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
        try:
            await pages.attach_upload(convention_id, data.get("pdf"), settings.media_dir)
        except Invalid as error:
            return await self._page(convention_id, actor, error.errors, 400)
        return Redirect(f"/conventions/{convention_id}")

    @get("/{convention_id:uuid}/pdf")
    async def pdf(self, convention_id: FromPath[UUID], settings: NamedDependency[Settings]) -> File:
        path, name = await store.pdf_path(convention_id, settings.media_dir)
        return File(path=path, filename=name, media_type="application/pdf")
