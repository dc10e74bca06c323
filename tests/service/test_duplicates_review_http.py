"""The duplicates review by territory through the real stack, on SQLite and PostgreSQL:
the page and API default to the coordinator's territory and look at one département or
territory at a time (with the pairs across its border and those sharing an identifier far
away), the whole of France is for administrators, a pair dismissed as "pas un doublon"
never comes back, a merged pair leaves the list and a structure created despite the
warning joins it."""

from __future__ import annotations

import re
from uuid import UUID

from directory import territories
from service.accounts.store import Role
from tests import factories as f

VALENCE, DIE = "26362", "26113"
GUILHERAND = "07102"  # across the Rhône from Valence, in Ardèche
PRIVAS = "07186"
LILLE = "59350"
VALENCE_AGGLO = "200068781"  # the EPCI of Valence, not of Die


async def _at(name: str, commune: str, **fields: object) -> str:
    structure_id = await f.structure(name, **fields)
    await f.site(structure_id, commune)
    return str(structure_id)


async def _directory() -> dict[str, tuple[str, str]]:
    """Five pairs: in Die (26), in Privas (07), across the Rhône (26-07), and one SIRET, one
    phone and e-mail (written otherwise) in Valence and in Lille."""
    return {
        "die": (
            await _at("Atelier Vélo Solidaire", DIE),
            await _at("ATELIER VELO SOLIDAIRE", DIE),
        ),
        "privas": (
            await _at("Foyer Les Castors", PRIVAS),
            await _at("Foyer les Castors", PRIVAS),
        ),
        "rhone": (
            await _at("Espace jeunes du Rhône", VALENCE),
            await _at("Espace Jeunes du Rhone", GUILHERAND),
        ),
        "siret": (
            await _at("Tremplin Insertion Jeunes", VALENCE, siret="44321538000009"),
            await _at("Tremplin insertion jeunes", LILLE, siret="443 215 380 00009"),
        ),
        "phone": (
            await _at("Maison des familles", VALENCE, phone="04 75 11 22 33", email="mdf@cafe.fr"),
            await _at("Maison des Familles", LILLE, phone="+33475112233", email="MDF@cafe.fr"),
        ),
    }


def _shown(html: str) -> set[frozenset[str]]:
    pairs = set()
    for item in re.findall(r"<ul class=\"pair\">(.*?)</ul>", html, re.S):
        pairs.add(frozenset(re.findall(r'href="/structures/([0-9a-f-]{36})"', item)))
    return pairs


def _listed(body: dict) -> set[frozenset[str]]:
    return {frozenset((p["left"]["id"], p["right"]["id"])) for p in body["items"]}


def _pairs(found: dict[str, tuple[str, str]], *names: str) -> set[frozenset[str]]:
    return {frozenset(found[n]) for n in names}


async def test_the_page_and_api_show_the_pairs_of_one_territory(client):
    found = await _directory()
    mission_locale = await _at("Mission Locale Valence", VALENCE)
    await f.logged_in(client, Role.COORDINATOR, of=UUID(mission_locale))

    # By default, the département of the coordinator's structure.
    page = await client.get("/structures/doublons")
    assert page.status_code == 200
    assert "Doublons probables : Drôme (26)" in page.text
    assert _shown(page.text) == _pairs(found, "die", "rhone", "siret", "phone")
    assert 'value="france"' not in page.text  # the whole country is for administrators

    ardeche = await client.get("/structures/doublons?scope=d:07")
    assert _shown(ardeche.text) == _pairs(found, "privas", "rhone")
    assert (await client.get("/structures/doublons?scope=france")).status_code == 403
    assert (await client.get("/structures/doublons?scope=d:99")).status_code == 400

    headers = await f.api_client_headers(Role.COORDINATOR, of=UUID(mission_locale))
    api = await client.get("/api/v1/directory/duplicates", headers=headers)
    assert api.status_code == 200 and _listed(api.json()) == _pairs(
        found, "die", "rhone", "siret", "phone"
    )
    ardeche_api = await client.get("/api/v1/directory/duplicates?scope=d:07", headers=headers)
    assert _listed(ardeche_api.json()) == _pairs(found, "privas", "rhone")
    france = await client.get("/api/v1/directory/duplicates?scope=france", headers=headers)
    assert france.status_code == 403


async def test_the_territory_of_the_coordinators_structure_comes_first(client):
    found = await _directory()
    mission_locale = await _at("Mission Locale Valence", VALENCE)
    agglo = [VALENCE_AGGLO]
    territory = await territories.save("Valence Romans", agglo, None, UUID(mission_locale))
    await f.logged_in(client, Role.COORDINATOR, of=UUID(mission_locale))

    page = await client.get("/structures/doublons")
    assert "Doublons probables : Valence Romans" in page.text
    assert _shown(page.text) == _pairs(found, "rhone", "siret", "phone")  # not Die, another EPCI
    assert f'<option value="t:{territory}" selected>' in page.text


async def test_administrators_see_the_whole_country_and_others_choose(client):
    found = await _directory()
    await f.logged_in(client, Role.ADMIN)
    page = await client.get("/structures/doublons")
    assert "Toute la France" in page.text
    assert _shown(page.text) == _pairs(found, "die", "privas", "rhone", "siret", "phone")
    headers = await f.api_client_headers(Role.ADMIN)
    api = await client.get("/api/v1/directory/duplicates?page_size=2", headers=headers)
    assert api.json()["total"] == 5 and len(api.json()["items"]) == 2

    # A coordinator with no structure chooses a territory first.
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get("/structures/doublons")
    assert page.status_code == 200 and "Choisissez un département" in page.text
    assert _shown(page.text) == set()
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await client.get("/api/v1/directory/duplicates", headers=headers)
    assert response.status_code == 400 and "scope" in response.text


async def test_a_pair_dismissed_on_the_page_never_comes_back(client):
    found = await _directory()
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get("/structures/doublons?scope=d:26&page=1")
    left, right = found["die"]
    form = {
        "a": left,
        "b": right,
        "scope": "d:26",
        "page": "1",
        "_csrf_token": f.csrf_token(page.text),
        "_once": re.search(r'name="_once" value="([^"]+)"', page.text).group(1),  # type: ignore[union-attr]
    }
    done = await client.post("/structures/doublons/ecarter", data=form)
    assert done.status_code == 200
    assert "cette paire ne sera plus proposée" in done.text
    assert _shown(done.text) == _pairs(found, "rhone", "siret", "phone")

    headers = await f.api_client_headers(Role.COORDINATOR)
    api = await client.get("/api/v1/directory/duplicates?scope=d:26", headers=headers)
    assert _listed(api.json()) == _pairs(found, "rhone", "siret", "phone")
    admin = await f.api_client_headers(Role.ADMIN)
    everywhere = await client.get("/api/v1/directory/duplicates?scope=france", headers=admin)
    assert frozenset(found["die"]) not in _listed(everywhere.json())


async def test_a_pair_dismissed_through_the_api_never_comes_back(client):
    found = await _directory()
    headers = await f.api_client_headers(Role.COORDINATOR)
    left, right = found["rhone"]
    body = {"left_id": right, "right_id": left}  # either order
    url = "/api/v1/directory/duplicates/dismissals"
    created = await client.post(url, json=body, headers=headers)
    assert created.status_code == 201, created.text
    again = await client.post("/api/v1/directory/duplicates/dismissals", json=body, headers=headers)
    assert again.status_code == 200
    for scope in ("d:26", "d:07"):
        api = await client.get(f"/api/v1/directory/duplicates?scope={scope}", headers=headers)
        assert frozenset(found["rhone"]) not in _listed(api.json())
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get("/structures/doublons?scope=d:07")
    assert _shown(page.text) == _pairs(found, "privas")

    url = "/api/v1/directory/duplicates/dismissals"
    same = await client.post(url, json={"left_id": left, "right_id": left}, headers=headers)
    assert same.status_code == 400 and "elle-même" in same.text
    unknown = {"left_id": left, "right_id": "00000000-0000-4000-8000-000000000000"}
    assert (await client.post(url, json=unknown, headers=headers)).status_code == 404
    schema = (await client.get("/api/schema/openapi.json", headers=headers)).json()
    assert "post" in schema["paths"][url]
    params = schema["paths"]["/api/v1/directory/duplicates"]["get"]["parameters"]
    assert any(p["name"] == "scope" for p in params)


async def test_a_merged_pair_leaves_the_list(client):
    found = await _directory()
    headers = await f.api_client_headers(Role.COORDINATOR)
    keep, other = found["die"]
    body = {"kind": "structure", "keep": keep, "merge": other}
    merged = await client.post("/api/v1/directory/merges", json=body, headers=headers)
    assert merged.status_code in (200, 201), merged.text
    api = await client.get("/api/v1/directory/duplicates?scope=d:26", headers=headers)
    assert _listed(api.json()) == _pairs(found, "rhone", "siret", "phone")
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get("/structures/doublons?scope=d:26")
    assert _shown(page.text) == _pairs(found, "rhone", "siret", "phone")


async def test_a_structure_created_despite_the_warning_joins_the_list(client):
    found = await _directory()
    headers = await f.api_client_headers(Role.COORDINATOR)
    before = await client.get("/api/v1/directory/duplicates?scope=d:26", headers=headers)
    body = {"name": "Atelier velo solidaire", "phone": "04 75 22 00 00"}
    refused = await client.post("/api/v1/structures", json=body, headers=headers)
    assert refused.status_code == 409
    created = await client.post(
        "/api/v1/structures?confirm_duplicate=true", json=body, headers=headers
    )
    assert created.status_code == 201, created.text
    new = created.json()["id"]
    after = await client.get("/api/v1/directory/duplicates?scope=d:26", headers=headers)
    joined = _listed(after.json()) - _listed(before.json())
    assert joined and all(new in pair for pair in joined)
    assert {other for pair in joined for other in pair} - {new} <= set(found["die"])
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get("/structures/doublons?scope=d:26")
    assert f'href="/structures/{new}"' in page.text


async def test_advisors_cannot_review_or_dismiss(client):
    found = await _directory()
    await f.logged_in(client, Role.ADVISOR)
    assert (await client.get("/structures/doublons?scope=d:26")).status_code == 403
    page = await client.get("/structures")
    left, right = found["die"]
    form = {"a": left, "b": right, "_csrf_token": f.csrf_token(page.text)}
    assert (await client.post("/structures/doublons/ecarter", data=form)).status_code == 403
    headers = await f.api_client_headers(Role.ADVISOR)
    url = "/api/v1/directory/duplicates"
    assert (await client.get(f"{url}?scope=d:26", headers=headers)).status_code == 403
    body = {"left_id": left, "right_id": right}
    assert (await client.post(f"{url}/dismissals", json=body, headers=headers)).status_code == 403
    admin = await f.api_client_headers(Role.ADMIN)
    listed = await client.get(f"{url}?scope=d:26", headers=admin)
    assert frozenset(found["die"]) in _listed(listed.json())  # nothing was dismissed


async def test_a_dismissal_naming_no_pair_is_refused_and_writes_nothing(client):
    found = await _directory()
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get("/structures/doublons?scope=d:26")
    left, _ = found["die"]
    once = re.search(r'name="_once" value="([^"]+)"', page.text)
    assert once
    form = {"a": left, "b": "pas-un-id", "_csrf_token": f.csrf_token(page.text)}
    refused = await client.post("/structures/doublons/ecarter", data=form | {"_once": once[1]})
    assert refused.status_code == 400 and "Fiche inconnue" in refused.text
    again = await client.get("/structures/doublons?scope=d:26")
    assert _shown(again.text) == _pairs(found, "die", "rhone", "siret", "phone")
