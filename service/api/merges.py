"""Merging duplicate structures, people and services, and undoing a merge (coordinators)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from msgspec import Meta, Struct

from directory import merge
from service.accounts.store import Actor
from service.directory_forms import verifier
from service.permissions import check_can_merge


class MergeWrite(Struct):
    """Merge `merge` into `keep`. `fields`: for a field where both records have a value,
    which one to keep ("keep" or "merge"); the kept record's empty fields are filled from
    the other's, and lists (domains, publics…) are joined, unless a field says otherwise."""

    kind: Literal["structure", "person", "service"]
    keep: UUID
    merge: UUID
    fields: dict[Annotated[str, Meta(max_length=40)], str] | None = None


MERGE_DESCRIPTION = (
    "Every row pointing at the merged record (sites, services, people, relationships, "
    "convention parties, referrals, accounts, territories, service contacts…) moves to the "
    "kept record; relationships that become duplicates or self-loops, and a convention "
    "signed by both, are kept once. The merged record is deleted; GET on it answers 307 "
    "to the kept record (307, not 308: a merge can be undone). People and services are "
    "merged within one structure only (409 otherwise). 400: a record merged with itself, "
    "an unknown field; 404: unknown record; 409: a record already merged."
)


class MergeController(Controller):
    path = "/directory/merges"

    @post("/", summary="Merge two duplicate records", description=MERGE_DESCRIPTION)
    async def create(
        self, data: JSONBody[MergeWrite], actor: NamedDependency[Actor]
    ) -> Response[merge.MergeRead]:
        check_can_merge(actor)
        done = await merge.merge(
            data.kind, data.keep, data.merge, by=verifier(actor), fields=data.fields
        )
        return Response(done, status_code=201)

    @get("/{merge_id:uuid}", summary="A merge: what it moved, dropped and changed")
    async def show(
        self, merge_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> merge.MergeRead:
        check_can_merge(actor)
        return await merge.get_merge(merge_id)

    @post(
        "/{merge_id:uuid}/undo",
        summary="Undo a merge",
        description="Allowed once, while no later merge touches either record (409 "
        "otherwise). Rows changed or deleted since the merge are left as they are and "
        "counted in left_as_is.",
        status_code=200,
    )
    async def undo(self, merge_id: FromPath[UUID], actor: NamedDependency[Actor]) -> merge.UndoRead:
        check_can_merge(actor)
        return await merge.undo_merge(merge_id, by=verifier(actor))
