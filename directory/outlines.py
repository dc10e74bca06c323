"""Simplified commune outlines, shipped with the project so that maps work offline.

One gzip'd JSON file per département in `directory/data/outlines/` (INSEE code -> GeoJSON
geometry, Polygon or MultiPolygon, WGS84 longitude/latitude), built by
`scripts/build_outlines.py`; see `directory/data/PROVENANCE.md` for the source and licence.
A territory loads only the départements it needs, each once per process."""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Iterable
from pathlib import Path

OUTLINES_DIR = Path(__file__).resolve().parent / "data" / "outlines"

_DEPARTEMENT = re.compile(r"^(?:\d{2,3}|2[AB])$")

# The arrondissements municipaux of Paris, Lyon and Marseille have no outline of their own
# here: they are drawn as their parent commune (as the gazetteer treats them).
_PLM_PARENTS: dict[str, str] = {
    **{str(code): "75056" for code in range(75101, 75121)},
    **{str(code): "69123" for code in range(69381, 69390)},
    **{str(code): "13055" for code in range(13201, 13217)},
}


def departement_of(insee: str) -> str:
    """The département code of an INSEE commune code: "26362" -> "26", "2A004" -> "2A",
    "97101" -> "971"."""
    insee = insee.strip().upper()
    return insee[:3] if insee.startswith("97") else insee[:2]


@functools.cache
def _load(departement: str) -> dict[str, dict]:
    path = OUTLINES_DIR / f"{departement}.json.gz"
    try:
        with gzip.open(path, "rb") as raw:
            return json.load(raw)
    except FileNotFoundError:
        return {}


def load_outlines(departement: str) -> dict[str, dict]:
    """INSEE code -> GeoJSON geometry of every commune of `departement` ("26", "2A",
    "971"); empty for an unknown département. Read once per process; the dict returned is
    a fresh copy, the geometries are shared and must not be modified."""
    return dict(_load_checked(departement))


def _load_checked(departement: str) -> dict[str, dict]:
    code = departement.strip().upper()
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    return _load(code) if _DEPARTEMENT.match(code) else {}


def outlines_for(insee_codes: Iterable[str]) -> dict[str, dict]:
    """INSEE code -> GeoJSON geometry for the given communes, loading only the départements
    they belong to. Codes without an outline (unknown, or the few communes restored too
    recently for the source) are left out; an arrondissement municipal gets its parent's."""
    wanted: dict[str, str] = {}
    for raw in insee_codes:
        code = raw.strip().upper()
        wanted[code] = _PLM_PARENTS.get(code, code)
    found: dict[str, dict] = {}
    for code, source in wanted.items():
        geometry = _load_checked(departement_of(source)).get(source)
        if geometry is not None:
            found[code] = geometry
    return found
