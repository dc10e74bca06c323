"""The shipped commune outlines, on the real data, checked against the gazetteer."""

import gzip
import itertools
import json

import pytest

from directory.gazetteer import load_gazetteer
from directory.outlines import OUTLINES_DIR, departement_of, load_outlines, outlines_for

CHECKED = ["26", "75", "2A", "971"]
# Restored too recently for the source to have an outline (see PROVENANCE.md).
KNOWN_WITHOUT_OUTLINE = {"12218", "14581", "15031", "15035", "15047", "15171", "49126", "69114"}


def rings_of(geometry: dict) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return geometry["coordinates"]
    assert geometry["type"] == "MultiPolygon"
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def polygons_of(geometry: dict) -> list[list[list[list[float]]]]:
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    return geometry["coordinates"]


def inside_ring(x: float, y: float, ring: list[list[float]]) -> bool:
    """Even–odd ray casting."""
    inside = False
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def inside(x: float, y: float, geometry: dict) -> bool:
    return any(
        inside_ring(x, y, polygon[0]) and not any(inside_ring(x, y, h) for h in polygon[1:])
        for polygon in polygons_of(geometry)
    )


def distance_to_boundary(x: float, y: float, geometry: dict) -> float:
    """In degrees, planar: only used for "very near"."""
    best = float("inf")
    for ring in rings_of(geometry):
        for (x0, y0), (x1, y1) in itertools.pairwise(ring):
            dx, dy = x1 - x0, y1 - y0
            length2 = dx * dx + dy * dy
            t = (
                0.0
                if length2 == 0
                else max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / length2))
            )
            best = min(best, ((x - x0 - t * dx) ** 2 + (y - y0 - t * dy) ** 2) ** 0.5)
    return best


def communes_of(departement: str):
    return [c for c in load_gazetteer() if c.departement == departement]


@pytest.mark.parametrize("departement", CHECKED)
def test_every_commune_of_the_departement_has_an_outline(departement):
    expected = {c.insee for c in communes_of(departement)} - KNOWN_WITHOUT_OUTLINE
    assert expected
    assert set(load_outlines(departement)) == expected


@pytest.mark.parametrize("departement", CHECKED)
def test_geometries_look_valid(departement):
    communes = communes_of(departement)
    south = min(c.lat for c in communes) - 0.5
    north = max(c.lat for c in communes) + 0.5
    west = min(c.lon for c in communes) - 0.5
    east = max(c.lon for c in communes) + 0.5
    for insee, geometry in load_outlines(departement).items():
        assert geometry["type"] in ("Polygon", "MultiPolygon"), insee
        rings = rings_of(geometry)
        assert rings, insee
        for ring in rings:
            assert len(ring) >= 4, insee
            assert ring[0] == ring[-1], insee
            assert len({tuple(p) for p in ring}) >= 3, insee
            for lon, lat in ring:
                assert west <= lon <= east and south <= lat <= north, (insee, lon, lat)
                # rounded to at most 5 decimals
                assert round(lon, 5) == lon and round(lat, 5) == lat


def test_town_halls_lie_inside_their_outline():
    outlines = load_outlines("26")
    communes = [c for c in communes_of("26") if c.insee in outlines]
    near = 0.003  # degrees, about 300 m: the simplification moves borders a little
    good = [
        c
        for c in communes
        if inside(c.lon, c.lat, outlines[c.insee])
        or distance_to_boundary(c.lon, c.lat, outlines[c.insee]) < near
    ]
    assert len(good) >= 0.95 * len(communes), sorted(
        {c.insee for c in communes} - {c.insee for c in good}
    )
    # and not trivially: a commune's point is not inside some far-away commune's outline
    valence, die = load_gazetteer().get("26362"), "26113"
    assert inside(valence.lon, valence.lat, outlines["26362"])
    assert not inside(valence.lon, valence.lat, outlines[die])


def test_outlines_for_loads_the_needed_departements():
    found = outlines_for(["26362", "2A004", "97105", "75056", "75112", "99999", "26362"])
    assert set(found) == {"26362", "2A004", "97105", "75056", "75112"}
    assert found["75112"] is found["75056"]  # an arrondissement is drawn as Paris
    assert found["26362"] == load_outlines("26")["26362"]
    assert outlines_for([]) == {}


def test_departement_codes():
    assert departement_of("26362") == "26"
    assert departement_of("2a004") == "2A"
    assert departement_of("97105") == "971"
    assert load_outlines("1") == load_outlines("01") != {}
    assert load_outlines("99") == {}
    assert load_outlines("../x") == {}


def test_files_are_deterministic_and_compact():
    files = sorted(OUTLINES_DIR.glob("*.json.gz"))
    assert len(files) >= 100
    assert sum(f.stat().st_size for f in files) < 8_000_000
    raw = (OUTLINES_DIR / "26.json.gz").read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip mtime 0
    data = json.loads(gzip.decompress(raw))
    assert list(data) == sorted(data)
