"""Likely duplicate structures: records in, scored candidate pairs out, each with the
evidence that made it (which signals matched and how strongly). Pure: no database, no
HTTP; the form, the API, the importers and the review page feed it records.

Names are compared after normalisation (accents, case, punctuation, the abbreviations of
the field expanded: "ML" is "Mission Locale", "CCAS" a "centre communal d'action
sociale"), with rapidfuzz's token scores. Only records that share a blocking key are
compared (same SIRET, phone, e-mail or website, or a name token in the same commune or
département), so the work grows with the size of the blocks, not with the square of the
directory.

The sites of one network ("Restos du cœur Valence" and "Restos du cœur Die") are not
duplicates: their names share the network and differ by a word on each side (the place),
and they sit in different communes. Homonyms in other communes (two "CCAS") are not either.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any
from urllib.parse import urlsplit

from rapidfuzz import fuzz

from directory.gazetteer import Gazetteer, load_gazetteer
from directory.geo import distance_km
from directory.text import fold_place

# Abbreviations met in structure names, and what they stand for (already folded).
ABBREVIATIONS: dict[str, str] = {
    "ml": "mission locale",
    "milo": "mission locale",
    "ccas": "centre communal action sociale",
    "cias": "centre intercommunal action sociale",
    "assoc": "association",
    "asso": "association",
    "ass": "association",
    "pij": "point information jeunesse",
    "bij": "bureau information jeunesse",
    "cij": "centre information jeunesse",
    "crij": "centre regional information jeunesse",
    "cio": "centre information orientation",
    "cidff": "centre information droits femmes familles",
    "adil": "agence departementale information logement",
    "mdph": "maison departementale personnes handicapees",
    "fjt": "foyer jeunes travailleurs",
    "e2c": "ecole deuxieme chance",
    "epide": "etablissement pour insertion dans emploi",
    "caf": "caisse allocations familiales",
    "cpam": "caisse primaire assurance maladie",
    "msa": "mutualite sociale agricole",
    "chrs": "centre hebergement reinsertion sociale",
    "cada": "centre accueil demandeurs asile",
    "mjc": "maison jeunes culture",
    "mds": "maison departementale solidarites",
    "mfr": "maison familiale rurale",
    "afpa": "agence formation professionnelle adultes",
    "aci": "atelier chantier insertion",
    "ft": "france travail",
    "ctre": "centre",
    "dept": "departemental",
    "fed": "federation",
}
# Words that say what a structure is, not which one: a name may carry them or not.
GENERIC_WORDS = frozenset({"association", "structure", "antenne", "siege"})
STOP_WORDS = frozenset(
    {"a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "pour"}
    | {"sur", "un", "une", "dans", "chez", "par", "avec"}
)
# Mail and web hosts shared by unrelated people: the same domain there proves nothing.
COMMON_DOMAINS = frozenset(
    {"gmail.com", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "hotmail.fr"}
    | {"hotmail.com", "yahoo.fr", "yahoo.com", "outlook.fr", "outlook.com", "sfr.fr"}
    | {"live.fr", "icloud.com", "aol.com", "neuf.fr"}
)
NEARBY_KM = 12.0
# Blocking cells, about 2 * NEARBY_KM wide in mainland France.
_CELL_LAT = 0.22
_CELL_LON = 0.32
# An identifier held by more records than this is a network's or a call centre's.
SHARED_IDENTIFIER = 4
# Blocks larger than this are not compared pairwise: a generic word ("association") in a
# big city; duplicates there share a rarer word or an identifier too.
MAX_BLOCK = 150
# Within one commune, where most duplicates are, larger blocks are still compared.
MAX_COMMUNE_BLOCK = 400
# A single record is compared with a whole block: larger ones are affordable.
MATCH_BLOCK = 5000
# Name words a record is blocked on: its rarest ones, which a duplicate shares too.
RARE_WORDS = 2

_SPACES = re.compile(r"\s+")
_DIGITS = re.compile(r"\D+")


@dataclass(frozen=True, slots=True)
class Record:
    """What the matcher knows of a structure; `key` is the caller's id for it."""

    key: str
    name: str
    siret: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    communes: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, key: str, values: Mapping[str, Any], sites: Iterable[Mapping[str, Any]] = ()
    ) -> Record:
        """A structure's row (a database row, a file's values) and its sites' rows: the
        one shape every caller, from the form to both importers, already holds."""
        sites = list(sites)
        return cls(
            key=key,
            name=values.get("name") or "",
            siret=values.get("siret") or "",
            phone=values.get("phone") or "",
            email=values.get("email") or "",
            website=values.get("website") or "",
            communes=tuple(dict.fromkeys(s["commune"] for s in sites if s.get("commune"))),
            addresses=tuple(s["address"] for s in sites if s.get("address")),
        )


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of evidence: `kind` is siret, phone, email, website, name, place or
    address; `strength` runs from 0 to 1; `label` says it in French."""

    kind: str
    strength: float
    label: str


@dataclass(frozen=True, slots=True)
class Pair:
    left: str
    right: str
    score: float
    signals: tuple[Signal, ...]


@dataclass(slots=True)
class _Prepared:
    record: Record
    name: str  # normalised
    tokens: frozenset[str]
    siret: str
    phone: str
    email: str
    website: str
    addresses: tuple[str, ...]
    points: tuple[tuple[float, float], ...]
    departements: frozenset[str]
    place_words: frozenset[str]  # words of the name that name its own commune
    keys: set[str] = field(default_factory=set)


def normalise_name(name: str) -> str:
    """Folded, abbreviations expanded, stop words dropped: "Assoc. l'Étape" -> "association
    etape"."""
    words = fold_place(name).replace("n°", " ").split()
    expanded: list[str] = []
    for word in words:
        expanded.extend(ABBREVIATIONS.get(word, word).split())
    return " ".join(w for w in expanded if w not in STOP_WORDS)


def normalise_phone(phone: str) -> str:
    """The nine significant digits of a French number ("+33 4 75…" = "04 75…")."""
    digits = _DIGITS.sub("", phone)
    if digits.startswith("0033"):
        digits = digits[4:]
    elif digits.startswith("33") and len(digits) == 11:
        digits = digits[2:]
    digits = digits.lstrip("0")
    return digits if len(digits) == 9 else ""


def normalise_website(url: str) -> str:
    """Host and path without scheme, "www." or trailing slash."""
    text = url.strip().lower()
    if not text:
        return ""
    parts = urlsplit(text if "//" in text else f"//{text}")
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}" if host else ""


def _siret(text: str) -> str:
    digits = _DIGITS.sub("", text)
    return digits if len(digits) == 14 else ""


class Matcher:
    """An index of records; `pairs()` finds duplicates among them, `matches()` those of a
    record that is not (yet) among them."""

    def __init__(self, records: Iterable[Record], gazetteer: Gazetteer | None = None) -> None:
        self._gazetteer = gazetteer or load_gazetteer()
        self._items = [self._prepare(r) for r in records]
        self._frequency = Counter(w for item in self._items for w in item.tokens)
        for item in self._items:
            item.keys = set(_keys(item, self._rare(item)))
        self._blocks: dict[str, list[int]] = defaultdict(list)
        for index, item in enumerate(self._items):
            for key in item.keys:
                self._blocks[key].append(index)
        self._counts = Counter(
            value
            for item in self._items
            for value in (item.siret, item.phone, item.email, item.website)
            if value
        )

    def pairs(self, focus: Collection[str] | None = None) -> list[Pair]:
        """Every likely duplicate pair of the index, best first; with `focus` (keys), only
        the pairs with a side in it: the neighbours of a territory are indexed so that a
        pair across its border is found, but their pairs among themselves are not judged."""
        inside = (
            None
            if focus is None
            else {i for i, t in enumerate(self._items) if t.record.key in focus}
        )
        seen: set[tuple[int, int]] = set()
        found: list[Pair] = []
        for key, members in self._blocks.items():
            if len(members) < 2:
                continue
            if key.startswith("n:"):
                candidates = self._placeless_pairs(members)
            elif len(members) <= (MAX_COMMUNE_BLOCK if key.startswith("c:") else MAX_BLOCK):
                candidates = combinations(members, 2)
            else:
                continue
            for i, j in candidates:
                if (i, j) in seen or (inside is not None and i not in inside and j not in inside):
                    continue
                seen.add((i, j))
                pair = self._judge(self._items[i], self._items[j])
                if pair is not None:
                    found.append(pair)
        return _best_first(found)

    def _placeless_pairs(self, members: list[int]) -> Iterator[tuple[int, int]]:
        """In a block of the whole country, only pairs where one side has no place (a
        record typed without a site yet): the others meet in their communes' blocks."""
        if len(members) > MATCH_BLOCK:
            return
        placeless = [i for i in members if not self._items[i].record.communes]
        for i in placeless:
            for j in members:
                if i != j:
                    yield (min(i, j), max(i, j))

    def matches(self, record: Record) -> list[Pair]:
        """The indexed records `record` likely duplicates, best first (record on the left)."""
        probe = self._prepare(record)
        probe.keys = set(_keys(probe, self._rare(probe)))
        seen: set[int] = set()
        found: list[Pair] = []
        for key in probe.keys:
            members = self._blocks.get(key, ())
            if len(members) > MATCH_BLOCK and not key.startswith("i:"):
                continue
            for index in members:
                item = self._items[index]
                if index in seen or item.record.key == record.key:
                    continue
                if key.startswith("n:") and record.communes and item.record.communes:
                    continue
                seen.add(index)
                pair = self._judge(probe, self._items[index])
                if pair is not None:
                    found.append(pair)
        return _best_first(found)

    # ---- preparation -------------------------------------------------------------------

    def _prepare(self, record: Record) -> _Prepared:
        name = normalise_name(record.name)
        points: list[tuple[float, float]] = []
        departements: set[str] = set()
        place_words: set[str] = set()
        for code in record.communes:
            commune = self._gazetteer.get(code)
            if commune is not None:
                points.append((commune.lat, commune.lon))
                departements.add(commune.departement)
                place_words.update(normalise_name(commune.name).split())
            elif code:
                departements.add(code[:2])
        email = record.email.strip().lower()
        item = _Prepared(
            record=record,
            name=name,
            tokens=frozenset(name.split()),
            siret=_siret(record.siret),
            phone=normalise_phone(record.phone),
            email=email if "@" in email else "",
            website=normalise_website(record.website),
            addresses=tuple(a for a in (fold_place(x) for x in record.addresses) if a),
            points=tuple(points),
            departements=frozenset(departements),
            place_words=frozenset(place_words) & frozenset(name.split()),
        )
        return item

    def _rare(self, item: _Prepared) -> list[str]:
        """The record's rarest name words in the index (ties: longest first)."""
        ranked = sorted(item.tokens, key=lambda w: (self._frequency[w], -len(w), w))
        return ranked[:RARE_WORDS]

    # ---- judging a pair ----------------------------------------------------------------

    def _identifiers(self, a: _Prepared, b: _Prepared) -> list[Signal]:
        """Identifiers both records hold. A website, or any identifier that more than a
        few records share, is a network's as often as a structure's: weak evidence."""
        found = []
        for kind, label in (
            ("siret", "même SIRET"),
            ("phone", "même téléphone"),
            ("email", "même courriel"),
            ("website", "même site web"),
        ):
            value = getattr(a, kind)
            if value and value == getattr(b, kind):
                weak = kind == "website" or self._counts[value] > SHARED_IDENTIFIER
                found.append(Signal(kind, 0.5 if weak else 1.0, label))
        if not any(s.kind == "email" for s in found) and a.email and b.email:
            domain = a.email.rsplit("@", 1)[1]
            if domain == b.email.rsplit("@", 1)[1] and domain not in COMMON_DOMAINS:
                found.append(Signal("email", 0.3, f"courriels du même domaine ({domain})"))
        return found

    def _judge(self, a: _Prepared, b: _Prepared) -> Pair | None:
        ids = self._identifiers(a, b)
        strong = sum(1 for s in ids if s.strength == 1.0)
        siret = any(s.kind == "siret" for s in ids)
        cutoff = 0 if siret or strong >= 2 else 60 if strong else 75
        name = max(
            fuzz.token_sort_ratio(a.name, b.name, score_cutoff=cutoff),
            fuzz.token_set_ratio(a.name, b.name, score_cutoff=cutoff + 6) - 6,
        )
        if name < cutoff:
            return None
        place, km = _place(a, b)
        same_address = _same_address(a, b) if place == "same" else False
        distinct = _distinct_words(a.tokens, b.tokens) or (
            place in ("near", "far") and bool(a.place_words - b.tokens or b.place_words - a.tokens)
        )
        if not _likely(name, distinct, place, strong, same_address, siret):
            return None
        signals = [Signal("name", round(name / 100, 2), f"noms semblables à {name:.0f} %")]
        signals.extend(ids)
        if place == "same":
            signals.append(Signal("place", 1.0, "même commune"))
        elif place == "near":
            signals.append(Signal("place", 0.6, f"communes voisines ({km:.0f} km)"))
        if same_address:
            signals.append(Signal("address", 1.0, "même adresse"))
        score = 0.55 * name / 100 + sum(0.15 * s.strength for s in signals[1:])
        return Pair(a.record.key, b.record.key, round(min(score, 1.0), 3), tuple(signals))


def _likely(
    name: float, distinct: bool, place: str, strong: int, same_address: bool, siret: bool
) -> bool:
    """The decision: a name alone is enough only close by and without a word of its own on
    each side; identifiers make up for a looser name. A SIRET names one establishment: the
    same one is a duplicate whatever the names, unless the names and places differ, which
    is an antenna registered under its head office's SIRET."""
    if strong >= 2 or (siret and not (distinct and place in ("near", "far"))):
        return True
    if strong >= 1 and place != "far" and (name >= 80 or (not distinct and name >= 60)):
        return True
    if distinct:
        return False
    if same_address and name >= 75:
        return True
    threshold = {"same": 85, "near": 90, "unknown": 92, "far": 101}[place]
    return name >= threshold


def _distinct_words(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether a name has a word of its own that the other lacks, not even misspelt
    ("valence" vs "romans", "valence" vs "valence nord"): the mark of two sites or two
    homonyms rather than one structure. Generic words ("association") do not count."""
    only_a, only_b = a - b, b - a
    return any(not any(_typo(w, v) for v in only_b) for w in only_a - GENERIC_WORDS) or any(
        not any(_typo(w, v) for v in only_a) for w in only_b - GENERIC_WORDS
    )


def _typo(a: str, b: str) -> bool:
    return fuzz.ratio(a, b) >= (80 if min(len(a), len(b)) >= 4 else 100)


def _place(a: _Prepared, b: _Prepared) -> tuple[str, float]:
    """same / near / far / unknown, and the distance when near."""
    if not a.record.communes or not b.record.communes:
        return "unknown", 0.0
    if set(a.record.communes) & set(b.record.communes):
        return "same", 0.0
    if a.points and b.points:
        km = min(distance_km(p, q) for p in a.points for q in b.points)
        if km <= NEARBY_KM:
            return "near", km
    return "far", 0.0


def _same_address(a: _Prepared, b: _Prepared) -> bool:
    return any(fuzz.token_sort_ratio(x, y) >= 90 for x in a.addresses for y in b.addresses)


def _keys(item: _Prepared, rare: list[str]) -> Iterator[str]:
    """Blocking keys: identifiers, and the rarest name words (their first five letters,
    so a typo further on still meets) within the commune and within map cells: four grids
    shifted by half a cell, so that two places less than half a cell apart share a cell
    in one of them."""
    for value in (item.siret, item.phone, item.email, item.website):
        if value:
            yield f"i:{value}"
    stems = {w[:5] for w in rare}
    communes = [f"c:{c}" for c in item.record.communes]
    # Within a commune, also the first three letters: a typo in the fourth still meets.
    for short in {w[:3] for w in rare if len(w) >= 5}:
        for commune in communes:
            yield f"{commune}:{short}"
    places = list(communes)
    for lat, lon in item.points:
        for shift_lat, shift_lon in ((0, 0), (0.5, 0), (0, 0.5), (0.5, 0.5)):
            row = math.floor(lat / _CELL_LAT + shift_lat)
            column = math.floor(lon / _CELL_LON + shift_lon)
            places.append(f"g{shift_lat}{shift_lon}:{row}:{column}")
    for stem in stems:
        yield f"n:{stem}"
        for place in places:
            yield f"{place}:{stem}"


def _best_first(pairs: Sequence[Pair]) -> list[Pair]:
    return sorted(pairs, key=lambda p: (-p.score, p.left, p.right))


def find_duplicates(
    records: Iterable[Record],
    gazetteer: Gazetteer | None = None,
    focus: Collection[str] | None = None,
) -> list[Pair]:
    """Likely duplicate pairs among `records`, best first (only those with a side whose key
    is in `focus`, when given)."""
    return Matcher(records, gazetteer).pairs(focus)


def duplicates_of(
    new: Sequence[Record], existing: Iterable[Record], gazetteer: Gazetteer | None = None
) -> list[Pair]:
    """Likely duplicates of `new` records among `existing` ones and among themselves (new
    on the left). A new record with the key of an existing one is an update of it, not a
    duplicate."""
    keys = {r.key for r in new}
    matcher = Matcher((r for r in existing if r.key not in keys), gazetteer)
    found = [pair for record in new for pair in matcher.matches(record)]
    found.extend(Matcher(new, matcher._gazetteer).pairs())
    return _best_first(found)
