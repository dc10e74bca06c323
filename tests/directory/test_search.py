"""Search correctness on known data, through the HTTP API: ordering, eligibility zones,
remote services, needs, words and filters. Places are real communes of the Drôme."""

from __future__ import annotations

import asyncio

from directory import demand
from directory.vocabulary import Domain, Level
from service.accounts.store import Role
from tests import factories as f

VALENCE, BOURG_LES_VALENCE, ROMANS, CREST, MONTELIMAR = "26362", "26058", "26281", "26108", "26198"
VALENCE_ROMANS_AGGLO = "200068781"


async def _search(client, headers, **params):
    params.setdefault("commune", VALENCE)
    response = await client.get("/api/v1/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def _names(results, key="items"):
    return [hit["structure_name"] for hit in results[key]]


async def test_results_come_nearest_first_within_the_radius(client):
    await f.partner("Foyer de Romans", ROMANS)
    await f.partner("Foyer de Valence", VALENCE)
    await f.partner("Foyer de Bourg", BOURG_LES_VALENCE)
    await f.partner("Foyer de Montélimar", MONTELIMAR)
    headers = await f.api_client_headers()

    wide = await _search(client, headers, need="logement", radius_km=30)
    assert _names(wide) == ["Foyer de Valence", "Foyer de Bourg", "Foyer de Romans"]
    distances = [hit["distance_km"] for hit in wide["items"]]
    assert distances == sorted(distances)
    assert distances[0] == 0.0 and 1 < distances[1] < 3 and 15 < distances[2] < 20

    narrow = await _search(client, headers, need="logement", radius_km=10)
    assert _names(narrow) == ["Foyer de Valence", "Foyer de Bourg"]
    assert narrow["total"] == 2


async def test_eligibility_zone_matches_beyond_the_radius(client):
    await f.partner("Centre départemental", MONTELIMAR, zone=["26"])
    await f.partner("Centre d'agglo", ROMANS, zone=[VALENCE_ROMANS_AGGLO])
    await f.partner("Centre ardéchois", MONTELIMAR, zone=["07"])
    await f.partner("Centre sans zone", CREST)
    headers = await f.api_client_headers()

    results = await _search(client, headers, need="logement", radius_km=10)
    by_name = {hit["structure_name"]: hit for hit in results["items"]}
    assert set(by_name) == {"Centre départemental", "Centre d'agglo"}
    for hit in by_name.values():
        assert hit["via_zone"] is True
        assert hit["within_radius"] is False
    assert _names(results) == ["Centre d'agglo", "Centre départemental"]  # still nearest first


async def test_remote_services_are_listed_apart(client):
    await f.partner("Écoute jeunes", MONTELIMAR, on_site=False, remote=True, zone=["26"])
    await f.partner("Plateforme Ardèche", MONTELIMAR, on_site=False, remote=True, zone=["07"])
    await f.partner("Ligne nationale", MONTELIMAR, on_site=False, remote=True)
    await f.partner("Accueil sur place", VALENCE)
    headers = await f.api_client_headers()

    results = await _search(client, headers, need="logement")
    assert _names(results) == ["Accueil sur place"]
    assert sorted(_names(results, "remote")) == ["Ligne nationale", "Écoute jeunes"]
    assert results["remote_total"] == 2

    on_site_only = await _search(client, headers, need="logement", on_site_only=True)
    assert on_site_only["remote"] == [] and on_site_only["remote_total"] == 0


async def test_need_matches_domains_and_thematiques_without_accents(client):
    await f.partner("CMP jeunes", VALENCE, (Domain.HEALTH,), thematiques=["sante--sante-mentale"])
    await f.partner("Centre de vaccination", VALENCE, (Domain.HEALTH,))
    await f.partner("Résidence FJT", VALENCE, (Domain.HOUSING,))
    headers = await f.api_client_headers()

    assert _names(await _search(client, headers, need="santé mentale")) == ["CMP jeunes"]
    assert sorted(_names(await _search(client, headers, need="sante"))) == [
        "CMP jeunes",
        "Centre de vaccination",
    ]
    assert _names(await _search(client, headers, need="Logement")) == ["Résidence FJT"]
    everything = await _search(client, headers)
    assert everything["total"] == 3


async def test_words_match_without_accents_or_case(client):
    await f.partner("Maison des adolescents", VALENCE, description="Écoute et orientation")
    await f.partner("Résidence Habitat", VALENCE)
    headers = await f.api_client_headers()
    assert _names(await _search(client, headers, words="ECOUTE")) == ["Maison des adolescents"]
    assert _names(await _search(client, headers, words="residence")) == ["Résidence Habitat"]
    assert _names(await _search(client, headers, words="residence ecoute")) == []


async def test_filters_unconditional_welcome_and_publics(client):
    await f.partner("Accueil de jour", VALENCE, unconditional=True, publics=["jeunes"])
    await f.partner("Bailleur social", VALENCE, publics=["familles"])
    headers = await f.api_client_headers()
    assert _names(await _search(client, headers, unconditional_only=True)) == ["Accueil de jour"]
    assert _names(await _search(client, headers, public="familles")) == ["Bailleur social"]
    unknown = await client.get(
        "/api/v1/search", params={"commune": VALENCE, "public": "martiens"}, headers=headers
    )
    assert unknown.status_code == 400
    assert "martiens" in unknown.text


async def test_level_filter_keeps_partners_of_my_structure(client):
    mission_locale = await f.structure("Mission Locale")
    operational, _ = await f.partner("Partenaire de terrain", VALENCE)
    political, _ = await f.partner("Mairie", VALENCE)
    await f.partner("Inconnu", VALENCE)
    await f.relationship(mission_locale, operational, Level.OPERATIONAL)
    await f.relationship(political, mission_locale, Level.POLITICAL)
    headers = await f.api_client_headers(Role.ADVISOR, of=mission_locale)

    assert _names(await _search(client, headers, level="operational")) == ["Partenaire de terrain"]
    assert _names(await _search(client, headers, level="political")) == ["Mairie"]
    everyone = await _search(client, headers)
    levels = {hit["structure_name"]: hit["partner_levels"] for hit in everyone["items"]}
    assert levels == {
        "Partenaire de terrain": ["Opérationnel"],
        "Mairie": ["Politique"],
        "Inconnu": [],
    }


async def test_closed_structures_are_not_found(client):
    structure_id, _ = await f.partner("Ancienne permanence", VALENCE)
    headers = await f.api_client_headers(Role.COORDINATOR)
    structure = (await client.get(f"/api/v1/structures/{structure_id}", headers=headers)).json()
    body = {k: structure[k] for k in ("name", "kind", "network", "siret", "description")}
    response = await client.put(
        f"/api/v1/structures/{structure_id}", json={**body, "status": "closed"}, headers=headers
    )
    assert response.status_code == 200
    assert (await _search(client, headers))["total"] == 0


async def test_results_show_contact_hours_and_welcome(client):
    structure_id = await f.structure("Point Accueil Jeunes")
    await f.site(
        structure_id,
        VALENCE,
        address="3 rue des Alpes",
        opening_hours="Mo-Fr 09:00-12:00,14:00-17:00",
        walk_in=True,
    )
    person = await f.person(
        structure_id,
        "Inès",
        "Roux",
        phone="04 75 12 34 56",
        preferred_channel="phone",
        role="Éducatrice",
    )
    await f.service(structure_id, "Accueil écoute", contact_id=person, unconditional=True)
    headers = await f.api_client_headers()
    [hit] = (await _search(client, headers))["items"]
    assert hit["contact"]["name"] == "Inès Roux"
    assert hit["contact"]["phone"] == "+33475123456"
    assert hit["contact"]["phone_display"] == "04 75 12 34 56"
    assert hit["contact"]["preferred_channel_label"] == "Téléphone"
    assert hit["opening_hours"] == "Mo-Fr 09:00-12:00,14:00-17:00"
    assert hit["unconditional"] is True and hit["walk_in"] is True
    assert hit["address"] == "3 rue des Alpes" and hit["commune_name"] == "Valence"


async def test_pages_do_not_overlap(client):
    for number in range(25):
        await f.partner(f"Partenaire {number:02d}", VALENCE)
    headers = await f.api_client_headers()
    first = await _search(client, headers, page=1)
    second = await _search(client, headers, page=2)
    assert first["total"] == second["total"] == 25
    assert len(first["items"]) == 20 and len(second["items"]) == 5
    assert not set(_names(first)) & set(_names(second))


async def test_homonyms_are_asked_about_and_unknown_places_named(client):
    headers = await f.api_client_headers()
    ambiguous = await client.get("/api/v1/search", params={"place": "Valence"}, headers=headers)
    assert ambiguous.status_code == 400
    labels = {c["label"] for c in ambiguous.json()["candidates"]}
    assert {"Valence (26)", "Valence (82)"} <= labels
    unknown = await client.get("/api/v1/search", params={"place": "Atlantide"}, headers=headers)
    assert unknown.status_code == 400
    assert "Atlantide" in unknown.json()["detail"]
    qualified = await client.get(
        "/api/v1/search", params={"place": "valence (26)"}, headers=headers
    )
    assert qualified.status_code == 200
    assert qualified.json()["results"]["commune"] == VALENCE


async def test_search_page_shows_results_and_asks_about_homonyms(client):
    await f.partner("Foyer de Bourg", BOURG_LES_VALENCE, unconditional=True)
    await f.logged_in(client)
    page = await client.get("/recherche", params={"place": "Valence", "need": "logement"})
    assert page.status_code == 200
    assert "Plusieurs communes correspondent" in page.text
    assert f"commune={VALENCE}" in page.text

    page = await client.get("/recherche", params={"commune": VALENCE, "need": "logement"})
    assert page.status_code == 200
    assert "Foyer de Bourg" in page.text
    assert "1,5 km" in page.text
    assert "Accueil sans condition" in page.text

    page = await client.get("/recherche", params={"place": "Atlantide"})
    assert page.status_code == 400
    assert "Aucune commune ne correspond" in page.text


async def test_searches_are_recorded_without_personal_data(client):
    from directory.tables import SearchRecord

    await f.partner("Foyer de Valence", VALENCE)
    headers = await f.api_client_headers()
    await _search(client, headers, need="logement")
    await _search(client, headers, commune=CREST, need="santé", radius_km=5)
    await _search(client, headers, commune=CREST, need="santé", radius_km=5, page=2)
    await demand.flush()  # written in batches after the answers (directory/demand.py)
    rows = await SearchRecord.select(
        SearchRecord.commune, SearchRecord.domains, SearchRecord.results
    ).order_by(SearchRecord.at)
    assert rows == [
        {"commune": VALENCE, "domains": ["housing"], "results": 1},
        {"commune": CREST, "domains": ["health"], "results": 0},
    ]


async def test_demand_signals_reach_the_database_on_their_own(client):
    """Without anyone flushing: another server process reads them from the database."""
    from directory.tables import SearchRecord

    headers = await f.api_client_headers()
    for _ in range(3):
        await _search(client, headers, commune=CREST, need="santé", radius_km=5)
    for _ in range(100):  # FLUSH_AFTER is 0.2 s
        if await SearchRecord.count() == 3:
            break
        await asyncio.sleep(0.05)
    assert await SearchRecord.count() == 3
