"""Inputs that used to crash the server (found by schemathesis, issue 8): each now gets a
4xx with a French message naming the problem, on SQLite and PostgreSQL, and writes nothing."""

from __future__ import annotations

import json
import uuid

from directory.tables import Structure
from service.accounts.store import Role
from tests import factories as f

VALENCE = "26362"
NUL_MESSAGE = "Le caractère nul (U+0000) n'est pas accepté."


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


async def test_leaving_for_an_unknown_person_is_404(client):
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await client.get(f"/api/v1/network/people/{uuid.uuid4()}/leaving", headers=headers)
    assert response.status_code == 404
    assert response.json()["detail"] == "Personne introuvable."


async def test_leaving_for_a_structure_id_is_404_too(client):
    structure_id = await f.structure("Foyer")
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await client.get(f"/api/v1/network/people/{structure_id}/leaving", headers=headers)
    assert response.status_code == 404


async def test_a_need_made_of_punctuation_searches_as_if_no_need_was_given(client):
    """'-' or '_' fold to no word at all: the search runs without a need, as with an empty
    one, instead of sending an empty SQL clause to the database."""
    await f.partner("Foyer des Jeunes", VALENCE)
    headers = await f.api_client_headers()
    for need in ("_", "-", " - _ "):
        response = await client.get(
            "/api/v1/search", params={"place": VALENCE, "need": need}, headers=headers
        )
        assert response.status_code == 200, response.text
        names = [hit["structure_name"] for hit in response.json()["results"]["items"]]
        assert names == ["Foyer des Jeunes"], need
    await f.logged_in(client)
    page = await client.get("/recherche", params={"place": VALENCE, "need": "-"})
    assert page.status_code == 200
    assert "Foyer des Jeunes" in page.text


async def test_an_empty_public_filter_filters_nothing(client):
    """`public=` (an empty value, as a script building its query may send) is no filter, as
    on the search page, rather than an unknown public with an empty name."""
    await f.partner("Foyer des Jeunes", VALENCE)
    headers = await f.api_client_headers()
    response = await client.get(
        "/api/v1/search", params={"place": VALENCE, "public": ""}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert [hit["structure_name"] for hit in response.json()["results"]["items"]] == [
        "Foyer des Jeunes"
    ]


async def test_page_numbers_are_bounded_with_a_message_naming_the_page(client):
    await f.structure("Foyer")
    headers = await f.api_client_headers()
    for url in ("/api/v1/structures", "/api/v1/search"):
        for page, message in (
            ("876658591013796184064", "La valeur maximale est 10\u202f000."),
            ("0", "La valeur minimale est 1."),
            ("abc", "Un nombre est attendu."),
        ):
            response = await client.get(
                url, params={"page": page, "place": VALENCE}, headers=headers
            )
            assert response.status_code == 400, (url, page, response.text)
            assert response.json()["errors"] == {"page": message}
    last = await client.get("/api/v1/structures", params={"page": 10_000}, headers=headers)
    assert last.status_code == 200 and last.json()["items"] == []


async def test_the_error_page_itself_renders_for_malformed_queries(client):
    await f.logged_in(client)
    for url, field, message in (
        ("/structures?page=abc", "page", "Un nombre est attendu."),
        ("/structures?page=876658591013796184064", "page", "La valeur maximale est 10\u202f000."),
        ("/orientations/nouvelle?structure=not-a-uuid", "structure", "Choix invalide."),
    ):
        response = await client.get(url)
        assert response.status_code == 400, (url, response.text[:300])
        assert "text/html" in response.headers["content-type"]
        assert f"{field} : {message}" in response.text, url
    search = await client.get("/recherche", params={"place": VALENCE, "page": 0})
    assert search.status_code == 400
    assert "La valeur minimale est 1." in search.text


async def test_nul_characters_are_refused_in_queries_and_json(client):
    """PostgreSQL cannot store U+0000 and SQLite cuts the text there: refused up front."""
    await f.partner("Foyer des Jeunes", VALENCE)
    advisor = await f.api_client_headers()
    coordinator = await f.api_client_headers(Role.COORDINATOR)
    before = await Structure.count()
    for url, params, field in (
        ("/api/v1/structures", {"q": "foy\x00er"}, "q"),
        ("/api/v1/referrals", {"status": "sent\x00"}, "status"),
        ("/api/v1/search", {"place": VALENCE, "words": "foyer\x00"}, "words"),
        ("/api/v1/communes", {"q": "\x00"}, "q"),
    ):
        response = await client.get(url, params=params, headers=advisor)
        assert response.status_code == 400, (url, response.text)
        assert response.json()["errors"] == {field: NUL_MESSAGE}

    created = await client.post(
        "/api/v1/structures", json={"name": "Foyer\x00", "kind": "housing"}, headers=coordinator
    )
    assert created.status_code == 400, created.text
    assert created.json()["errors"] == {"name": NUL_MESSAGE}
    nested = await client.post(
        f"/api/v1/structures/{uuid.uuid4()}/services",
        json={"name": "Accueil", "domains": ["housing"], "zone": ["26", "26\x00"]},
        headers=coordinator,
    )
    assert nested.status_code == 400 and nested.json()["errors"] == {"zone[1]": NUL_MESSAGE}
    path = await client.get("/api/v1/network/graph/json%00", headers=coordinator)
    assert path.status_code == 400 and "caractère nul" in path.json()["detail"]
    assert await Structure.count() == before

    # A backslash followed by the letters u0000 is only text.
    created = await client.post(
        "/api/v1/structures",
        content=json.dumps({"name": "Chemin C:\\u0000 (texte)"}),
        headers={**coordinator, "content-type": "application/json"},
    )
    assert created.status_code == 201, created.text
    read = await client.get(f"/api/v1/structures/{created.json()['id']}", headers=coordinator)
    assert read.json()["name"] == "Chemin C:\\u0000 (texte)"


async def test_nul_characters_are_refused_in_page_forms(client):
    await f.logged_in(client, Role.COORDINATOR)
    before = await Structure.count()
    response = await f.form_post(
        client, "/structures/nouvelle", {"name": "Foyer\x00", "kind": "housing"}
    )
    assert response.status_code == 400
    assert f"name : {NUL_MESSAGE}" in response.text.replace("&#39;", "'")
    assert await Structure.count() == before


async def test_deeply_nested_or_huge_json_is_refused(client):
    coordinator = await f.api_client_headers(Role.COORDINATOR)
    json_headers = {**coordinator, "content-type": "application/json"}
    for levels in (5000, 33):
        deep = await client.post(
            "/api/v1/structures", content=_nested(levels), headers=json_headers
        )
        assert deep.status_code == 400, levels
        assert "imbriqué sur plus de 32 niveaux" in deep.json()["detail"]
    # Depth is counted outside strings: brackets inside a name are only text.
    bracketed = await client.post(
        "/api/v1/structures", json={"name": "[" * 100 + " Foyer"}, headers=coordinator
    )
    assert bracketed.status_code == 201, bracketed.text
    huge = await client.post(
        "/api/v1/structures",
        json={"name": "Foyer", "description": "x" * (1024 * 1024)},
        headers=coordinator,
    )
    assert huge.status_code == 413
    assert "dépasse 1024 Kio" in huge.json()["detail"]
    assert await Structure.count() == 1


async def test_search_words_are_bounded(client):
    """60 KB of words made SQLite refuse the LIKE pattern; 1,500 words its expression depth."""
    await f.partner("Foyer des Jeunes", VALENCE)
    headers = await f.api_client_headers()
    for words in ("a" * 60_000, "a " * 1_500):
        response = await client.get(
            "/api/v1/search", params={"place": VALENCE, "words": words}, headers=headers
        )
        assert response.status_code == 400, response.text[:300]
        assert response.json()["errors"] == {"words": "200 caractères au maximum."}
    await f.logged_in(client)
    page = await client.get("/recherche", params={"place": VALENCE, "words": "a " * 1_500})
    assert page.status_code == 400
    # Next to the field, not only in the summary at the top.
    assert '<p class="error" id="words-error">200 caractères au maximum.</p>' in page.text


async def test_unsupported_methods_say_which_ones_are_allowed(client):
    headers = await f.api_client_headers()
    response = await client.request("TRACE", "/api/v1/vocabulary", headers=headers)
    assert response.status_code == 405
    assert set(response.headers["allow"].split(", ")) == {"GET", "OPTIONS"}
    assert response.json()["detail"] == "Cette méthode n'est pas acceptée à cette adresse."


async def test_malformed_json_is_refused_in_french(client):
    coordinator = await f.api_client_headers(Role.COORDINATOR)
    response = await client.post(
        "/api/v1/structures",
        content='{"name": "Foyer',
        headers={**coordinator, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == (
        "Le corps n'est pas un JSON valide : il s'arrête avant la fin."
    )
    stray = await client.post(
        "/api/v1/structures",
        content='{"name": "Foyer"}}',
        headers={**coordinator, "content-type": "application/json"},
    )
    assert stray.status_code == 400
    assert stray.json()["detail"] == (
        "Le corps n'est pas un JSON valide : du texte suit la fin du JSON."
    )
    unknown = await client.post(
        "/api/v1/structures", json={"name": "Foyer", "colour": "bleu"}, headers=coordinator
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {"colour": "Champ inconnu « colour »."}
