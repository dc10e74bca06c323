"""Likely duplicates through the real stack, on SQLite and PostgreSQL: the creation form
and the API stop before a likely duplicate until confirmed, the importers warn, and the
review page and API are for coordinators."""

from __future__ import annotations

import re
from pathlib import Path

from directory import csv_io
from directory.data_inclusion import Raw, import_records
from directory.tables import Structure
from service.accounts.store import Role
from tests import factories as f

VALENCE = "26362"
DIE = "26113"


async def _mission_locale() -> str:
    structure_id = await f.structure(
        "Mission Locale Valence Drôme des Collines", siret="44321538000009", phone="04 75 82 11 20"
    )
    await f.site(structure_id, VALENCE, address="14 rue Bouffier")
    return str(structure_id)


def _once(html: str) -> str:
    match = re.search(r'name="_once" value="([^"]+)"', html)
    assert match, "no one-time key in the form"
    return match.group(1)


async def _named(name: str) -> int:
    return await Structure.count().where(Structure.name == name)


async def test_the_form_shows_likely_duplicates_and_creates_only_when_confirmed(client):
    existing = await _mission_locale()
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get("/structures/nouvelle")
    form = {
        "name": "ML Valence Drome des Collines",
        "kind": "mission-locale",
        "status": "active",
        "_csrf_token": f.csrf_token(page.text),
        "_once": _once(page.text),
    }
    warned = await client.post("/structures/nouvelle", data=form)
    assert warned.status_code == 409
    assert "Cette structure existe peut-être déjà" in warned.text
    assert f'href="/structures/{existing}"' in warned.text
    assert "Ouvrir la fiche existante" in warned.text and "Créer quand même" in warned.text
    assert "noms semblables" in warned.text
    assert 'value="ML Valence Drome des Collines"' in warned.text  # what was typed stays
    assert await _named(form["name"]) == 0

    again = {**form, "_once": _once(warned.text), "confirm_duplicate": "oui"}
    created = await client.post("/structures/nouvelle", data=again)
    assert created.status_code == 200 and form["name"] in created.text
    assert await _named(form["name"]) == 1
    # The same confirmed submission sent twice still creates one structure.
    repeated = await client.post("/structures/nouvelle", data=again)
    assert repeated.status_code == 200
    assert await _named(form["name"]) == 1


async def test_the_form_creates_a_structure_without_likely_duplicates_at_once(client):
    await _mission_locale()
    await f.logged_in(client, Role.COORDINATOR)
    data = {"name": "Mission Locale Die", "kind": "mission-locale", "status": "active"}
    response = await f.form_post(client, "/structures/nouvelle", data)
    assert response.status_code == 200 and "Cette structure existe" not in response.text
    assert await _named("Mission Locale Die") == 1


async def test_the_api_answers_409_with_candidates_unless_confirmed(client):
    existing = await _mission_locale()
    headers = await f.api_client_headers(Role.COORDINATOR)
    body = {"name": "Permanence jeunes", "siret": "443 215 380 00009", "phone": "+33475821120"}
    refused = await client.post("/api/v1/structures", json=body, headers=headers)
    assert refused.status_code == 409, refused.text
    [candidate] = refused.json()["candidates"]
    assert candidate["structure"]["id"] == existing
    assert refused.json()["status_code"] == 409 and refused.json()["detail"]
    assert {e["kind"] for e in candidate["evidence"]} >= {"siret", "phone"}
    assert await _named("Permanence jeunes") == 0

    confirmed = await client.post(
        "/api/v1/structures?confirm_duplicate=true", json=body, headers=headers
    )
    assert confirmed.status_code == 201, confirmed.text
    other = {"name": "Mission Locale Romans"}
    assert (await client.post("/api/v1/structures", json=other, headers=headers)).status_code == 201
    schema = (await client.get("/api/schema/openapi.json", headers=headers)).json()
    create = schema["paths"]["/api/v1/structures"]["post"]
    assert "409" in create["responses"]
    [confirm] = [p for p in create["parameters"] if p["name"] == "confirm_duplicate"]
    assert confirm["in"] == "query" and "true" in confirm["description"]


async def test_an_invalid_structure_is_refused_before_any_duplicate_check(client):
    await _mission_locale()
    headers = await f.api_client_headers(Role.COORDINATOR)
    body = {"name": "Mission Locale Valence Drôme des Collines", "siret": "123"}
    response = await client.post("/api/v1/structures", json=body, headers=headers)
    assert response.status_code == 400 and "siret" in response.text


async def test_review_page_and_api_list_pairs_best_first_for_coordinators(client):
    existing = await _mission_locale()
    copy = await f.structure("MISSION LOCALE VALENCE DROME DES COLLINES", phone="0475821120")
    await f.site(copy, VALENCE, address="2 avenue Victor Hugo")
    near = await f.structure("Mission Locale Valence Drome des Colines")
    await f.site(near, VALENCE)
    network = await f.structure("Mission Locale Die")
    await f.site(network, DIE)
    await f.logged_in(client, Role.COORDINATOR)

    page = await client.get("/structures/doublons?scope=d:26")
    assert page.status_code == 200
    assert "3 paires à examiner" in page.text
    for structure_id in (existing, copy, near):
        assert f'href="/structures/{structure_id}"' in page.text
    assert f'href="/structures/{network}"' not in page.text
    assert "même téléphone" in page.text and "même commune" in page.text

    headers = await f.api_client_headers(Role.COORDINATOR)
    url = "/api/v1/directory/duplicates?scope=d:26"
    listing = (await client.get(url, headers=headers)).json()
    assert listing["total"] == 3
    scores = [p["score"] for p in listing["items"]]
    assert scores == sorted(scores, reverse=True)
    best = listing["items"][0]
    assert {best["left"]["id"], best["right"]["id"]} == {existing, str(copy)}
    second = await client.get(f"{url}&page=2&page_size=2", headers=headers)
    assert len(second.json()["items"]) == 1


async def test_advisors_cannot_review_duplicates(client):
    await f.logged_in(client, Role.ADVISOR)
    assert (await client.get("/structures/doublons")).status_code == 403
    headers = await f.api_client_headers(Role.ADVISOR)
    response = await client.get("/api/v1/directory/duplicates", headers=headers)
    assert response.status_code == 403


async def test_csv_import_warns_of_likely_duplicates_and_imports_them(client, tmp_path: Path):
    await _mission_locale()
    (tmp_path / "structures.csv").write_text(
        "id,name,kind,phone\n"
        "11111111-1111-4111-8111-111111111111,ML Valence Drôme des Collines,mission-locale,\n"
        "22222222-2222-4222-8222-222222222222,Restos du cœur Die,association,04 75 22 00 00\n"
        "33333333-3333-4333-8333-333333333333,Restos du coeur Die,association,04 75 22 00 00\n",
        encoding="utf-8",
    )
    (tmp_path / "sites.csv").write_text(
        "structure_id,commune\n"
        f"11111111-1111-4111-8111-111111111111,{VALENCE}\n"
        f"22222222-2222-4222-8222-222222222222,{DIE}\n"
        f"33333333-3333-4333-8333-333333333333,{DIE}\n",
        encoding="utf-8",
    )
    result = await csv_io.import_directory(tmp_path)
    duplicates = [w for w in result.warnings if "doublon probable" in w]
    assert len(duplicates) == 2, result.warnings
    assert any("ligne 2" in w and "déjà dans l'annuaire" in w for w in duplicates)
    assert any("ligne 3" in w and "(ligne 4) du même fichier" in w for w in duplicates)
    assert "doublon probable" in result.report
    assert await Structure.count() == 4  # warned, not refused

    again = await csv_io.import_directory(tmp_path)  # the same ids: updates, not duplicates
    assert len([w for w in again.warnings if "doublon probable" in w]) == 2
    assert await Structure.count() == 4


def _di(record_id: str, name: str, insee: str, **fields: object) -> dict:
    return {
        "source": "dora",
        "id": record_id,
        "nom": name,
        "date_maj": "2025-03-12",
        "description": "Accueil des jeunes.",
        "code_insee": insee,
        "commune": "Valence" if insee == VALENCE else "Die",
        **fields,
    }


async def test_data_inclusion_import_warns_of_likely_duplicates(client):
    await _mission_locale()
    raws = [
        Raw("structures.json", 1, _di("ml", "Mission locale Valence Drome des Collines", VALENCE)),
        Raw("structures.json", 2, _di("r1", "Restos du cœur Die", DIE)),
        Raw("structures.json", 3, _di("r2", "RESTOS DU CŒUR DIE", DIE)),
        Raw("structures.json", 4, _di("r3", "Restos du cœur Valence", VALENCE)),
    ]
    report = await import_records(raws)
    assert report.structures.created == 4
    assert len(report.warnings) == 2, report.warnings
    assert any("élément 1" in w and "déjà dans l'annuaire" in w for w in report.warnings)
    assert any("élément 3" in w and "élément 2" in w for w in report.warnings)
    assert report.as_dict()["warnings"] == report.warnings

    again = await import_records(raws)  # an upsert by (source, id) is not a duplicate
    assert again.structures.unchanged == 4
    assert len(again.warnings) == 2
