"""Territories from commune, EPCI and département codes, typed or from a CSV."""

from __future__ import annotations

import pytest

from directory.errors import Invalid
from directory.gazetteer import load_gazetteer
from directory.territories import codes_from_text, expand, get, save

VALENCE_ROMANS_AGGLO = "200068781"


def test_codes_from_a_form_or_a_csv():
    assert codes_from_text("26362, 26058 200068781") == ["26362", "26058", "200068781"]
    csv_text = "code;nom\n26362;Valence\n26058;Bourg-lès-Valence\n"
    assert codes_from_text(csv_text) == ["26362", "26058"]


def test_epci_and_departement_expand_to_their_communes():
    gazetteer = load_gazetteer()
    agglo, unknown = expand([VALENCE_ROMANS_AGGLO])
    assert unknown == []
    assert "26362" in agglo and "26281" in agglo  # Valence and Romans
    assert all(gazetteer.get(c).epci == VALENCE_ROMANS_AGGLO for c in agglo)
    drome, _ = expand(["26"])
    assert len(drome) == sum(1 for c in gazetteer if c.departement == "26")
    assert set(agglo) < set(drome)
    _, unknown = expand(["26362", "99999", "atlantide", "france"])
    assert unknown == ["99999", "atlantide", "france"]


async def test_save_a_territory_with_its_reach(database_url):
    territory_id = await save(
        "Mission Locale Valence", [VALENCE_ROMANS_AGGLO, "26108"], {"mobility": 25}
    )
    territory = await get(territory_id)
    assert "26108" in territory.communes and territory.population > 200_000
    assert territory.reach_km["mobility"] == 25
    assert territory.reach_km["health"] == 30 and territory.reach_km["housing"] == 15


async def test_bad_territories_are_refused_with_the_codes_named(database_url):
    with pytest.raises(Invalid) as refused:
        await save("", ["26362", "99999"], {"health": 500})
    assert "99999" in refused.value.errors["codes"]
    assert "name" in refused.value.errors
