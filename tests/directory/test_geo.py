"""The spatial pre-filter and the distance used to rank partners."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from geopy.distance import great_circle

from directory.geo import bounding_box, cell_of, cells_around, distance_km


def test_distance_is_geopys_great_circle():
    rng = random.Random(26)
    for _ in range(2000):
        a = (rng.uniform(-21.5, 51.5), rng.uniform(-63, 56))
        b = (a[0] + rng.uniform(-1, 1), a[1] + rng.uniform(-1, 1))
        assert distance_km(a, b) == pytest.approx(great_circle(a, b).km, abs=1e-9)


def test_a_server_loads_geopy_only_to_geocode_an_address():
    """geopy's package brings its geocoders and their HTTP clients: 15 to 20 MB in each
    server process, which the search index needs for itself (at most 300 MB)."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, service.app, service.cli; "
            "print(' '.join(m for m in ('geopy', 'aiohttp', 'requests') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.split() == []


def test_valence_to_romans_is_about_18_km():
    assert 17 < distance_km((44.9332, 4.89214), (45.0436, 5.0508)) < 18.5


@pytest.mark.parametrize("lat, lon", [(44.93, 4.89), (48.85, 2.35), (-21.1, 55.5), (16.2, -61.5)])
def test_every_point_within_the_radius_falls_in_a_listed_cell(lat, lon):
    rng = random.Random(7)
    radius = 15.0
    cells = set(cells_around(lat, lon, radius))
    south, west, north, east = bounding_box(lat, lon, radius)
    for _ in range(3000):
        point = (lat + rng.uniform(-0.2, 0.2), lon + rng.uniform(-0.3, 0.3))
        if distance_km((lat, lon), point) <= radius:
            assert cell_of(*point) in cells
            assert south <= point[0] <= north and west <= point[1] <= east
    # and the pre-filter stays small: a few dozen cells, not the whole country
    assert len(cells) < 40
