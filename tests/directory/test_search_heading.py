"""What the search says it found: a far service reached only through its zone is never
presented as near, a service is listed once, a misspelt place gets close names, homonyms put
the advisor's own département first, and the need reaches the referral form's domain."""

from __future__ import annotations

import re

from directory.search import heading
from directory.vocabulary import Domain
from service.accounts.store import Role
from tests import factories as f

DIE, VALENCE, CREST = "26113", "26362", "26108"
VALENCE_82, MONTAUBAN = "82186", "82121"


async def _far_health_service() -> tuple:
    """A mental-health service in Valence, 42 km from Die, whose zone is the whole Drôme;
    it also answers by phone."""
    return await f.partner(
        "Maison des adolescents",
        VALENCE,
        (Domain.HEALTH,),
        thematiques=["sante--sante-mentale"],
        zone=["26"],
        remote=True,
    )


def test_heading_says_none_is_near_when_only_zones_reach():
    assert heading(["Santé mentale"], "Die", 15.0, 0, 2) == (
        "Aucun partenaire pour Santé mentale à moins de 15 km de Die ; "
        "voici les 2, plus loin, dont la zone couvre Die"
    )
    assert heading(["Logement"], "Die", 15.0, 3, 1) == (
        "3 partenaires pour Logement à moins de 15 km de Die, "
        "et 1 plus loin dont la zone couvre Die"
    )
    assert heading([], "Die", 10.0, 1, 0) == "1 partenaire pour tout besoin à moins de 10 km de Die"


async def test_a_service_reached_through_its_zone_is_listed_once_and_said_far(client):
    await _far_health_service()
    headers = await f.api_client_headers()
    response = await client.get(
        "/api/v1/search",
        params={"commune": DIE, "need": "santé mentale", "radius_km": 15},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [hit["structure_name"] for hit in results["items"]] == ["Maison des adolescents"]
    assert results["items"][0]["distance_km"] > 40
    assert results["remote"] == [] and results["remote_total"] == 0
    assert (results["within_total"], results["beyond_total"]) == (0, 1)
    assert results["heading"].startswith("Aucun partenaire pour Santé mentale à moins de 15 km")

    await f.logged_in(client)
    page = await client.get(
        "/recherche", params={"commune": DIE, "need": "santé mentale", "radius_km": "15"}
    )
    assert page.status_code == 200
    title = re.search(r'<h2 id="results-title">(.*?)</h2>', page.text, re.S)
    assert title and "Aucun partenaire pour Santé mentale à moins de 15 km de Die" in title[1]
    assert "voici celui, plus loin, dont la zone couvre Die" in title[1]
    assert page.text.count('id="hit-') == 1
    assert "À distance (" not in page.text
    # The heading already says they are all further away: no second title says it again.
    assert "Plus loin que 15 km" not in page.text


async def test_near_and_far_services_are_grouped_apart(client):
    await _far_health_service()
    await f.partner("Centre de santé de Die", DIE, (Domain.HEALTH,))
    await f.logged_in(client)
    page = await client.get("/recherche", params={"commune": DIE, "need": "santé", "radius_km": 15})
    assert page.status_code == 200
    text = page.text
    assert "1 partenaire pour Santé à moins de 15 km de Die, et 1 plus loin" in text
    near, far = text.index("Centre de santé de Die"), text.index("Maison des adolescents")
    group = text.index("Plus loin que 15 km")
    assert near < group < far


async def test_a_misspelt_place_gets_close_names(client):
    headers = await f.api_client_headers()
    response = await client.get("/api/v1/search", params={"place": "valance"}, headers=headers)
    assert response.status_code == 400
    body = response.json()
    assert "Aucune commune ne correspond à « valance »" in body["detail"]
    assert "Vouliez-vous dire" in body["detail"]
    labels = [c["label"] for c in body["candidates"]]
    assert labels[0] == "Valence (26)"  # the closest name, most populous first
    assert "Valence (82)" in labels

    await f.logged_in(client)
    page = await client.get("/recherche", params={"place": "valance", "need": "logement"})
    assert page.status_code == 400
    assert "Vouliez-vous dire :" in page.text
    assert f"commune={VALENCE}" in page.text

    nothing_close = await client.get("/recherche", params={"place": "Xqzwvbt"})
    assert nothing_close.status_code == 400
    assert "Vouliez-vous dire" not in nothing_close.text


async def test_homonyms_put_the_advisors_own_departement_first(client):
    home = await f.structure("Mission Locale de Montauban")
    await f.site(home, commune=MONTAUBAN)
    headers = await f.api_client_headers(Role.ADVISOR, of=home)
    response = await client.get("/api/v1/search", params={"place": "Valence"}, headers=headers)
    assert response.status_code == 400
    labels = [c["label"] for c in response.json()["candidates"]]
    assert labels[0] == "Valence (82)"
    assert "Valence (26)" in labels[1:]

    elsewhere = await f.api_client_headers()  # no structure: most populous first
    response = await client.get("/api/v1/search", params={"place": "Valence"}, headers=elsewhere)
    assert response.json()["candidates"][0]["label"] == "Valence (26)"


async def test_the_need_preselects_the_referral_domain_among_the_services_own(client):
    structure_id, service_id = await f.partner(
        "Point santé jeunes", VALENCE, (Domain.HEALTH, Domain.HOUSING)
    )
    await f.logged_in(client)
    page = await client.get("/recherche", params={"commune": VALENCE, "need": "logement"})
    link = (
        f"/orientations/nouvelle?structure={structure_id}"
        f"&amp;service={service_id}&amp;domain=housing"
    )
    assert link in page.text

    form = await client.get(link.replace("&amp;", "&"))
    assert form.status_code == 200
    select = re.search(r'<select id="domain".*?</select>', form.text, re.S)
    assert select is not None
    options = re.findall(r'<option value="(\w+)"( selected)?', select[0])
    assert options == [("health", ""), ("housing", " selected")]

    # A domain the service does not offer pre-selects nothing.
    form = await client.get(
        f"/orientations/nouvelle?structure={structure_id}&service={service_id}&domain=sport"
    )
    select = re.search(r'<select id="domain".*?</select>', form.text, re.S)
    assert select is not None and " selected" not in select[0]
