"""The directory's history: every write of the store records who changed what, from what
to what, in the same transaction; the structure page shows it as sentences, and a
coordinator can put a structure or a service back as it was after an earlier change."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any
from uuid import UUID, uuid4

import msgspec
from msgspec import Struct

from directory.tables import DirectoryChange, DirectoryMerge
from directory.verification import Verifier

# Columns that are derived or bookkeeping: not worth a line of history.
_UNTRACKED = frozenset(
    {
        "id",
        "search_text",
        "created_at",
        "updated_at",
        "cell",
        "verified_at",
        "verified_by_kind",
        "verified_by",
        "source_extra",
        "structure",
        "source",
    }
)

_JSON = msgspec.json.Encoder()

RECORD_LABELS = {
    "structure": "la structure",
    "site": "un lieu d'accueil",
    "service": "un service",
    "person": "une personne",
    "relationship": "une relation",
    "convention": "une convention",
}
ACTION_LABELS = {
    "create": "a créé",
    "update": "a modifié",
    "delete": "a supprimé",
    "restore": "a restauré une version antérieure de",
    "confirm": "a confirmé à jour",
    "merge": "a fusionné",
    "unmerge": "a annulé la fusion de",
}
MERGED_LABELS = {"structure": "structure", "person": "personne", "service": "service"}
FIELD_LABELS = {
    "name": "nom",
    "kind": "type",
    "network": "réseau",
    "siret": "SIRET",
    "description": "description",
    "website": "site web",
    "email": "courriel",
    "phone": "téléphone",
    "status": "statut",
    "address": "adresse",
    "commune": "commune",
    "postcode": "code postal",
    "lat": "latitude",
    "lon": "longitude",
    "geocoded": "précision de la position",
    "opening_hours": "horaires",
    "accessibility": "accessibilité",
    "walk_in": "sans rendez-vous",
    "first_name": "prénom",
    "last_name": "nom de famille",
    "role": "fonction",
    "preferred_channel": "moyen préféré",
    "active": "en poste",
    "left_on": "date de départ",
    "domains": "domaines",
    "thematiques": "thématiques",
    "publics": "publics",
    "conditions": "conditions",
    "fees": "coût",
    "on_site": "sur place",
    "remote": "à distance",
    "zone": "zone d'éligibilité",
    "unconditional": "accueil sans condition",
    "site": "lieu",
    "contact": "contact",
    "referent": "référent·e",
    "target_structure": "structure liée",
    "target_person": "personne liée",
    "level": "niveau",
    "since": "depuis",
    "note": "note",
    "source_id": "identifiant à la source",
    "source_date": "date à la source",
}


# Types JSON keeps as they are (exactly these: a str Enum is converted by _plain).
_AS_IS = frozenset({str, int, float, bool, type(None), list})


@functools.lru_cache(maxsize=256)
def _tracked(fields: tuple[str, ...]) -> tuple[str, ...]:
    """The tracked fields among a record's, in order ("_name" keys are notes of an
    importer, not columns): importers ask for the same few sets of columns hundreds of
    thousands of times."""
    return tuple(sorted(f for f in set(fields) - _UNTRACKED if not f.startswith("_")))


def _plain(value: Any) -> Any:
    """A value as JSON keeps it."""
    if type(value) in _AS_IS:
        return value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


def differences(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list]:
    """{field: [before, after]} for every tracked field that differs; an update compares
    the fields it wrote, a creation or deletion every field of the record."""
    old, new = before or {}, after or {}
    # A new or deleted record lists its filled fields only: "(vide) → (vide)" says nothing.
    whole = before is None or after is None
    found = {}
    for field in _tracked(tuple(new if after is not None else old)):
        a, b = _plain(old.get(field)), _plain(new.get(field))
        if _empty(a, whole) and _empty(b, whole):
            continue
        if a != b:
            found[field] = [a, b]
    return found


def _empty(value: Any, whole: bool) -> bool:
    return value is None or value == "" or value == [] or (whole and value is False)


# Called after each recorded change, inside its transaction, with (kind, record_id,
# structure_id, action, by): how reports of wrong data learn that a record was fixed without
# the directory knowing about reports.
ChangeListener = Callable[[str, UUID, UUID, str, Verifier | None], Awaitable[None]]
_listeners: list[ChangeListener] = []


def listen(listener: ChangeListener) -> None:
    """Be told of every change the store records (once per listener)."""
    if listener not in _listeners:
        _listeners.append(listener)


async def record(
    kind: str,
    record_id: UUID,
    structure_id: UUID,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    by: Verifier | None,
) -> None:
    """Keep one change; an update that changed nothing tracked leaves no line."""
    changes = differences(before, after)
    if action == "update" and not changes:
        return
    await DirectoryChange.insert(
        DirectoryChange(
            record_kind=kind,
            record_id=record_id,
            structure=structure_id,
            action=action,
            at=datetime.now(UTC),
            actor_kind=by.kind if by else "",
            actor_label=by.label[:300] if by else "",
            changes=json.dumps(changes, ensure_ascii=False),
        )
    )
    for listener in _listeners:
        await listener(kind, record_id, structure_id, action, by)


# The columns of a line of history, in the order of import_change()'s tuples.
HISTORY_COLUMNS = (
    "id",
    "record_kind",
    "record_id",
    "structure",
    "action",
    "at",
    "actor_kind",
    "actor_label",
    "changes",
)


def import_label(label: str, started_by: str = "") -> str:
    """Who an import's lines of history name: the importer, as it stamps the records it
    verifies ("import CSV (structures.csv)"), and the person who started it, if known."""
    return f"{label} lancé par {started_by}" if started_by else label


def import_change(
    kind: str,
    record_id: UUID,
    structure_id: UUID,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    *,
    at: datetime,
    label: str,
) -> tuple[Any, ...] | None:
    """One line of history as a row for a batched INSERT (HISTORY_COLUMNS): importers
    write thousands at once, where record() would cost a query each. A creation when
    `before` is None, else an update, which is None when no tracked field changed."""
    changes = differences(before, after)
    if before is not None and not changes:
        return None
    action = "create" if before is None else "update"
    text = _JSON.encode(changes).decode()  # json.loads reads it; several times faster
    return (uuid4(), kind, record_id, structure_id, action, at, "import", label[:300], text)


class ChangeRead(Struct):
    id: UUID
    record_kind: str
    record_id: UUID
    action: str
    at: datetime
    actor_kind: str
    actor_label: str
    changes: dict[str, list]
    sentence: str  # in French, e.g. "Nadia Belkacem a modifié la structure"
    restorable: bool  # a structure or service change a coordinator can go back to
    link: str = ""  # for a merge: the other record's page
    merge_id: UUID | None = None  # a merge into this record (directory.merge)
    undoable: bool = False  # that merge is not undone yet


class ChangePage(Struct):
    items: list[ChangeRead]
    total: int


def _merge_sentence(row: dict[str, Any], changes: dict[str, list]) -> tuple[str, str]:
    """ "… a fusionné « X » dans cette fiche", and the page of the other record."""
    who = row["actor_label"] or "Quelqu'un"
    peer_id, peer = changes["peer"]
    kind = MERGED_LABELS.get(row["record_kind"], row["record_kind"])
    link = f"/structures/{peer_id}" if row["record_kind"] == "structure" else ""
    kept = changes["role"][1] == "kept"
    if row["action"] == "merge":
        if kept:  # the merged record is gone: nothing to link to
            return f"{who} a fusionné la fiche {kind} « {peer} » dans cette fiche", ""
        return f"{who} a fusionné cette fiche {kind} dans « {peer} »", link
    if kept:
        return f"{who} a annulé la fusion de la fiche {kind} « {peer} » dans cette fiche", link
    return f"{who} a annulé la fusion de cette fiche {kind} dans « {peer} »", link


def read(row: dict[str, Any]) -> ChangeRead:
    who = row["actor_label"] or "Quelqu'un"
    if row["actor_kind"] == "import":  # "import CSV (…)" opens the sentence
        who = who[:1].upper() + who[1:]
    what = RECORD_LABELS.get(row["record_kind"], row["record_kind"])
    sentence = f"{who} {ACTION_LABELS.get(row['action'], row['action'])} {what}"
    changes = json.loads(row["changes"])
    link = ""
    merge_id = None
    if row["action"] in {"merge", "unmerge"} and "peer" in changes:
        sentence, link = _merge_sentence(row, changes)
        if row["action"] == "merge" and changes["role"][1] == "kept":
            merge_id = UUID(changes["merge"][0])
        changes = {k: v for k, v in changes.items() if k not in {"merge", "peer", "role"}}
    return ChangeRead(
        id=row["id"],
        record_kind=row["record_kind"],
        record_id=row["record_id"],
        action=row["action"],
        at=row["at"],
        actor_kind=row["actor_kind"],
        actor_label=row["actor_label"],
        changes=changes,
        sentence=sentence,
        restorable=row["record_kind"] in {"structure", "service"}
        and row["action"] in {"create", "update", "restore"},
        link=link,
        merge_id=merge_id,
    )


async def history_of(structure_id: UUID, limit: int = 20, offset: int = 0) -> ChangePage:
    """The structure's changes and its sites', services', people's and relationships',
    newest first."""
    rows = (
        await DirectoryChange.select()
        .where(DirectoryChange.structure == structure_id)
        .order_by(DirectoryChange.at, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    total = await DirectoryChange.count().where(DirectoryChange.structure == structure_id)
    items = [read(r) for r in rows]
    await _mark_undoable(items)
    return ChangePage(items=items, total=total)


async def _mark_undoable(items: list[ChangeRead]) -> None:
    """A merge line offers its undo while the merge stands."""
    ids = [c.merge_id for c in items if c.merge_id is not None]
    if not ids:
        return
    standing = await DirectoryMerge.select(DirectoryMerge.id).where(
        DirectoryMerge.id.is_in(ids) & DirectoryMerge.undone_at.is_null()
    )
    found = {r["id"] for r in standing}
    for c in items:
        c.undoable = c.merge_id in found


async def get_change(change_id: UUID) -> dict[str, Any] | None:
    return await DirectoryChange.select().where(DirectoryChange.id == change_id).first()


async def state_after(change: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The record's tracked fields as they were right after `change`: the current values,
    with every later change undone, newest first."""
    later = (
        await DirectoryChange.select(DirectoryChange.changes)
        .where(
            (DirectoryChange.record_id == change["record_id"]) & (DirectoryChange.at > change["at"])
        )
        .order_by(DirectoryChange.at, ascending=False)
    )
    state = {k: _plain(v) for k, v in current.items()}
    for row in later:
        for field, (before, _after) in json.loads(row["changes"]).items():
            state[field] = before
    return state
