"""Duplicate detection against the stored directory: the matcher (directory.duplicates)
fed with the structures and their sites' communes and addresses, for the creation form and
API, the importers and the review page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
from msgspec import Struct

from directory.duplicates import Pair, Record, duplicates_of
from directory.gazetteer import load_gazetteer
from directory.schemas import StructureWrite
from directory.tables import Site, Structure

NEW = "new"


class Evidence(Struct):
    kind: str
    strength: float
    label: str


class StructureBrief(Struct):
    id: UUID
    name: str
    communes: list[str]
    siret: str


class Candidate(Struct):
    """An existing structure the one being created may duplicate."""

    structure: StructureBrief
    score: float
    evidence: list[Evidence]


class CandidatePair(Struct):
    left: StructureBrief
    right: StructureBrief
    score: float
    evidence: list[Evidence]


class PairPage(Struct):
    items: list[CandidatePair]
    total: int
    page: int
    page_size: int


async def stored_records() -> list[Record]:
    """Every structure as the matcher sees it, with its sites' communes and addresses."""
    sites: dict[UUID, list[dict[str, Any]]] = {}
    for site in await Site.select(Site.structure, Site.commune, Site.address):
        sites.setdefault(site["structure"], []).append(site)
    rows = await Structure.select(
        Structure.id,
        Structure.name,
        Structure.siret,
        Structure.phone,
        Structure.email,
        Structure.website,
    )
    return [Record.of(str(row["id"]), row, sites.get(row["id"], [])) for row in rows]


def record_of(data: StructureWrite, key: str = NEW) -> Record:
    """A structure about to be written, as the matcher sees it (no site yet)."""
    return Record.of(key, msgspec.structs.asdict(data))


def brief(record: Record) -> StructureBrief:
    gazetteer = load_gazetteer()
    names = []
    for code in record.communes:
        commune = gazetteer.get(code)
        names.append(commune.label if commune else code)
    return StructureBrief(UUID(record.key), record.name, names, record.siret)


def evidence(pair: Pair) -> list[Evidence]:
    return [Evidence(s.kind, s.strength, s.label) for s in pair.signals]


async def candidates_for(data: StructureWrite) -> list[Candidate]:
    """Existing structures that the structure about to be created likely duplicates."""
    existing = {r.key: r for r in await stored_records()}
    pairs = duplicates_of([record_of(data)], existing.values())
    return [Candidate(brief(existing[p.right]), p.score, evidence(p)) for p in pairs[:10]]


async def import_warnings(rows: Sequence[tuple[Record, str]]) -> list[tuple[str, str]]:
    """Likely duplicates of imported rows, with the stored structures and within the file,
    as (row key, French warning). A row whose key is a stored structure's id updates it:
    not a duplicate. `rows` pairs each record with where it stands ("ligne 4")."""
    if not rows:
        return []
    where = {record.key: place for record, place in rows}
    existing = {r.key: r for r in await stored_records()}
    names = {**{r.key: r.name for r in existing.values()}, **{r.key: r.name for r, _ in rows}}
    warnings = []
    for pair in duplicates_of([record for record, _ in rows], existing.values()):
        evidence = ", ".join(s.label for s in pair.signals)
        if pair.right in where:
            other = f"« {names[pair.right]} » ({where[pair.right]}) du même fichier"
        else:
            other = f"« {names[pair.right]} », déjà dans l'annuaire"
        warnings.append(
            (
                pair.left,
                f"doublon probable : « {names[pair.left]} » ressemble à {other} ({evidence}) ; "
                "importé quand même, à vérifier sur la page des doublons",
            )
        )
    return warnings
