"""The gap map you can explore, through HTTP on both engines: its GeoJSON layers (for a
coordinator only, a clear 400 on a bad domain), the holes to work on first (weighed by
population, for the chosen domain), numbers in French, the what-if limited to the domain's
structures and people, and partners without any known person reported as « contact
inconnu », never as fragile."""

from __future__ import annotations

import asyncio
import re

import pytest

from directory.vocabulary import Domain
from service.accounts.store import Role
from service.demo import load_demo
from tests import factories as f

VALENCE, BOURG, GUMIANE = "26362", "26058", "26147"  # Gumiane: 20 inhabitants, 56 km away


async def _territory(client, *codes: str) -> tuple[str, dict]:
    ml = await f.structure("Mission Locale")
    headers = await f.api_client_headers(Role.COORDINATOR, of=ml)
    created = await client.post(
        "/api/v1/territories",
        json={"name": "Territoire test", "codes": list(codes) or [VALENCE, BOURG, GUMIANE]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], headers


def _section(html: str, title_id: str) -> str:
    """The text of one <section> of the page, from its title to the next section."""
    start = html.index(f'id="{title_id}"')
    return html[start : html.index("</section>", start)]


async def test_communes_geojson_for_the_map(client):
    territory, headers = await _territory(client)
    foyer, _ = await f.partner("Foyer de Valence", VALENCE)
    await f.person(foyer, "Léna", "Faure")
    await f.person(foyer, "Marc", "Petit")
    url = f"/api/v1/territories/{territory}/communes.geojson?domain=housing"
    response = await client.get(url, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    layer = response.json()
    assert layer["type"] == "FeatureCollection"
    features = {feature["id"]: feature for feature in layer["features"]}
    assert set(features) == {VALENCE, BOURG, GUMIANE}
    valence = features[VALENCE]
    assert valence["geometry"]["type"] in ("Polygon", "MultiPolygon")
    props = valence["properties"]
    assert props["code"] == VALENCE and props["name"] == "Valence"
    assert props["population"] == 64_458 and props["population_label"] == "64\u202f458"
    assert (props["class"], props["class_label"]) == ("fragile", "fragile")
    assert props["why"] == "Fragile : un seul partenaire."
    assert props["partners"] == [str(foyer)]
    assert layer["partners"] == {
        str(foyer): {"name": "Foyer de Valence", "url": f"/structures/{foyer}", "notes": []}
    }
    gap = features[GUMIANE]["properties"]
    assert gap["class"] == "gap" and gap["partners"] == []
    assert "à moins de 15 km" in gap["why"]

    sites = (
        await client.get(
            f"/api/v1/territories/{territory}/sites.geojson?domain=housing", headers=headers
        )
    ).json()
    [site] = sites["features"]
    assert site["geometry"]["type"] == "Point"
    assert site["properties"] == {
        "id": str(foyer),
        "name": "Foyer de Valence",
        "url": f"/structures/{foyer}",
    }
    # No housing partner serves health: the health layer has no site.
    health = f"/api/v1/territories/{territory}/sites.geojson?domain=health"
    assert (await client.get(health, headers=headers)).json()["features"] == []


async def test_geojson_refuses_bad_domains_and_non_coordinators(client):
    territory, headers = await _territory(client)
    bad = await client.get(
        f"/api/v1/territories/{territory}/communes.geojson?domain=astrologie", headers=headers
    )
    assert bad.status_code == 400
    assert "astrologie" in bad.json()["errors"]["domain"]
    # A French label is understood as well as a code.
    label = await client.get(
        f"/api/v1/territories/{territory}/communes.geojson?domain=Logement", headers=headers
    )
    assert label.status_code == 200
    # Like the coverage page and its exports, the layers are for signed-in staff: an
    # advisor looks for holes too; an unknown caller gets nothing.
    advisor = await f.api_client_headers(Role.ADVISOR)
    for layer in ("communes", "sites"):
        url = f"/api/v1/territories/{territory}/{layer}.geojson?domain=housing"
        assert (await client.get(url, headers=advisor)).status_code == 200
        assert (await client.get(url)).status_code == 401
    for url in (
        f"/api/v1/territories/{territory}/coverage?domain=astrologie",
        f"/api/v1/territories/{territory}/export/csv?domain=astrologie",
    ):
        refused = await client.get(url, headers=headers)
        assert refused.status_code == 400 and "astrologie" in refused.json()["errors"]["domain"]
    page = await client.get(f"/territoires/{territory}?domaine=astrologie", headers=headers)
    assert page.status_code == 400 and "astrologie" in page.text
    bad_choice = await client.get(f"/territoires/{territory}?sans=personne:xyz", headers=headers)
    assert bad_choice.status_code == 400 and "xyz" in bad_choice.text


async def test_worst_holes_weigh_population_and_follow_the_domain(client):
    territory, headers = await _territory(client)
    foyer, _ = await f.partner("Foyer de Valence", VALENCE)
    await f.person(foyer, "Léna", "Faure")
    await f.partner("Garage solidaire", VALENCE, domains=(Domain.MOBILITY,))
    body = (
        await client.get(
            f"/api/v1/territories/{territory}/coverage?domain=housing", headers=headers
        )
    ).json()
    holes = [(h["insee"], h["klass"]) for h in body["worst_holes"]]
    # Valence (64,458, its one partner rests on one person) before Gumiane (20, none).
    assert holes[0] == (VALENCE, "fragile") and (GUMIANE, "gap") in holes
    assert {h["domain"] for h in body["worst_holes"]} == {"housing"}

    page = await client.get(f"/territoires/{territory}?domaine=mobility", headers=headers)
    holes_text = _section(page.text, "holes-title")
    assert "(Mobilité)" in holes_text
    assert holes_text.index("Valence") < holes_text.index("Gumiane")
    assert "contact inconnu" in holes_text  # the garage has no known person
    # Numbers the French way, never « 64458 ».
    assert "64\u202f458 habitants" in holes_text and "64458" not in page.text
    summary = _section(page.text, "summary-title")
    assert re.search(r"\(\d+(,\d)?\u00a0%\)", summary)


async def test_structures_without_people_are_contact_inconnu_not_fragile(client):
    territory, headers = await _territory(client)
    imported = [await f.partner(name, VALENCE) for name in ("Foyer A", "Foyer B")]
    url = f"/api/v1/territories/{territory}/coverage?domain=housing"
    cells = {c["insee"]: c for c in (await client.get(url, headers=headers)).json()["cells"]}
    for insee in (VALENCE, BOURG):
        assert cells[insee]["klass"] == "unknown"
        assert cells[insee]["reasons"] == ["unknown_contact"]
    body = (await client.get(url, headers=headers)).json()
    assert body["population_summary"]["housing"]["fragile"] == 0
    assert body["population_summary"]["housing"]["unknown"] > 80_000
    layer = (
        await client.get(
            f"/api/v1/territories/{territory}/communes.geojson?domain=housing", headers=headers
        )
    ).json()
    props = next(x["properties"] for x in layer["features"] if x["id"] == VALENCE)
    assert props["class_label"] == "contact inconnu"
    assert props["why"].startswith("Contact inconnu")
    assert {layer["partners"][p]["notes"][0] for p in props["partners"]} == {
        "aucune personne connue"
    }
    page = await client.get(f"/territoires/{territory}?domaine=housing", headers=headers)
    table = _section(page.text, "table-title")
    assert "contact inconnu" in table and "gapmap-key-unknown" in table
    assert "repose sur une seule personne" not in page.text

    # Once someone is known at one foyer, that foyer vouches for the commune.
    await f.person(imported[0][0], "Léna", "Faure")
    await f.person(imported[0][0], "Marc", "Petit")
    cells = {c["insee"]: c for c in (await client.get(url, headers=headers)).json()["cells"]}
    assert cells[VALENCE]["klass"] == "covered"


async def test_what_if_offers_only_the_domain_and_shows_the_change(client):
    territory, headers = await _territory(client)
    foyer, _ = await f.partner("Foyer de Valence", VALENCE)
    await f.person(foyer, "Léna", "Faure")
    await f.person(foyer, "Marc", "Petit")
    residence, _ = await f.partner("Résidence sociale", BOURG)
    await f.person(residence, "Ana", "Lopes")
    bakery, _ = await f.partner("Boulangerie du centre", VALENCE, domains=(Domain.CULTURE,))
    await f.person(bakery, "Paul", "Pain")

    page = await client.get(f"/territoires/{territory}?domaine=housing", headers=headers)
    choices = _section(page.text, "whatif-title")
    assert f'value="structure:{foyer}"' in choices and f'value="structure:{residence}"' in choices
    assert "Boulangerie" not in choices and "Paul Pain" not in choices
    assert "Marc Petit (Foyer de Valence)" in choices

    page = await client.get(
        f"/territoires/{territory}?domaine=housing&sans=structure:{foyer}", headers=headers
    )
    result = _section(page.text, "whatif-title")
    assert "Sans Foyer de Valence" in result
    assert re.search(r"Valence</a> \(64\u202f458 habitants\) : 2 → 1 partenaire", result)
    assert "couverte → <strong>fragile</strong>" in result

    marc = next(
        p["id"]
        for p in (await client.get(f"/api/v1/structures/{foyer}", headers=headers)).json()["people"]
        if p["first_name"] == "Marc"
    )
    page = await client.get(
        f"/territoires/{territory}?domaine=housing&sans=personne:{marc}", headers=headers
    )
    result = _section(page.text, "whatif-title")
    assert "Sans Marc Petit (Foyer de Valence)" in result
    assert "couverte → <strong>fragile</strong>" in result


@pytest.fixture
def demo(database_url) -> None:
    asyncio.run(load_demo())


async def test_on_the_demo_a_what_if_choice_changes_the_map(client, demo):
    """On the demo's mobility, some partner's closing leaves communes worse off; and any
    housing partner's closing at least removes a partner from the communes it reaches."""
    await f.login(client, "coordination@demo.maillage.fr", "maillage-demo")
    listing = await client.get("/territoires")
    territory = re.search(r'href="(/territoires/[0-9a-f-]{36})"', listing.text)
    assert territory
    base = territory.group(1)
    page = await client.get(f"{base}?domaine=mobility")
    offered = re.findall(r'value="(structure:[0-9a-f-]{36})"', page.text)
    assert 1 <= len(offered) < 20  # the mobility partners, not the 150 structures
    worse = 0
    for value in offered:
        result = _section(
            (await client.get(f"{base}?domaine=mobility&sans={value}")).text, "whatif-title"
        )
        worse += "<strong>" in result
    assert worse >= 1
    housing = await client.get(f"{base}?domaine=housing")
    first = re.search(r'value="(structure:[0-9a-f-]{36})"', housing.text)
    assert first
    result = _section(
        (await client.get(f"{base}?domaine=housing&sans={first.group(1)}")).text, "whatif-title"
    )
    assert "commune(s) changeraient" in result and "→" in result
