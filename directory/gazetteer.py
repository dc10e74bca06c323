"""The French commune gazetteer, shipped with the project so that places, postcodes and
eligibility zones resolve offline (see `directory/data/PROVENANCE.md` for the sources and
`scripts/build_gazetteer.py` to rebuild the data)."""

from __future__ import annotations

import bisect
import csv
import functools
import gzip
import io
import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import OSA

from directory.text import fold_place

DATA_DIR = Path(__file__).resolve().parent / "data"
COMMUNES_FILE = DATA_DIR / "communes.csv.gz"
TERRITORIES_FILE = DATA_DIR / "territories.csv.gz"

FRANCE = "france"

# The arrondissements municipaux of Paris, Lyon and Marseille are not communes, but address
# services (BAN's `citycode`) and some files use their codes: they are aliases of the parent.
# The build script checks this table against the source data.
_PLM_ARRONDISSEMENTS: dict[str, str] = {
    **{str(code): "75056" for code in range(75101, 75121)},
    **{str(code): "69123" for code in range(69381, 69390)},
    **{str(code): "13055" for code in range(13201, 13217)},
}

_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$", re.IGNORECASE)
# "Name (38)", "Name 38", "Name, 2A", "Name 971", "Name 38100", "Name (38100)"
_QUALIFIED = re.compile(
    r"^(?P<name>.*?\D)[\s,\-–]*\(?\s*(?P<qualifier>\d{5}|\d{2,3}|2[AB])\s*\)?\s*$",
    re.IGNORECASE,
)
_GRID_DEGREES = 0.1
_EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True, slots=True)
class Commune:
    insee: str
    name: str
    postcodes: tuple[str, ...]
    departement: str
    region: str
    epci: str  # SIREN of the EPCI à fiscalité propre, '' when none
    population: int
    lat: float
    lon: float

    @property
    def label(self) -> str:
        """Name and département, e.g. "Saint-Martin (32)": homonyms are common in France."""
        return f"{self.name} ({self.departement})"


class AmbiguousPlace(Exception):
    """Several communes match; the UI shows `candidates` so the user can pick one."""

    def __init__(self, query: str, candidates: list[Commune]) -> None:
        self.query = query
        self.candidates = candidates
        shown = ", ".join(c.label for c in candidates[:10])
        more = f" et {len(candidates) - 10} autres" if len(candidates) > 10 else ""
        super().__init__(
            f"Plusieurs communes correspondent à « {query} » : {shown}{more}. "
            "Précisez le département ou le code postal."
        )


class UnknownPlace(Exception):
    """No commune matches; the message is meant to be shown as is. `suggestions` are
    communes with a close name ("valance" -> Valence), for the user to pick from."""

    def __init__(self, query: str, suggestions: Sequence[Commune] = ()) -> None:
        self.query = query
        self.suggestions = list(suggestions)
        message = f"Aucune commune ne correspond à « {query} »."
        if self.suggestions:
            shown = ", ".join(c.label for c in self.suggestions)
            message += f" Vouliez-vous dire : {shown} ?"
        super().__init__(message)


def _by_importance(commune: Commune) -> tuple[int, str]:
    return (-commune.population, commune.insee)


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _GRID_DEGREES), math.floor(lon / _GRID_DEGREES)


def _distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance: plenty for ranking communes, and stdlib only."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class Gazetteer:
    """All communes with the indices every lookup needs, built once so lookups are dict hits.

    `names` maps (kind, code) to a name, kind being "epci", "departement" or "region".
    """

    def __init__(self, communes: Iterable[Commune], names: Mapping[tuple[str, str], str]) -> None:
        self._communes: dict[str, Commune] = {
            c.insee: c for c in sorted(communes, key=lambda c: c.insee)
        }
        self._names = dict(names)
        self._by_name: dict[str, list[Commune]] = {}
        self._by_postcode: dict[str, list[Commune]] = {}
        self._by_epci: dict[str, list[str]] = {}
        self._by_departement: dict[str, list[str]] = {}
        self._grid: dict[tuple[int, int], list[Commune]] = {}
        for commune in self._communes.values():
            self._by_name.setdefault(fold_place(commune.name), []).append(commune)
            for postcode in commune.postcodes:
                self._by_postcode.setdefault(postcode, []).append(commune)
            if commune.epci:
                self._by_epci.setdefault(commune.epci, []).append(commune.insee)
            self._by_departement.setdefault(commune.departement, []).append(commune.insee)
            self._grid.setdefault(_cell(commune.lat, commune.lon), []).append(commune)
        for group in (*self._by_name.values(), *self._by_postcode.values()):
            group.sort(key=_by_importance)
        # sorted folded names, for prefix search by bisection
        self._folded_names = sorted(self._by_name)
        self._aliases = {
            arm: parent for arm, parent in _PLM_ARRONDISSEMENTS.items() if parent in self._communes
        }

    def __len__(self) -> int:
        return len(self._communes)

    def __iter__(self) -> Iterator[Commune]:
        return iter(self._communes.values())

    def __contains__(self, insee: object) -> bool:
        return isinstance(insee, str) and self.get(insee) is not None

    def get(self, insee: str) -> Commune | None:
        """The commune of an INSEE code; a Paris/Lyon/Marseille arrondissement code gives the
        city, so an address geocoded to "75111" still lands on Paris (75056)."""
        code = insee.strip().upper()
        return self._communes.get(self._aliases.get(code, code))

    def by_postcode(self, postcode: str) -> list[Commune]:
        """Communes served by a postcode, most populous first (a postcode often covers several)."""
        return list(self._by_postcode.get(postcode.strip(), ()))

    def by_name(self, name: str) -> list[Commune]:
        """Exact match on the folded name (accents, case, hyphens, "St" ignored); homonyms are
        all returned, most populous first."""
        return list(self._by_name.get(fold_place(name), ()))

    def suggest(self, prefix: str, limit: int = 10) -> list[Commune]:
        """Autocomplete: communes whose folded name starts with the folded prefix, most
        populous first, since that is what people usually mean."""
        folded = fold_place(prefix)
        if not folded or limit <= 0:
            return []
        start = bisect.bisect_left(self._folded_names, folded)
        matches: list[Commune] = []
        for key in self._folded_names[start:]:
            if not key.startswith(folded):
                break
            matches.extend(self._by_name[key])
        matches.sort(key=_by_importance)
        return matches[:limit]

    def close_to(self, query: str, limit: int = 8) -> list[Commune]:
        """Communes whose name is close to a misspelt one ("valance" -> Valence): the closest
        names first, and for one name its most populous communes first. One C-speed pass of
        rapidfuzz over the ~33,000 distinct folded names."""
        folded = fold_place(_QUALIFIED.sub(r"\g<name>", query.strip()))
        if len(folded) < 3 or limit <= 0:
            return []
        # OSA counts a wrong letter or two swapped letters as one edit (the usual typos);
        # 0.8 allows one mistake in a short name and two in a long one.
        found = process.extract(
            folded,
            self._folded_names,
            scorer=OSA.normalized_similarity,
            score_cutoff=0.8,
            limit=limit,
        )
        ranked = sorted(found, key=lambda hit: (-hit[1], _by_importance(self._by_name[hit[0]][0])))
        communes = [c for name, _score, _i in ranked for c in self._by_name[name]]
        return communes[:limit]

    def find(self, query: str) -> list[Commune]:
        """Every commune a user may mean by `query`: an INSEE code and/or a postcode (five
        digits can be both: the code's commune comes first), or a name optionally qualified
        by a département or a postcode ("Saint-Martin (38)", "Saint-Martin 38100")."""
        text = query.strip()
        if not text:
            return []
        if _CODE.match(text):
            found: list[Commune] = []
            commune = self.get(text)
            if commune is not None:
                found.append(commune)
            found.extend(c for c in self.by_postcode(text) if c not in found)
            return found
        candidates = self.by_name(text)
        if candidates:
            return candidates
        qualified = _QUALIFIED.match(text)
        if qualified is None:
            return []
        qualifier = qualified["qualifier"].upper()
        candidates = self.by_name(qualified["name"])
        if len(qualifier) == 5:
            return [c for c in candidates if qualifier in c.postcodes]
        return [c for c in candidates if c.departement == qualifier]

    def resolve(self, query: str) -> Commune:
        """The one commune meant by `query`; raises AmbiguousPlace or UnknownPlace, whose
        messages can be shown to the user as they are."""
        found = self.find(query)
        if not found:
            raise UnknownPlace(query, self.close_to(query))
        if len(found) > 1:
            raise AmbiguousPlace(query, found)
        return found[0]

    def name_of(self, kind: str, code: str) -> str:
        """Name of an "epci", "departement", "region" (or "commune"); '' when unknown."""
        if kind == "commune":
            commune = self.get(code)
            return commune.name if commune else ""
        return self._names.get((kind, code.strip().upper()), "")

    def zone_kind(self, code: str) -> str | None:
        """What a zone code designates: 'commune', 'epci', 'departement', 'france', or None."""
        text = code.strip().upper()
        if text == FRANCE.upper():
            return "france"
        if len(text) == 5 and self.get(text) is not None:
            return "commune"
        if len(text) == 9 and text in self._by_epci:
            return "epci"
        if text in self._by_departement:
            return "departement"
        return None

    def communes_of_zone(self, code: str) -> list[str]:
        """INSEE codes covered by a zone code (commune, EPCI SIREN, département or "france");
        empty for an unknown code."""
        text = code.strip().upper()
        kind = self.zone_kind(text)
        if kind == "france":
            return list(self._communes)
        if kind == "commune":
            commune = self.get(text)
            return [commune.insee] if commune else []
        if kind == "epci":
            return list(self._by_epci[text])
        if kind == "departement":
            return list(self._by_departement[text])
        return []

    def in_zone(self, insee: str, zone_codes: Iterable[str]) -> bool:
        """Whether a commune is covered by any zone code: itself, its EPCI, its département or
        "france". Cheap: no zone is expanded to its member list."""
        commune = self.get(insee)
        if commune is None:
            return False
        for zone in zone_codes:
            text = zone.strip().upper()
            if not text:
                continue
            if text == FRANCE.upper() or text in (commune.departement, commune.epci):
                return True
            alias = self.get(text) if len(text) == 5 else None
            if alias is not None and alias.insee == commune.insee:
                return True
        return False

    def nearby(self, lat: float, lon: float, km: float) -> list[Commune]:
        """Communes whose centre lies within `km` of a point, nearest first. Uses a 0.1°
        grid, so only the cells around the point are looked at."""
        if km < 0:
            return []
        dlat = km / 110.574 * 1.02
        dlon = km / (111.320 * max(math.cos(math.radians(lat)), 0.01)) * 1.02
        south, west = _cell(lat - dlat, lon - dlon)
        north, east = _cell(lat + dlat, lon + dlon)
        found: list[tuple[float, str, Commune]] = []
        if (north - south + 1) * (east - west + 1) > len(self._grid):
            cells: Iterable[list[Commune]] = self._grid.values()
        else:
            cells = (
                self._grid.get((i, j), [])
                for i in range(south, north + 1)
                for j in range(west, east + 1)
            )
        for cell in cells:
            for commune in cell:
                distance = _distance_km(lat, lon, commune.lat, commune.lon)
                if distance <= km:
                    found.append((distance, commune.insee, commune))
        found.sort(key=lambda item: item[:2])
        return [commune for _, _, commune in found]


def _read_csv_gz(path: Path) -> Iterator[dict[str, str]]:
    """Row by row: a list of the 35,000 rows left the server 10 MB heavier for good."""
    with gzip.open(path, "rb") as raw:
        yield from csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))


@functools.cache
def load_gazetteer() -> Gazetteer:
    """The shipped gazetteer, read once per process (about 35,000 communes)."""
    communes = [
        Commune(
            insee=row["insee"],
            name=row["name"],
            postcodes=tuple(row["postcodes"].split()),
            # Shared by the communes of a territory: one string each, not 35,000.
            departement=sys.intern(row["departement"]),
            region=sys.intern(row["region"]),
            epci=sys.intern(row["epci"]),
            population=int(row["population"] or 0),
            lat=float(row["lat"]),
            lon=float(row["lon"]),
        )
        for row in _read_csv_gz(COMMUNES_FILE)
    ]
    names = {(row["kind"], row["code"]): row["name"] for row in _read_csv_gz(TERRITORIES_FILE)}
    return Gazetteer(communes, names)


FORMER_FILE = DATA_DIR / "former_communes.csv.gz"


@dataclass(frozen=True, slots=True)
class FormerCode:
    """An INSEE code that is no longer a commune of the gazetteer."""

    code: str
    kind: str  # "merged": into `target` (named `name`); "com": in the collectivity `name`
    target: str
    name: str


@functools.cache
def load_former_codes() -> dict[str, FormerCode]:
    """Codes of communes merged since (communes nouvelles) and of the overseas
    collectivities' communes, from scripts/build_former_communes.py."""
    return {
        row["code"]: FormerCode(row["code"], row["kind"], row["target"], row["name"])
        for row in _read_csv_gz(FORMER_FILE)
    }
