"""The review of likely duplicates, one territory at a time. A coordinator works on a
département or on a Mission Locale's territory: the matcher runs on the structures with a
site there, their neighbours (sites within the matcher's "nearby" distance), the structures
that share a SIRET, phone or e-mail with them wherever they are, and the structures with no
site yet. That is a few thousand records instead of the whole country, so the first view
answers in about a second; the whole of France stays possible for administrators.

Pairs are computed from the stored records at each view (cached while the records of the
scope are unchanged): a merge, an undo, an import or an edit shows at once, with no table
to keep in step. Pairs a coordinator dismissed ("pas un doublon") are stored and left out.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from directory.duplicate_checks import CandidatePair, PairPage, brief, evidence
from directory.duplicates import (
    NEARBY_KM,
    Pair,
    Record,
    find_duplicates,
    normalise_phone,
)
from directory.errors import Invalid, NotFound
from directory.gazetteer import load_gazetteer
from directory.tables import DuplicateDismissal, Site, Structure, Territory

FRANCE = "france"
_CHUNK = 500  # values per IN (…): well under SQLite's and asyncpg's limits
# Values in one IN (…) of raw SQL: under SQLite's 32,766 and asyncpg's 32,767 parameters.
_MANY = 30_000
_CACHE_SIZE = 16
_MATCHED = (
    Structure.id,
    Structure.name,
    Structure.siret,
    Structure.phone,
    Structure.email,
    Structure.website,
)


@dataclass(frozen=True, slots=True)
class Scope:
    """Where pairs are looked for: "d:26" (a département), "t:<id>" (a territory) or
    "france". `communes` is None for the whole country."""

    key: str
    label: str
    communes: frozenset[str] | None


async def scope_of(key: str) -> Scope:
    """The scope a key names; Invalid when it names nothing."""
    gazetteer = load_gazetteer()
    if key == FRANCE:
        return Scope(FRANCE, "Toute la France", None)
    if key.startswith("d:") and (name := gazetteer.name_of("departement", key[2:])):
        code = key[2:].upper()
        return Scope(f"d:{code}", f"{name} ({code})", frozenset(gazetteer.communes_of_zone(code)))
    if key.startswith("t:"):
        try:
            row = await Territory.select().where(Territory.id == UUID(key[2:])).first()
        except ValueError:
            row = None
        if row is not None:
            return Scope(key, row["name"], frozenset(row["communes"]))
    raise Invalid({"scope": f"Territoire inconnu : {key}"})


async def default_scope(structure_id: UUID | None) -> str | None:
    """The territory of the user's structure, else the first département of its sites."""
    if structure_id is None:
        return None
    row = (
        await Territory.select(Territory.id)
        .where(Territory.structure == structure_id)
        .order_by(Territory.name)
        .first()
    )
    if row is not None:
        return f"t:{row['id']}"
    gazetteer = load_gazetteer()
    sites = await Site.select(Site.commune).where(Site.structure == structure_id)
    codes = sorted(c.departement for s in sites if (c := gazetteer.get(s["commune"] or "")))
    return f"d:{codes[0]}" if codes else None


async def scope_choices() -> list[tuple[str, str]]:
    """(key, label) of every territory, then every département."""
    gazetteer = load_gazetteer()
    territories = await Territory.select(Territory.id, Territory.name).order_by(Territory.name)
    departements = sorted({c.departement for c in gazetteer})
    return [(f"t:{t['id']}", f"Territoire : {t['name']}") for t in territories] + [
        (f"d:{d}", f"{gazetteer.name_of('departement', d)} ({d})") for d in departements
    ]


def neighbourhood(communes: Iterable[str]) -> set[str]:
    """The communes, and those whose centre lies within the matcher's nearby distance of
    one of them: a pair across the border of the scope is still found."""
    gazetteer = load_gazetteer()
    found = set(communes)
    for code in list(found):
        commune = gazetteer.get(code)
        if commune is not None:
            found.update(c.insee for c in gazetteer.nearby(commune.lat, commune.lon, NEARBY_KM))
    return found


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def _structures_with_sites_in(communes: set[str]) -> set[str]:
    ids: set[str] = set()
    for chunk in _chunks(sorted(communes)):
        rows = await Site.select(Site.structure).where(Site.commune.is_in(chunk))
        ids.update(str(r["structure"]) for r in rows)
    return ids


async def _identifier_partners(records: list[Record]) -> set[str]:
    """Structures anywhere that share a SIRET, phone or e-mail with one of `records`: the
    same identifier far away is still a duplicate. The database finds them by the stored
    SIRET (kept normalised), the e-mail and the usual ways of writing a phone; the
    matcher's own normalisation decides."""
    wanted = {key for r in records for key in _identifiers(r.siret, r.phone, r.email)}
    found: set[str] = set()
    for kind, column in (("s:", "siret"), ("p:", "phone"), ("e:", "lower(email)")):
        values = sorted({v for key in wanted if key.startswith(kind) for v in _spellings(key)})
        for start in range(0, len(values), _MANY):
            chunk = values[start : start + _MANY]
            holes = ", ".join("{}" for _ in chunk)
            sql = f"SELECT id, siret, phone, email FROM structure WHERE {column} IN ({holes})"
            found.update(
                str(r["id"])
                for r in await Structure.raw(sql, *chunk)
                if not wanted.isdisjoint(_identifiers(r["siret"], r["phone"], r["email"]))
            )
    return found


def _spellings(key: str) -> list[str]:
    """How an identifier may be stored: a phone as 0475821120, 04 75 82 11 20,
    04.75.82.11.20, 04-75-82-11-20, +33475821120 or +33 4 75 82 11 20."""
    kind, value = key[:2], key[2:]
    if kind != "p:":
        return [value]
    national = f"0{value}"
    pairs = [national[i : i + 2] for i in range(0, 10, 2)]
    groups = [value[0], *[value[i : i + 2] for i in range(1, 9, 2)]]
    return [
        national,
        " ".join(pairs),
        ".".join(pairs),
        "-".join(pairs),
        f"+33{value}",
        "+33 " + " ".join(groups),
    ]


def _identifiers(siret: str | None, phone: str | None, email: str | None) -> list[str]:
    digits = "".join(ch for ch in siret or "" if ch.isdigit())
    mail = (email or "").strip().lower()
    keys = [f"s:{digits}"] if len(digits) == 14 else []
    if normal := normalise_phone(phone or ""):
        keys.append(f"p:{normal}")
    if "@" in mail:
        keys.append(f"e:{mail}")
    return keys


async def _placeless() -> set[str]:
    """Structures with no site yet (just typed in): the matcher meets them by name."""
    rows = await Structure.raw(
        "SELECT id FROM structure WHERE NOT EXISTS "
        "(SELECT 1 FROM site WHERE site.structure = structure.id)"
    )
    return {str(r["id"]) for r in rows}


async def _records(ids: set[str] | None) -> list[Record]:
    """The structures (all of them when `ids` is None) as the matcher sees them."""
    site_rows: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    # A fresh query for each chunk: Piccolo's where() adds to the query it is called on.
    for chunk in [None] if ids is None else _chunks(sorted(UUID(i) for i in ids)):
        sites = Site.select(Site.structure, Site.commune, Site.address)
        structures = Structure.select(*_MATCHED)
        if chunk is not None:
            sites = sites.where(Site.structure.is_in(chunk))
            structures = structures.where(Structure.id.is_in(chunk))
        site_rows += await sites
        rows += await structures
    by_structure: dict[str, list[dict[str, Any]]] = {}
    for site in site_rows:
        by_structure.setdefault(str(site["structure"]), []).append(site)
    return [Record.of(str(r["id"]), r, by_structure.get(str(r["id"]), [])) for r in rows]


async def scope_records(scope: Scope) -> tuple[list[Record], set[str] | None]:
    """The records to match for a scope, and the ids of those inside it (None: all): a
    pair is shown when one of its records is inside."""
    if scope.communes is None:
        return await _records(None), None
    inside = await _structures_with_sites_in(set(scope.communes))
    around = await _structures_with_sites_in(neighbourhood(scope.communes))
    records = await _records(around | await _placeless())
    partners = await _identifier_partners([r for r in records if r.key in inside])
    records += await _records(partners - {r.key for r in records})
    return records, inside


_CACHE: OrderedDict[tuple[str, int], list[Pair]] = OrderedDict()


def _pairs(scope: Scope, records: list[Record], inside: set[str] | None) -> list[Pair]:
    """The scope's pairs, computed again only when one of its records has changed: paging
    does not run the matcher on every page."""
    key = (scope.key, hash(tuple(sorted(records, key=lambda r: r.key))))
    if key not in _CACHE:
        _CACHE[key] = find_duplicates(records, focus=inside)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return _CACHE[key]


async def _dismissed() -> set[tuple[str, str]]:
    rows = await DuplicateDismissal.select(DuplicateDismissal.left_id, DuplicateDismissal.right_id)
    return {(str(r["left_id"]), str(r["right_id"])) for r in rows}


async def review(scope: Scope, page: int = 1, page_size: int = 20) -> PairPage:
    """One page of the scope's likely duplicate pairs, best first, dismissed ones left out."""
    records, inside = await scope_records(scope)
    by_key = {r.key: r for r in records}
    dismissed = await _dismissed()
    pairs = [
        p
        for p in _pairs(scope, records, inside)
        if (min(p.left, p.right), max(p.left, p.right)) not in dismissed
    ]
    page = max(page, 1)
    shown = pairs[(page - 1) * page_size : page * page_size]
    items = [
        CandidatePair(brief(by_key[p.left]), brief(by_key[p.right]), p.score, evidence(p))
        for p in shown
    ]
    return PairPage(items=items, total=len(pairs), page=page, page_size=page_size)


async def dismiss(a: UUID, b: UUID, by: str, now: datetime | None = None) -> bool:
    """Record that two structures are not duplicates; False when it already was."""
    if a == b:
        raise Invalid({"right_id": "Une fiche ne peut pas être le doublon d'elle-même."})
    for structure_id in (a, b):
        if not await Structure.exists().where(Structure.id == structure_id):
            raise NotFound("Structure")
    left, right = sorted((a, b), key=str)
    if await DuplicateDismissal.exists().where(
        (DuplicateDismissal.left_id == left) & (DuplicateDismissal.right_id == right)
    ):
        return False
    await DuplicateDismissal.insert(
        DuplicateDismissal(
            left_id=left, right_id=right, dismissed_at=now or datetime.now(UTC), dismissed_by=by
        )
    )
    return True
