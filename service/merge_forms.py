"""The merge pages' logic: the side-by-side comparison of two structures, and reading the
coordinator's choices from the form into a call of directory.merge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from directory import history, merge
from directory.errors import Invalid, NotFound
from directory.schemas import STRUCTURE_KINDS, StructureRead
from directory.store import get_structure
from directory.vocabulary import NETWORKS
from service.accounts.store import Actor
from service.directory_forms import verifier

# What a merge moves, by table, in the words of the page: (one, several).
MOVED_LABELS = {
    "site": ("lieu d'accueil", "lieux d'accueil"),
    "service": ("service", "services"),
    "person": ("personne", "personnes"),
    "relationship": ("relation", "relations"),
    "convention_party": ("convention", "conventions"),
    "referral": ("orientation", "orientations"),
    "account_user": ("compte", "comptes"),
    "territory": ("territoire", "territoires"),
}


@dataclass
class FieldChoice:
    name: str
    label: str
    a: str  # each record's value, as shown
    b: str
    default: str  # "a" or "b"


@dataclass
class Comparison:
    a: StructureRead
    b: StructureRead
    fields: list[FieldChoice]
    moves: dict[str, list[str]]  # "a"/"b" -> ["2 services", …], what is attached
    default_keep: str


def _shown(name: str, value: Any) -> str:
    if name == "kind":
        return STRUCTURE_KINDS.get(value, value)
    if name == "network":
        return NETWORKS.get(value, value)
    return "" if value is None else str(value)


def _newer(a: datetime | None, b: datetime | None) -> str:
    """The more recently verified record; the first one when neither or both are dated."""
    if b is not None and (a is None or b > a):
        return "b"
    return "a"


async def comparison(a_id: UUID, b_id: UUID) -> Comparison:
    if a_id == b_id:
        raise Invalid({"b": "Choisissez deux fiches différentes."})
    a, b = await get_structure(a_id), await get_structure(b_id)
    newer = _newer(a.verified_at, b.verified_at)
    fields = [
        FieldChoice(
            name,
            history.FIELD_LABELS.get(name, name),
            _shown(name, getattr(a, name)),
            _shown(name, getattr(b, name)),
            newer if getattr(a, name) and getattr(b, name) else ("a" if getattr(a, name) else "b"),
        )
        for name in merge.MERGEABLE["structure"]
        if getattr(a, name) != getattr(b, name)
    ]
    moves = {}
    for side, record in (("a", a), ("b", b)):
        pending = await merge.pending_moves("structure", record.id)
        moves[side] = [
            f"{pending[t]} {one if pending[t] == 1 else several}"
            for t, (one, several) in MOVED_LABELS.items()
            if pending.get(t)
        ]
    return Comparison(a, b, fields, moves, newer)


def _side(form: Any, name: str) -> str:
    value = form.get(name, "")
    if value not in {"a", "b"}:
        raise Invalid({name: "Choisissez l'une des deux fiches."})
    return str(value)


def _uuid(form: Any, name: str) -> UUID:
    try:
        return UUID(str(form.get(name, "")))
    except ValueError as error:
        raise NotFound("Structure") from error


async def merge_structures(form: Any, actor: Actor) -> merge.MergeRead:
    """The form names both records (a, b), the one to keep, and for each differing field
    the record whose value wins."""
    ids = {"a": _uuid(form, "a"), "b": _uuid(form, "b")}
    keep = _side(form, "keep")
    other = "b" if keep == "a" else "a"
    fields = {
        name: "keep" if _side(form, f"field_{name}") == keep else "merge"
        for name in merge.MERGEABLE["structure"]
        if f"field_{name}" in form
    }
    return await merge.merge_structures(ids[keep], ids[other], by=verifier(actor), fields=fields)


async def merge_within(kind: str, structure_id: UUID, form: Any, actor: Actor) -> merge.MergeRead:
    """Two people or two services of one structure: empty fields filled, lists joined."""
    keep, other = _uuid(form, "keep"), _uuid(form, "merge")
    if keep == other:
        raise Invalid({"merge": "Choisissez deux fiches différentes."})
    return await merge.merge(kind, keep, other, by=verifier(actor), within=structure_id)


async def just_merged(structure_id: UUID, merge_id: str | None) -> merge.MergeRead | None:
    """The merge named in the page's address, if it is one into this structure that can
    still be undone: the page then offers to undo it."""
    if not merge_id:
        return None
    try:
        found = await merge.get_merge(UUID(merge_id))
    except (ValueError, NotFound):
        return None
    if found.structure_id != structure_id or found.undone_at is not None:
        return None
    return found
