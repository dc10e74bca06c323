"""The directory through the JSON API: create, read, update, validation and permissions."""

from __future__ import annotations

import re

from service.accounts.store import Role
from tests import factories as f

VALENCE = "26362"


async def _count(client, headers) -> int:
    return (await client.get("/api/v1/structures", headers=headers)).json()["total"]


async def test_coordinator_builds_a_partner_entry_end_to_end(client):
    headers = await f.api_client_headers(Role.COORDINATOR)
    created = await client.post(
        "/api/v1/structures",
        json={
            "name": "Résidence Habitat Jeunes du Rhône",
            "kind": "housing",
            "network": "residences-fjt",
            "siret": "732 829 320 00074",
            "phone": "04 75 00 00 01",
            "website": "https://fjt.exemple.fr",
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    structure_id = created.json()["id"]

    site = await client.post(
        f"/api/v1/structures/{structure_id}/sites",
        json={"commune": VALENCE, "address": "2 rue Sully", "opening_hours": "Mo-Fr 08:30-18:00"},
        headers=headers,
    )
    assert site.status_code == 201, site.text
    person = await client.post(
        f"/api/v1/structures/{structure_id}/people",
        json={
            "first_name": "Léa",
            "last_name": "Garnier",
            "role": "Chargée d'accueil",
            "phone": "06 12 34 56 78",
            "email": "Lea.Garnier@fjt.exemple.fr",
            "preferred_channel": "sms",
        },
        headers=headers,
    )
    assert person.status_code == 201, person.text
    service = await client.post(
        f"/api/v1/structures/{structure_id}/services",
        json={
            "name": "Logement temporaire",
            "domains": ["housing"],
            "thematiques": ["logement-hebergement--louer-un-logement"],
            "publics": ["jeunes"],
            "zone": ["26", "07"],
            "unconditional": True,
            "contact_id": person.json()["id"],
            "site_id": site.json()["id"],
        },
        headers=headers,
    )
    assert service.status_code == 201, service.text

    read = (await client.get(f"/api/v1/structures/{structure_id}", headers=headers)).json()
    assert read["siret"] == "73282932000074"
    assert read["phone"] == "+33475000001"
    assert read["sites"][0]["commune_name"] == "Valence"
    assert read["sites"][0]["postcode"] == "26000"
    assert read["sites"][0]["geocoded"] == "commune"
    assert read["people"][0]["phone"] == "+33612345678"
    assert read["people"][0]["email"] == "lea.garnier@fjt.exemple.fr"
    assert read["services"][0]["zone"] == ["26", "07"]
    assert read["services"][0]["contact_id"] == person.json()["id"]


async def test_invalid_structure_names_each_field_and_writes_nothing(client):
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await client.post(
        "/api/v1/structures",
        json={
            "name": "Association X",
            "kind": "spaceship",
            "siret": "12345678901234",
            "phone": "12",
            "email": "pas-une-adresse",
            "website": "ftp://exemple",
        },
        headers=headers,
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"kind", "siret", "phone", "email", "website"}
    assert "SIRET" in errors["siret"]
    assert await _count(client, headers) == 0


async def test_malformed_body_is_refused_with_the_field_named(client):
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await client.post("/api/v1/structures", json={"name": ""}, headers=headers)
    assert response.status_code == 400
    assert "name" in response.text
    response = await client.post(
        "/api/v1/structures", json={"name": "A", "colour": "blue"}, headers=headers
    )
    assert response.status_code == 400
    assert "colour" in response.text


async def test_site_checks_commune_postcode_and_opening_hours(client):
    structure_id = await f.structure("Antenne")
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await client.post(
        f"/api/v1/structures/{structure_id}/sites",
        json={"commune": VALENCE, "postcode": "26100", "opening_hours": "lundi matin"},
        headers=headers,
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "26000" in errors["postcode"]
    assert "OpenStreetMap" in errors["opening_hours"]
    unknown = await client.post(
        f"/api/v1/structures/{structure_id}/sites", json={"commune": "26999"}, headers=headers
    )
    assert unknown.status_code == 400
    assert "26999" in unknown.json()["errors"]["commune"]
    read = (await client.get(f"/api/v1/structures/{structure_id}", headers=headers)).json()
    assert read["sites"] == []


async def test_manual_coordinates_are_kept(client):
    structure_id = await f.structure("Antenne")
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await client.post(
        f"/api/v1/structures/{structure_id}/sites",
        json={"commune": VALENCE, "lat": 44.93, "lon": 4.89},
        headers=headers,
    )
    site = (await client.get(f"/api/v1/sites/{response.json()['id']}", headers=headers)).json()
    assert (site["lat"], site["lon"], site["geocoded"]) == (44.93, 4.89, "manual")


async def test_service_checks_zone_codes_vocabulary_and_ownership(client):
    structure_id = await f.structure("Centre")
    other = await f.structure("Autre")
    other_site = await f.site(other, VALENCE)
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await client.post(
        f"/api/v1/structures/{structure_id}/services",
        json={
            "name": "Service",
            "domains": ["health"],
            "zone": ["26", "99999", "atlantide"],
            "thematiques": ["sante--inexistante"],
            "on_site": False,
            "remote": False,
            "site_id": str(other_site),
        },
        headers=headers,
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "99999" in errors["zone"] and "atlantide" in errors["zone"]
    assert "sante--inexistante" in errors["thematiques"]
    assert "on_site" in errors
    assert "site_id" in errors
    bad_domain = await client.post(
        f"/api/v1/structures/{structure_id}/services",
        json={"name": "Service", "domains": ["astrologie"]},
        headers=headers,
    )
    assert bad_domain.status_code == 400
    read = (await client.get(f"/api/v1/structures/{structure_id}", headers=headers)).json()
    assert read["services"] == []


async def test_service_update_replaces_its_search_keys(client):
    _, service_id = await f.partner("Centre", VALENCE)
    headers = await f.api_client_headers(Role.COORDINATOR)
    search = {"commune": VALENCE, "need": "mobilité"}
    assert (await client.get("/api/v1/search", params=search, headers=headers)).json()["results"][
        "total"
    ] == 0
    response = await client.put(
        f"/api/v1/services/{service_id}",
        json={"name": "Garage solidaire", "domains": ["mobility"]},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["domains"] == ["mobility"]
    found = (await client.get("/api/v1/search", params=search, headers=headers)).json()
    assert [h["service_name"] for h in found["results"]["items"]] == ["Garage solidaire"]
    housing = {"commune": VALENCE, "need": "logement"}
    assert (await client.get("/api/v1/search", params=housing, headers=headers)).json()["results"][
        "total"
    ] == 0


async def test_person_rules(client):
    structure_id = await f.structure("Centre")
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await client.post(
        f"/api/v1/structures/{structure_id}/people",
        json={
            "first_name": "Marc",
            "last_name": "Petit",
            "preferred_channel": "phone",
            "active": True,
            "left_on": "2025-01-31",
        },
        headers=headers,
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"phone", "left_on"}
    left = await client.post(
        f"/api/v1/structures/{structure_id}/people",
        json={
            "first_name": "Marc",
            "last_name": "Petit",
            "email": "marc@exemple.fr",
            "active": False,
            "left_on": "2025-01-31",
        },
        headers=headers,
    )
    assert left.status_code == 201
    person = (await client.get(f"/api/v1/people/{left.json()['id']}", headers=headers)).json()
    assert person["active"] is False and person["left_on"] == "2025-01-31"


async def test_relationships_between_structures_and_people(client):
    mission_locale = await f.structure("Mission Locale")
    partner = await f.structure("CCAS")
    elected = await f.person(partner, "Claire", "Dumas", role="Adjointe à la jeunesse")
    headers = await f.api_client_headers(Role.COORDINATOR)
    base = f"/api/v1/structures/{mission_locale}/relationships"

    both = await client.post(
        base,
        json={
            "level": "operational",
            "target_structure_id": str(partner),
            "target_person_id": str(elected),
        },
        headers=headers,
    )
    assert both.status_code == 400 and "target" in both.json()["errors"]
    itself = await client.post(
        base,
        json={"level": "operational", "target_structure_id": str(mission_locale)},
        headers=headers,
    )
    assert itself.status_code == 400
    bad_level = await client.post(
        base, json={"level": "cosmic", "target_structure_id": str(partner)}, headers=headers
    )
    assert bad_level.status_code == 400

    to_structure = await client.post(
        base,
        json={"level": "operational", "target_structure_id": str(partner), "since": "2023-09-01"},
        headers=headers,
    )
    to_person = await client.post(
        base,
        json={
            "level": "political",
            "kind": "elected_representative",
            "target_person_id": str(elected),
        },
        headers=headers,
    )
    assert to_structure.status_code == to_person.status_code == 201

    seen_from_partner = (await client.get(f"/api/v1/structures/{partner}", headers=headers)).json()[
        "relationships"
    ]
    assert {(r["level"], r["source_name"], r["target_name"]) for r in seen_from_partner} == {
        ("operational", "Mission Locale", "CCAS"),
        ("political", "Mission Locale", "Claire Dumas"),
    }
    relationship_id = to_structure.json()["id"]
    update = await client.put(
        f"/api/v1/relationships/{relationship_id}",
        json={"level": "organisational", "target_structure_id": str(partner)},
        headers=headers,
    )
    assert update.status_code == 200
    deleted = await client.delete(f"/api/v1/relationships/{relationship_id}", headers=headers)
    assert deleted.status_code == 204
    remaining = (await client.get(f"/api/v1/structures/{partner}", headers=headers)).json()
    assert [r["level"] for r in remaining["relationships"]] == ["political"]


async def test_advisors_edit_only_their_own_structure(client):
    own = await f.structure("Ma Mission Locale")
    other = await f.structure("Autre structure")
    headers = await f.api_client_headers(Role.ADVISOR, of=own)
    refused = await client.post("/api/v1/structures", json={"name": "Nouvelle"}, headers=headers)
    assert refused.status_code == 403
    assert (
        await client.post(
            f"/api/v1/structures/{other}/sites", json={"commune": VALENCE}, headers=headers
        )
    ).status_code == 403
    assert (
        await client.put(f"/api/v1/structures/{other}", json={"name": "Piraté"}, headers=headers)
    ).status_code == 403
    assert (
        await client.put(
            f"/api/v1/structures/{own}",
            json={"name": "Ma Mission Locale (Valence)"},
            headers=headers,
        )
    ).status_code == 200
    names = {
        s["name"] for s in (await client.get("/api/v1/structures", headers=headers)).json()["items"]
    }
    assert names == {"Ma Mission Locale (Valence)", "Autre structure"}


async def test_unknown_ids_are_404(client):
    headers = await f.api_client_headers(Role.COORDINATOR)
    missing = "00000000-0000-4000-8000-000000000000"
    for path in (
        f"/api/v1/structures/{missing}",
        f"/api/v1/services/{missing}",
        f"/api/v1/sites/{missing}",
        f"/api/v1/people/{missing}",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, path


async def test_structures_list_filters_by_words_and_commune(client):
    await f.partner("Foyer Jeunes Travailleurs", VALENCE)
    await f.partner("Centre de santé", "26281")
    headers = await f.api_client_headers()
    by_word = (
        await client.get("/api/v1/structures", params={"q": "foyer"}, headers=headers)
    ).json()
    assert [s["name"] for s in by_word["items"]] == ["Foyer Jeunes Travailleurs"]
    assert by_word["items"][0]["communes"] == ["Valence"]
    by_commune = (
        await client.get("/api/v1/structures", params={"commune": "26281"}, headers=headers)
    ).json()
    assert [s["name"] for s in by_commune["items"]] == ["Centre de santé"]


async def test_communes_and_vocabulary_endpoints(client):
    headers = await f.api_client_headers()
    communes = (
        await client.get("/api/v1/communes", params={"q": "saint etienne"}, headers=headers)
    ).json()
    assert communes[0]["insee"] == "42218"
    vocabulary = (await client.get("/api/v1/vocabulary", headers=headers)).json()
    assert len(vocabulary["domains"]) == 11
    assert {lv["code"] for lv in vocabulary["levels"]} == {
        "operational",
        "organisational",
        "political",
    }


async def test_openapi_schema_and_offline_documentation_page(client):
    await f.logged_in(client)
    schema = await client.get("/api/schema/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/search" in paths and "/api/v1/structures/{structure_id}" in paths
    assert not any(p.startswith("/structures") or p == "/recherche" for p in paths)
    docs = await client.get("/api/schema")
    assert docs.status_code == 200
    external = re.findall(r"""(?:src|href)=['"](https?://[^'"]+)""", docs.text)
    assert external == []
    for asset in re.findall(r"""(?:src|href)=['"](/static/[^'"]+)""", docs.text):
        assert (await client.get(asset)).status_code == 200, asset
