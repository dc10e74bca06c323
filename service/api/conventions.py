"""Convention endpoints: record, amend, terminate, attach and fetch the signed PDF."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import File

from conventions import store
from conventions.schemas import ConventionRead, ConventionWrite, Termination
from service.accounts.store import Actor
from service.api.directory import Created
from service.permissions import check_can_edit_conventions
from service.settings import Settings


class ConventionController(Controller):
    path = "/conventions"
    tags = ("Conventions",)

    @get("/", summary="Conventions, all or those a structure signed")
    async def list(self, structure: FromQuery[UUID | None] = None) -> list[ConventionRead]:
        return await store.read_many(structure_id=structure)

    @post("/", summary="Record a convention (coordinators, admins)")
    async def create(
        self, data: JSONBody[ConventionWrite], actor: NamedDependency[Actor]
    ) -> Created:
        check_can_edit_conventions(actor)
        return Created(await store.create(data))

    @get("/{convention_id:uuid}", summary="A convention with its parties and status")
    async def read(self, convention_id: FromPath[UUID]) -> ConventionRead:
        return await store.read(convention_id)

    @put("/{convention_id:uuid}", summary="Amend a convention")
    async def update(
        self,
        convention_id: FromPath[UUID],
        data: JSONBody[ConventionWrite],
        actor: NamedDependency[Actor],
    ) -> ConventionRead:
        check_can_edit_conventions(actor)
        await store.update(convention_id, data)
        return await store.read(convention_id)

    @post("/{convention_id:uuid}/termination", summary="End a convention early, with a reason")
    async def terminate(
        self,
        convention_id: FromPath[UUID],
        data: JSONBody[Termination],
        actor: NamedDependency[Actor],
    ) -> ConventionRead:
        check_can_edit_conventions(actor)
        await store.terminate(convention_id, data)
        return await store.read(convention_id)

    @put(
        "/{convention_id:uuid}/pdf",
        summary="Attach the signed PDF (body: the PDF, Content-Type application/pdf)",
    )
    async def attach(
        self,
        convention_id: FromPath[UUID],
        request: Request,
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        filename: FromQuery[str] = "convention.pdf",
    ) -> ConventionRead:
        check_can_edit_conventions(actor)
        await store.attach_pdf(convention_id, filename, await request.body(), settings.media_dir)
        return await store.read(convention_id)

    @get("/{convention_id:uuid}/pdf", summary="The signed PDF")
    async def pdf(self, convention_id: FromPath[UUID], settings: NamedDependency[Settings]) -> File:
        path, name = await store.pdf_path(convention_id, settings.media_dir)
        return File(path=path, filename=name, media_type="application/pdf")
