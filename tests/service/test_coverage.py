"""Territorial coverage through the API, the page, the exports and `maillage gaps`, on
communes of the Drôme: Valence, Bourg-lès-Valence (2 km away) and Die (about 43 km)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from directory.vocabulary import Domain
from service.accounts.store import Role
from service.cli import main
from tests import factories as f

VALENCE, BOURG, DIE = "26362", "26058", "26113"


async def _territory(client) -> tuple[str, dict, str]:
    ml = await f.structure("Mission Locale")
    headers = await f.api_client_headers(Role.COORDINATOR, of=ml)
    foyer, _ = await f.partner("Foyer de Valence", VALENCE)
    await f.person(foyer, "Léna", "Faure")
    await f.person(foyer, "Marc", "Petit")
    created = await client.post(
        "/api/v1/territories",
        json={"name": "Territoire test", "codes": [VALENCE, BOURG, DIE]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], headers, str(foyer)


def _cells(body, domain="housing"):
    return {c["insee"]: c for c in body["cells"] if c["domain"] == domain}


async def test_coverage_classes_by_distance_and_what_if(client):
    territory, headers, foyer = await _territory(client)
    body = (await client.get(f"/api/v1/territories/{territory}/coverage", headers=headers)).json()
    housing = _cells(body)
    assert housing[VALENCE]["klass"] == "fragile" and housing[BOURG]["klass"] == "fragile"
    assert housing[VALENCE]["reasons"] == ["one_partner"]
    assert housing[DIE]["klass"] == "gap"  # 43 km: beyond the 15 km reach
    assert _cells(body, "health")[VALENCE]["klass"] == "gap"
    summary = body["population_summary"]["housing"]
    assert summary["gap"] > 0 and summary["fragile"] > 60_000 and summary["covered"] == 0
    assert body["worst_holes"][0]["klass"] == "gap"

    residence, _ = await f.partner("Résidence sociale", BOURG)
    await f.person(residence, "Ana", "Lopes")  # known, so its loss is a fragility
    body = (
        await client.get(
            f"/api/v1/territories/{territory}/coverage?domain=housing&without={foyer}",
            headers=headers,
        )
    ).json()
    assert _cells(body)[VALENCE]["klass"] == "covered"
    worse = {
        (w["after"]["insee"], w["before"]["klass"], w["after"]["klass"]) for w in body["what_if"]
    }
    assert (VALENCE, "covered", "fragile") in worse


async def test_zone_covers_far_communes_and_remote_is_apart(client):
    territory, headers, _ = await _territory(client)
    await f.partner("Service départemental", VALENCE, zone=["26"], domains=(Domain.HEALTH,))
    await f.partner(
        "Écoute à distance", VALENCE, on_site=False, remote=True, domains=(Domain.MOBILITY,)
    )
    body = (await client.get(f"/api/v1/territories/{territory}/coverage", headers=headers)).json()
    assert _cells(body, "health")[DIE]["providers"] != []
    mobility = _cells(body, "mobility")[DIE]
    assert mobility["klass"] == "gap" and len(mobility["remote"]) == 1


async def test_unmet_searches_are_shown_as_demand(client):
    territory, headers, _ = await _territory(client)
    await client.get("/api/v1/search", params={"commune": DIE, "need": "santé"}, headers=headers)
    body = (await client.get(f"/api/v1/territories/{territory}/coverage", headers=headers)).json()
    assert {"insee": DIE, "commune": "Die", "domain": "health", "searches": 1} in body[
        "unmet_searches"
    ]


async def test_exports_and_page(client):
    territory, headers, _ = await _territory(client)
    csv_text = (
        await client.get(f"/api/v1/territories/{territory}/export/csv", headers=headers)
    ).text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(rows) == 3 * 11
    geojson = (
        await client.get(
            f"/api/v1/territories/{territory}/export/geojson?domain=housing", headers=headers
        )
    ).json()
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) == 3
    assert geojson["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    svg = await client.get(f"/api/v1/territories/{territory}/export/svg", headers=headers)
    root = ET.fromstring(svg.content)
    assert root.tag.endswith("svg")
    page = await client.get(f"/territoires/{territory}?domaine=housing", headers=headers)
    assert page.status_code == 200
    assert "Die" in page.text and f'id="commune-{DIE}"' in page.text
    # The map is drawn by Leaflet from the app's GeoJSON (no inline SVG, so no nested links).
    assert 'id="gapmap"' in page.text and "<svg" not in page.text
    assert f"/api/v1/territories/{territory}/communes.geojson?domain=housing" in page.text


async def test_bad_territory_is_refused(client):
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await client.post(
        "/api/v1/territories", json={"name": "X", "codes": ["99999"]}, headers=headers
    )
    assert response.status_code == 400 and "99999" in response.json()["errors"]["codes"]


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_gaps_command(database_url):
    from directory.territories import save

    async def setup() -> None:
        await f.partner("Foyer de Valence", VALENCE)
        await save("Territoire test", [VALENCE, DIE])

    asyncio.run(setup())
    result = CliRunner().invoke(
        main, ["--database-url", database_url, "gaps", "Territoire test", "--domain", "housing"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    # The foyer has nobody in the directory: its contact is unknown, not fragile.
    assert {r["insee"]: r["class"] for r in rows} == {VALENCE: "unknown", DIE: "gap"}
    geo = CliRunner().invoke(
        main,
        [
            "--database-url",
            database_url,
            "gaps",
            "Territoire test",
            "--format",
            "geojson",
            "--domain",
            "housing",
        ],
    )
    assert len(json.loads(geo.stdout)["features"]) == 2
    missing = CliRunner().invoke(main, ["--database-url", database_url, "gaps", "Nulle part"])
    assert missing.exit_code != 0 and "introuvable" in missing.output


async def test_what_if_a_person_leaves(client):
    territory, headers, foyer = await _territory(client)  # the foyer has two people
    second, _ = await f.partner("Résidence sociale", BOURG)
    await f.person(second, "Ana", "Lopes")  # the residence rests on one person
    url = f"/api/v1/territories/{territory}/coverage?domain=housing"
    before = (await client.get(url, headers=headers)).json()
    assert _cells(before)[VALENCE]["klass"] == "covered"
    marc = next(
        p["id"]
        for p in (await client.get(f"/api/v1/structures/{foyer}", headers=headers)).json()["people"]
        if p["first_name"] == "Marc"
    )
    body = (await client.get(f"{url}&without_person={marc}", headers=headers)).json()
    # Without Marc the foyer rests on Léna alone: every partner of Valence is then fragile.
    worse = {
        (w["after"]["insee"], w["before"]["klass"], w["after"]["klass"]) for w in body["what_if"]
    }
    assert (VALENCE, "covered", "fragile") in worse


async def test_territory_form_with_codes_csv_and_reach(client):
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get("/territoires")
    token = f.csrf_token(page.text)
    created = await client.post(
        "/territoires",
        data={
            "name": "Valence et Die",
            "codes": f"{VALENCE} {DIE}",
            "reach": "santé=40",
            "_csrf_token": token,
        },
        files={"csv": ("communes.csv", f"code;nom\n{BOURG};Bourg-lès-Valence\n".encode())},
    )
    assert created.status_code == 200, created.text
    assert "Couverture&nbsp;: Valence et Die" in created.text
    from directory.territories import all_territories

    [territory] = await all_territories()
    assert sorted(territory.communes) == sorted([VALENCE, DIE, BOURG])
    assert territory.reach_km["health"] == 40
    bad = await client.post(
        "/territoires",
        data={"name": "X", "codes": "99999", "reach": "astrologie=3", "_csrf_token": token},
        files={"csv": ("vide.csv", b"")},
    )
    assert bad.status_code == 400 and 'id="reach-error"' in bad.text
