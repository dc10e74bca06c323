"""The directory's French pages: partner page, and forms that come back with their errors
next to the fields and nothing saved."""

from __future__ import annotations

import re

from directory.tables import Person, Relationship, Service, Site, Structure
from directory.vocabulary import Level
from service.accounts.store import Role
from tests import factories as f

VALENCE = "26362"


def _field_error(html: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">([^<]+)</p>', html)
    assert match, f"no error shown next to {field}"
    return match.group(1)


async def test_partner_page_shows_sites_services_people_and_relationships(client):
    structure_id = await f.structure("CCAS de Valence", kind="public-service", network="ccas-cias")
    await f.site(
        structure_id,
        VALENCE,
        name="Accueil central",
        address="1 place de la Liberté",
        opening_hours="Mo-Fr 09:00-12:00",
        walk_in=True,
    )
    person = await f.person(
        structure_id, "Nora", "Benali", role="Travailleuse sociale", phone="04 75 11 22 33"
    )
    await f.service(structure_id, "Aide alimentaire", unconditional=True, contact_id=person)
    mission_locale = await f.structure("Mission Locale Valence")
    await f.relationship(mission_locale, structure_id, Level.ORGANISATIONAL)
    await f.logged_in(client)

    page = await client.get(f"/structures/{structure_id}")
    assert page.status_code == 200
    html = page.text
    for expected in (
        "CCAS de Valence",
        "Accueil central",
        "1 place de la Liberté",
        "Valence",
        "Aide alimentaire",
        "Accueil sans condition",
        "Nora",
        "Benali",
        "04 75 11 22 33",
        "Organisationnel",
        "Mission Locale Valence",
        "Sans rendez-vous",
        "lundi",
    ):
        assert expected in html, expected
    assert "<main" in html and 'lang="fr"' in html


async def test_coordinator_creates_a_structure_from_the_form(client):
    await f.logged_in(client, Role.COORDINATOR)
    response = await f.form_post(
        client,
        "/structures/nouvelle",
        {
            "name": "Point Justice Drôme",
            "kind": "public-service",
            "network": "points-justice",
            "status": "active",
            "phone": "04 75 44 55 66",
        },
    )
    assert response.status_code == 200
    assert "Point Justice Drôme" in response.text
    row = await Structure.objects().where(Structure.name == "Point Justice Drôme").first()
    assert row is not None and row.phone == "+33475445566"


async def test_invalid_structure_form_shows_errors_by_the_fields_and_saves_nothing(client):
    await f.logged_in(client, Role.COORDINATOR)
    response = await f.form_post(
        client,
        "/structures/nouvelle",
        {"name": "", "kind": "association", "siret": "123", "email": "nope", "status": "active"},
    )
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in _field_error(response.text, "name")
    assert "14 chiffres" in _field_error(response.text, "siret")
    assert "rien n’a été enregistré" in response.text
    # what the user typed is kept
    assert 'value="nope"' in response.text
    assert await Structure.count() == 0


async def test_site_form_accepts_a_commune_name_and_reports_homonyms(client):
    structure_id = await f.structure("Antenne")
    await f.logged_in(client, Role.COORDINATOR)
    url = f"/structures/{structure_id}/sites/nouveau"
    ambiguous = await f.form_post(client, url, {"commune": "Valence", "address": "4 rue Roux"})
    assert ambiguous.status_code == 400
    assert "Valence (82)" in _field_error(ambiguous.text, "commune")
    assert await Site.count() == 0

    bad_hours = await f.form_post(
        client, url, {"commune": "Valence (26)", "opening_hours": "tous les jours"}
    )
    assert bad_hours.status_code == 400
    assert "OpenStreetMap" in _field_error(bad_hours.text, "opening_hours")

    saved = await f.form_post(
        client, url, {"commune": "Crest", "address": "4 rue Roux", "walk_in": "on"}
    )
    assert saved.status_code == 200
    site = await Site.objects().first()
    assert site.commune == "26108" and site.walk_in is True and site.cell is not None


async def test_service_form_with_domains_zone_and_errors(client):
    structure_id = await f.structure("Maison des ados")
    await f.site(structure_id, VALENCE)
    await f.logged_in(client, Role.COORDINATOR)
    url = f"/structures/{structure_id}/services/nouveau"
    missing = await f.form_post(client, url, {"name": "Écoute", "on_site": "on", "zone": "26 xx"})
    assert missing.status_code == 400
    assert _field_error(missing.text, "domains")
    assert "xx" in _field_error(missing.text, "zone")
    assert await Service.count() == 0

    page = await client.get(url)
    token = f.csrf_token(page.text)
    saved = await client.post(
        url,
        data={
            "name": "Écoute",
            "domains": ["health", "citizenship"],
            "thematiques": ["sante--sante-mentale"],
            "publics": ["jeunes"],
            "on_site": "on",
            "unconditional": "on",
            "zone": "26, 07",
            "_csrf_token": token,
        },
    )
    assert saved.status_code == 200, saved.text
    service = await Service.objects().first()
    assert service.domains == ["health", "citizenship"]
    assert service.zone == ["26", "07"]
    assert service.unconditional is True and service.remote is False


async def test_person_and_relationship_forms(client):
    structure_id = await f.structure("Mission Locale")
    partner = await f.structure("Club de rugby")
    await f.logged_in(client, Role.COORDINATOR)
    bad = await f.form_post(
        client,
        f"/structures/{structure_id}/personnes/nouvelle",
        {
            "first_name": "Yanis",
            "last_name": "Morel",
            "phone": "0000",
            "preferred_channel": "phone",
            "active": "on",
        },
    )
    assert bad.status_code == 400
    assert "téléphone" in _field_error(bad.text, "phone")
    good = await f.form_post(
        client,
        f"/structures/{structure_id}/personnes/nouvelle",
        {
            "first_name": "Yanis",
            "last_name": "Morel",
            "phone": "06 01 02 03 04",
            "preferred_channel": "phone",
            "active": "on",
        },
    )
    assert good.status_code == 200
    assert (await Person.objects().first()).phone == "+33601020304"

    url = f"/structures/{structure_id}/relations/nouvelle"
    no_target = await f.form_post(client, url, {"level": "operational"})
    assert no_target.status_code == 400 and _field_error(no_target.text, "target")
    created = await f.form_post(
        client, url, {"target": f"s:{partner}", "level": "operational", "kind": "partnership"}
    )
    assert created.status_code == 200
    relationship = await Relationship.objects().first()
    assert relationship.target_structure == partner and relationship.level == "operational"

    edit_url = f"/structures/{structure_id}/relations/{relationship.id}/modifier"
    edited = await f.form_post(
        client, edit_url, {"target": f"s:{partner}", "level": "political", "kind": "funding"}
    )
    assert edited.status_code == 200
    assert (await Relationship.objects().first()).level == "political"
    page = await client.get(edit_url)
    deleted = await client.post(
        f"/structures/{structure_id}/relations/{relationship.id}/supprimer",
        data={"_csrf_token": f.csrf_token(page.text)},
    )
    assert deleted.status_code == 200
    assert await Relationship.count() == 0


async def test_edit_forms_are_prefilled_and_save(client):
    structure_id, service_id = await f.partner("Garage solidaire", VALENCE)
    await f.logged_in(client, Role.COORDINATOR)
    url = f"/structures/{structure_id}/services/{service_id}/modifier"
    page = await client.get(url)
    assert 'value="Garage solidaire accueil"' in page.text
    assert re.search(r'value="housing" checked', page.text)
    saved = await client.post(
        url,
        data={
            "name": "Réparation de vélos",
            "domains": ["mobility"],
            "on_site": "on",
            "_csrf_token": f.csrf_token(page.text),
        },
    )
    assert saved.status_code == 200
    assert (await Service.objects().first()).name == "Réparation de vélos"


async def test_advisor_cannot_open_or_post_forms_of_another_structure(client):
    own = await f.structure("Ma structure")
    other = await f.structure("Autre")
    await f.logged_in(client, Role.ADVISOR, of=own)
    assert (await client.get("/structures/nouvelle")).status_code == 403
    assert (await client.get(f"/structures/{other}/modifier")).status_code == 403
    own_page = await client.get(f"/structures/{own}/modifier")
    assert own_page.status_code == 200
    token = f.csrf_token(own_page.text)
    refused = await client.post(
        f"/structures/{other}/modifier",
        data={"name": "Piratée", "kind": "association", "status": "active", "_csrf_token": token},
    )
    assert refused.status_code == 403
    assert (await Structure.objects().where(Structure.id == other).first()).name == "Autre"
    other_page = await client.get(f"/structures/{other}")
    assert "Modifier la structure" not in other_page.text


async def test_directory_list_page(client):
    await f.partner("Foyer des Jeunes", VALENCE)
    await f.logged_in(client)
    page = await client.get("/structures", params={"q": "foyer"})
    assert page.status_code == 200
    assert "Foyer des Jeunes" in page.text and "Valence" in page.text
    assert "Ajouter une structure" not in page.text
