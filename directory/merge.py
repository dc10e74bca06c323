"""Merging duplicates: two records of one structure, person or service become one, and
nothing is lost. Every row of every table that points at the merged record (found through
the foreign keys Piccolo knows, so a table added later is not forgotten) moves to the kept
record; rows that the move would make duplicates or self-loops are dropped; the kept
record's empty fields are filled from the other's. The merged record is then deleted, but
the merge keeps a manifest of everything it did (`DirectoryMerge`), so it can be undone.

Undo rule, kept simple and honest: a merge is undone once, and only while no later merge
touches either record. Undo re-creates the merged record and the dropped rows as they
were, and moves back every moved row that still points where the merge put it; a row
changed or deleted since is left as it is now, and the answer counts them."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from msgspec import Struct
from piccolo.columns import UUID as UUIDColumn
from piccolo.columns import Column, Date, ForeignKey, Timestamptz
from piccolo.conf.apps import Finder
from piccolo.table import Table

from directory import history, store
from directory.errors import Conflict, Invalid, NotFound
from directory.tables import (
    DirectoryChange,
    DirectoryMerge,
    Person,
    Relationship,
    Service,
    ServiceKey,
    Structure,
)
from directory.verification import Verifier

TABLES: dict[str, type[Table]] = {"structure": Structure, "person": Person, "service": Service}
# The fields a coordinator may take from either record; lists are joined by default.
MERGEABLE: dict[str, tuple[str, ...]] = {
    "structure": ("name", "siret", "kind", "network", "description", "website", "email", "phone"),
    "person": ("first_name", "last_name", "role", "email", "phone", "preferred_channel"),
    "service": (
        "name",
        "description",
        "conditions",
        "fees",
        "domains",
        "thematiques",
        "publics",
        "zone",
        "on_site",
        "remote",
        "unconditional",
        "site",
        "contact",
    ),
}
LIST_FIELDS = frozenset({"domains", "thematiques", "publics", "zone"})
# Fields that only change when the coordinator asks: a boolean has no "empty".
CHOSEN_ONLY = frozenset({"on_site", "remote", "unconditional", "kind", "preferred_channel"})
KIND_LABELS = {"structure": "la structure", "person": "la personne", "service": "le service"}


class MergeRead(Struct):
    id: UUID
    kind: str
    kept_id: UUID
    merged_id: UUID
    structure_id: UUID
    at: datetime
    actor: str
    moved: dict[str, int]  # table -> rows moved to the kept record
    dropped: dict[str, int]  # table -> rows dropped as duplicates or self-loops
    fields: dict[str, list]  # field -> [kept record's value before, after]
    merged_name: str
    undone_at: datetime | None = None
    undone_by: str = ""


class UndoRead(Struct):
    id: UUID
    kept_id: UUID
    merged_id: UUID
    structure_id: UUID  # the structure page to go back to
    restored: int  # rows moved back
    left_as_is: int  # rows changed or deleted since the merge, left as they are now


@dataclass
class _Manifest:
    """What a merge did, in the order it did it."""

    merged: dict[str, Any] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)

    def update(self, table: type[Table], row_id: Any, column: str, old: Any, new: Any, why: str):
        self.updates.append(
            {
                "table": table._meta.tablename,
                "id": _plain(row_id),
                "column": column,
                "old": _plain(old),
                "new": _plain(new),
                "why": why,
            }
        )


def _plain(value: Any) -> Any:
    return history._plain(value)


def _snapshot(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _plain(v) for k, v in row.items()}


@functools.cache
def _all_tables() -> dict[str, type[Table]]:
    """Every registered app's tables by name (loading them), once per process."""
    return {table._meta.tablename: table for table in Finder().get_table_classes()}


def _table_named(name: str) -> type[Table]:
    table = _all_tables().get(name)
    if table is None:
        raise NotFound(f"Table {name}")
    return table


def _revive(column: Column, value: Any) -> Any:
    """A JSON value back in the type its column takes."""
    if value is None or not isinstance(value, str):
        return value
    if isinstance(column, UUIDColumn | ForeignKey):
        return UUID(value)
    if isinstance(column, Timestamptz):
        return datetime.fromisoformat(value)
    if isinstance(column, Date):
        return date.fromisoformat(value)
    return value


def _revived_row(table: type[Table], row: dict[str, Any]) -> dict[str, Any]:
    columns = {c._meta.name: c for c in table._meta.columns}
    return {k: _revive(columns[k], v) for k, v in row.items() if k in columns}


def _references(table: type[Table]) -> list[ForeignKey]:
    """Every foreign key column of every registered app pointing at `table`."""
    _all_tables()  # imports every app's tables, so none is missed
    return list(table._meta.foreign_key_references)


# ---- Preview -------------------------------------------------------------------------------


async def pending_moves(kind: str, record_id: UUID) -> dict[str, int]:
    """How many rows of each table point at the record: what a merge would move."""
    counts: dict[str, int] = {}
    for column in _references(TABLES[kind]):
        table = column._meta.table
        if table is ServiceKey:
            continue
        n = await table.count().where(column == record_id)
        if n:
            name = table._meta.tablename
            counts[name] = counts.get(name, 0) + n
    return counts


# ---- Merge ---------------------------------------------------------------------------------


async def _record(kind: str, record_id: UUID) -> dict[str, Any]:
    row = await TABLES[kind].select().where(TABLES[kind]._meta.primary_key == record_id).first()
    if row is None:
        if await merged_into(record_id):
            raise Conflict("Cette fiche a déjà été fusionnée dans une autre.")
        raise NotFound({"structure": "Structure", "person": "Personne", "service": "Service"}[kind])
    return row


async def _check_pair(kind: str, keep_id: UUID, other_id: UUID) -> tuple[dict, dict]:
    if kind not in TABLES:
        raise Invalid({"kind": "Choisissez structure, person ou service."})
    if keep_id == other_id:
        raise Invalid({"merge": "Une fiche ne peut pas être fusionnée avec elle-même."})
    keep, other = await _record(kind, keep_id), await _record(kind, other_id)
    if kind != "structure" and keep["structure"] != other["structure"]:
        raise Conflict(
            "Ces deux fiches appartiennent à des structures différentes : "
            "fusionnez d'abord les structures."
        )
    return keep, other


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def merged_values(
    kind: str, keep: dict[str, Any], other: dict[str, Any], fields: dict[str, str] | None
) -> dict[str, Any]:
    """The kept record's new values: its empty fields filled from the other's, lists
    joined, and each field the coordinator chose ("keep" or "merge") taken from that side."""
    fields = fields or {}
    unknown = sorted(set(fields) - set(MERGEABLE[kind]))
    bad = sorted(f for f, side in fields.items() if side not in {"keep", "merge"})
    if unknown or bad:
        problems = [f"champ inconnu : {f}" for f in unknown]
        problems += [f"{f} : choisissez keep ou merge" for f in bad if f not in unknown]
        raise Invalid({"fields": "; ".join(problems)})
    values: dict[str, Any] = {}
    for name in MERGEABLE[kind]:
        mine, theirs = keep[name], other[name]
        side = fields.get(name)
        if side == "merge":
            new = theirs
        elif side == "keep" or name in CHOSEN_ONLY:
            new = mine
        elif name in LIST_FIELDS:
            new = list(dict.fromkeys([*(mine or []), *(theirs or [])]))
        else:
            new = theirs if _is_empty(mine) and not _is_empty(theirs) else mine
        if _plain(new) != _plain(mine):
            values[name] = new
    return values


async def _move_references(kind: str, keep_id: UUID, other_id: UUID, manifest: _Manifest) -> None:
    for column in _references(TABLES[kind]):
        table = column._meta.table
        if table is ServiceKey:
            continue  # the kept service's keys are rewritten from its fields
        pk = table._meta.primary_key
        rows = await table.select(pk).where(column == other_id)
        for row in rows:
            manifest.update(table, row[pk._meta.name], column._meta.name, other_id, keep_id, "move")
        if rows:
            await table.update({column: keep_id}).where(column == other_id)


async def _drop(table: type[Table], rows: Iterable[dict[str, Any]], manifest: _Manifest) -> None:
    for row in rows:
        manifest.dropped.append({"table": table._meta.tablename, "row": _snapshot(row)})
        pk = table._meta.primary_key
        await table.delete().where(pk == row[pk._meta.name])


def _moved_ids(manifest: _Manifest, table: type[Table]) -> set[str]:
    return {str(u["id"]) for u in manifest.updates if u["table"] == table._meta.tablename}


async def _drop_relationship_doubles(keep_id: UUID, manifest: _Manifest) -> None:
    """After the move, an edge keep -> keep is a self-loop, and two edges with the same
    ends, level and kind are one: the kept record's own edge stays."""
    touching = (
        (Relationship.source == keep_id)
        | (Relationship.target_structure == keep_id)
        | (Relationship.target_person == keep_id)
    )
    rows = await Relationship.select().where(touching).order_by(Relationship.id)
    moved = _moved_ids(manifest, Relationship)
    seen: dict[tuple, dict] = {}
    doomed = []
    # Edges the merge did not move come first, so they are the ones kept.
    for row in sorted(rows, key=lambda r: str(r["id"]) in moved):
        if row["source"] == row["target_structure"]:
            doomed.append(row)
            continue
        ends = (row["source"], row["target_structure"], row["target_person"])
        key = (*ends, row["level"], row["kind"])
        # Only an edge the merge moved is dropped: older doubles are not this merge's.
        if key in seen and str(row["id"]) in moved:
            doomed.append(row)
        seen.setdefault(key, row)
    await _drop(Relationship, doomed, manifest)


async def _drop_party_doubles(keep_id: UUID, manifest: _Manifest) -> None:
    """A convention signed by both records is a convention of the kept one, once."""
    table = _table_named("convention_party")
    column = table._meta.get_column_by_name("structure")
    rows = await table.select().where(column == keep_id)
    moved = _moved_ids(manifest, table)
    seen: set[Any] = set()
    doomed = []
    for row in sorted(rows, key=lambda r: str(r["id"]) in moved):
        if row["convention"] in seen and str(row["id"]) in moved:
            doomed.append(row)
        seen.add(row["convention"])
    await _drop(table, doomed, manifest)


async def _apply_fields(
    kind: str, keep: dict[str, Any], values: dict[str, Any], manifest: _Manifest
) -> None:
    table = TABLES[kind]
    new = {**keep, **values}
    derived: dict[str, Any] = {}
    if kind == "structure":
        derived["search_text"] = store.structure_text(
            new["name"], new["description"], new["network"]
        )
        derived["updated_at"] = datetime.now(UTC)
    elif kind == "service":
        structure = await Structure.select(Structure.name).where(Structure.id == keep["structure"])
        derived["search_text"] = store.service_text(new, structure[0]["name"])
    for name, value in {**values, **derived}.items():
        if _plain(value) != _plain(keep[name]):
            why = "field" if name in values else "derived"
            manifest.update(table, keep["id"], name, keep[name], value, why)
            await table.update({name: value}).where(table._meta.primary_key == keep["id"])
    if kind == "service":
        await store.write_keys(keep["id"], new)


async def _refresh_service_texts(structure_id: UUID, manifest: _Manifest | None) -> None:
    """A service's searchable text holds its structure's name."""
    name = (await Structure.select(Structure.name).where(Structure.id == structure_id))[0]["name"]
    for service in await Service.select().where(Service.structure == structure_id):
        text = store.service_text(service, name)
        if text != service["search_text"]:
            if manifest is not None:
                manifest.update(
                    Service, service["id"], "search_text", service["search_text"], text, "derived"
                )
            await Service.update({Service.search_text: text}).where(Service.id == service["id"])


async def _move_history(keep_id: UUID, other_id: UUID, manifest: _Manifest) -> None:
    """The history of the sites, services, people and relationships that moved follows
    them to the kept structure's page; the merged structure's own lines stay its own."""
    rows = await DirectoryChange.select(DirectoryChange.id).where(
        (DirectoryChange.structure == other_id) & (DirectoryChange.record_kind != "structure")
    )
    for row in rows:
        manifest.update(DirectoryChange, row["id"], "structure", other_id, keep_id, "history")
        await DirectoryChange.update({DirectoryChange.structure: keep_id}).where(
            DirectoryChange.id == row["id"]
        )


async def merge(
    kind: str,
    keep_id: UUID,
    other_id: UUID,
    *,
    by: Verifier,
    fields: dict[str, str] | None = None,
    within: UUID | None = None,
) -> MergeRead:
    """Merge `other_id` into `keep_id`, in one transaction. `within`: the structure a
    person or service must belong to (a page of that structure asks)."""
    table = TABLES.get(kind)
    if table is None:
        raise Invalid({"kind": "Choisissez structure, person ou service."})
    async with store.writing():
        # Lock both rows first (PostgreSQL), so that two merges of one record queue up
        # and the second finds it gone; SQLite's writers already queue.
        pk = table._meta.primary_key
        await table.update({pk: pk}).where(pk.is_in([keep_id, other_id]))
        keep, other = await _check_pair(kind, keep_id, other_id)
        if within is not None and kind != "structure" and keep["structure"] != within:
            raise NotFound(KIND_LABELS[kind].capitalize())
        values = merged_values(kind, keep, other, fields)
        manifest = _Manifest(merged=_snapshot(other))
        row = await _merge_rows(kind, keep, other, values, manifest, by)
        changed = {
            u["column"]: [u["old"], u["new"]] for u in manifest.updates if u["why"] == "field"
        }
        await _write_history(row, keep, other, "merge", by, changed)
    return await get_merge(row.id)


async def _merge_rows(
    kind: str,
    keep: dict[str, Any],
    other: dict[str, Any],
    values: dict[str, Any],
    manifest: _Manifest,
    by: Verifier,
) -> DirectoryMerge:
    """The writes of a merge, each kept in the manifest, and the merge's own row."""
    table, keep_id, other_id = TABLES[kind], keep["id"], other["id"]
    await _move_references(kind, keep_id, other_id, manifest)
    await _drop_relationship_doubles(keep_id, manifest)
    if kind == "structure":
        await _drop_party_doubles(keep_id, manifest)
        await _move_history(keep_id, other_id, manifest)
    await table.delete().where(table._meta.primary_key == other_id)
    await _apply_fields(kind, keep, values, manifest)
    if kind == "structure":
        await _refresh_service_texts(keep_id, manifest)
    row = DirectoryMerge(
        kind=kind,
        kept_id=keep_id,
        merged_id=other_id,
        structure=keep_id if kind == "structure" else keep["structure"],
        at=datetime.now(UTC),
        actor_kind=by.kind,
        actor_label=by.label[:300],
        manifest=json.dumps(manifest.__dict__, ensure_ascii=False),
    )
    await row.save()
    return row


async def merge_structures(
    keep_id: UUID, other_id: UUID, *, by: Verifier, fields: dict[str, str] | None = None
) -> MergeRead:
    return await merge("structure", keep_id, other_id, by=by, fields=fields)


async def merge_people(
    keep_id: UUID, other_id: UUID, *, by: Verifier, fields: dict[str, str] | None = None
) -> MergeRead:
    return await merge("person", keep_id, other_id, by=by, fields=fields)


async def merge_services(
    keep_id: UUID, other_id: UUID, *, by: Verifier, fields: dict[str, str] | None = None
) -> MergeRead:
    return await merge("service", keep_id, other_id, by=by, fields=fields)


def label_of(kind: str, row: dict[str, Any]) -> str:
    if kind == "person":
        return f"{row.get('first_name', '')} {row.get('last_name', '')}".strip()
    return str(row.get("name", ""))


async def _write_history(
    merge_row: DirectoryMerge,
    keep: dict,
    other: dict,
    action: str,
    by: Verifier,
    fields: dict[str, list] | None = None,
) -> None:
    """One line on each record: the kept one says what it absorbed (or gave back), the
    merged one where it went."""
    kind = merge_row.kind
    keep_structure = merge_row.structure
    other_structure = merge_row.merged_id if kind == "structure" else merge_row.structure
    for record, peer, structure_id in (
        (keep, other, keep_structure),
        (other, keep, other_structure),
    ):
        changes = {
            "merge": [str(merge_row.id), action],
            "peer": [str(peer["id"]), label_of(kind, peer)],
            "role": ["", "kept" if record is keep else "merged"],
        }
        if record is keep:
            changes |= fields or {}
        await DirectoryChange.insert(
            DirectoryChange(
                record_kind=kind,
                record_id=record["id"],
                structure=structure_id,
                action=action,
                at=datetime.now(UTC),
                actor_kind=by.kind,
                actor_label=by.label[:300],
                changes=json.dumps(changes, ensure_ascii=False),
            )
        )


# ---- Reading -------------------------------------------------------------------------------


def _counts(items: Iterable[dict[str, Any]], why: str | None = None) -> dict[str, int]:
    ids: dict[str, set[str]] = {}
    for item in items:
        if why is None or item.get("why") == why:
            ids.setdefault(item["table"], set()).add(item["id"] if why else str(item["row"]["id"]))
    return {table: len(found) for table, found in sorted(ids.items())}


def _read(row: dict[str, Any]) -> MergeRead:
    manifest = json.loads(row["manifest"])
    return MergeRead(
        id=row["id"],
        kind=row["kind"],
        kept_id=row["kept_id"],
        merged_id=row["merged_id"],
        structure_id=row["structure"],
        at=row["at"],
        actor=row["actor_label"],
        moved=_counts(manifest["updates"], "move"),
        dropped=_counts(manifest["dropped"]),
        fields={
            u["column"]: [u["old"], u["new"]] for u in manifest["updates"] if u["why"] == "field"
        },
        merged_name=label_of(row["kind"], manifest["merged"]),
        undone_at=row["undone_at"],
        undone_by=row["undone_by"],
    )


async def get_merge(merge_id: UUID) -> MergeRead:
    row = await DirectoryMerge.select().where(DirectoryMerge.id == merge_id).first()
    if row is None:
        raise NotFound("Fusion")
    return _read(row)


async def merged_into(record_id: UUID) -> UUID | None:
    """Where a merged record lives now, following later merges; None if it was not merged
    (or the merge was undone)."""
    found, seen = None, set()
    current = record_id
    while current not in seen:
        seen.add(current)
        row = (
            await DirectoryMerge.select(DirectoryMerge.kept_id)
            .where((DirectoryMerge.merged_id == current) & DirectoryMerge.undone_at.is_null())
            .first()
        )
        if row is None:
            break
        found = current = row["kept_id"]
    return found


async def merged_aliases(record_ids: Iterable[UUID]) -> dict[UUID, UUID]:
    """For each of `record_ids` that was merged (and not undone), the record it lives in."""
    ids = list(dict.fromkeys(record_ids))
    found: dict[UUID, UUID] = {}
    for start in range(0, len(ids), 500):
        rows = await DirectoryMerge.select(DirectoryMerge.merged_id).where(
            DirectoryMerge.merged_id.is_in(ids[start : start + 500])
            & DirectoryMerge.undone_at.is_null()
        )
        for row in rows:
            kept = await merged_into(row["merged_id"])
            if kept is not None:
                found[row["merged_id"]] = kept
    return found


async def latest_merge_into(record_id: UUID) -> MergeRead | None:
    """The last merge that is not undone and kept `record_id`: the page offers its undo."""
    row = (
        await DirectoryMerge.select()
        .where((DirectoryMerge.kept_id == record_id) & DirectoryMerge.undone_at.is_null())
        .order_by(DirectoryMerge.at, ascending=False)
        .first()
    )
    return _read(row) if row else None


# ---- Undo ----------------------------------------------------------------------------------


async def _check_undoable(row: dict[str, Any]) -> None:
    if row["undone_at"] is not None:
        raise Conflict("Cette fusion a déjà été annulée.")
    ids = [row["kept_id"], row["merged_id"]]
    later = await DirectoryMerge.exists().where(
        (DirectoryMerge.at > row["at"])
        & DirectoryMerge.undone_at.is_null()
        & (DirectoryMerge.kept_id.is_in(ids) | DirectoryMerge.merged_id.is_in(ids))
    )
    if later:
        raise Conflict(
            "Une fusion plus récente touche ces fiches : annulez-la d'abord, puis celle-ci."
        )
    table = TABLES[row["kind"]]
    if not await table.exists().where(table._meta.primary_key == row["kept_id"]):
        raise Conflict(
            "La fiche conservée a été supprimée depuis : la fusion ne peut être annulée."
        )
    if await table.exists().where(table._meta.primary_key == row["merged_id"]):
        raise Conflict("La fiche fusionnée existe de nouveau : rien à annuler.")


async def _revert(update: dict[str, Any]) -> bool:
    """Put one value back if it is still what the merge wrote."""
    table = _table_named(update["table"])
    column = table._meta.get_column_by_name(update["column"])
    pk = table._meta.primary_key
    row_id = _revive(pk, update["id"]) if isinstance(update["id"], str) else update["id"]
    row = await table.select(column).where(pk == row_id).first()
    if row is None or _plain(row[update["column"]]) != update["new"]:
        return False
    old = _revive(column, update["old"])
    await table.update({column: old}).where(pk == row_id)
    return True


async def undo_merge(merge_id: UUID, *, by: Verifier) -> UndoRead:
    """Undo a merge, in one transaction (see the module's docstring for the rule)."""
    async with store.writing():
        # Lock the merge's row first (PostgreSQL): of two undos at once, the second waits
        # and then finds it undone.
        await DirectoryMerge.update({DirectoryMerge.undone_by: DirectoryMerge.undone_by}).where(
            DirectoryMerge.id == merge_id
        )
        row = await DirectoryMerge.select().where(DirectoryMerge.id == merge_id).first()
        if row is None:
            raise NotFound("Fusion")
        await _check_undoable(row)
        manifest = json.loads(row["manifest"])
        kind, table = row["kind"], TABLES[row["kind"]]
        await table.insert(table(**_revived_row(table, manifest["merged"])))
        for dropped in manifest["dropped"]:
            dropped_table = _table_named(dropped["table"])
            values = _revived_row(dropped_table, dropped["row"])
            await dropped_table.insert(dropped_table(**values))
        restored = left = 0
        for update in reversed(manifest["updates"]):
            if await _revert(update):
                restored += 1
            else:
                left += 1
        await _after_undo(kind, row)
        keep = await _record(kind, row["kept_id"])
        other = await _record(kind, row["merged_id"])
        await DirectoryMerge.update(
            {DirectoryMerge.undone_at: datetime.now(UTC), DirectoryMerge.undone_by: by.label[:300]}
        ).where(DirectoryMerge.id == merge_id)
        merge_row = DirectoryMerge(**{k: v for k, v in row.items()})
        back = {
            u["column"]: [u["new"], u["old"]]
            for u in manifest["updates"]
            if u["why"] == "field" and u["id"] == str(row["kept_id"])
        }
        await _write_history(merge_row, keep, other, "unmerge", by, back)
    return UndoRead(merge_id, row["kept_id"], row["merged_id"], row["structure"], restored, left)


async def _after_undo(kind: str, row: dict[str, Any]) -> None:
    """Derived rows that the merge rewrote rather than moved: search keys."""
    if kind != "service":
        return
    for service_id in (row["kept_id"], row["merged_id"]):
        service = await Service.select().where(Service.id == service_id).first()
        if service is not None:
            await store.write_keys(service_id, service)
