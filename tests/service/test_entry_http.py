"""A partner's personal link to its own entry, through HTTP on SQLite and PostgreSQL: it
shows the whole entry, confirms in one click, corrects any part through the directory's
own checks with the partner as verifier, and opens its one structure only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from directory.tables import DirectoryChange, Person, Service, Site, Structure
from service import entry_links
from tests import factories as f

OLD = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)


def _once(html: str) -> str:
    match = re.search(r'name="_once" value="([^"]+)"', html)
    assert match, "no one-time key in the form"
    return match.group(1)


async def _post(client, page_url: str, url: str, data: dict):
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    form = {**data, "_csrf_token": f.csrf_token(page.text), "_once": _once(page.text)}
    return await client.post(url, data=form)


async def _foyer() -> dict:
    old = f.Verifier("coordinator", "Coordination", OLD)
    structure_id = await f.structure("Foyer Le Relais", by=old, phone="04 75 00 00 01")
    site_id = await f.site(
        structure_id, address="3 rue Bouffier", opening_hours="Mo-Fr 09:00-12:00"
    )
    service_id = await f.service(structure_id, "Hébergement d’urgence", by=old)
    person_id = await f.person(structure_id, "Lucie", "Bernard", role="Directrice")
    token = await entry_links.issue(structure_id, "report")
    return {
        "structure": structure_id,
        "site": site_id,
        "service": service_id,
        "person": person_id,
        "token": token,
    }


async def test_the_page_shows_the_whole_entry_without_an_account(client):
    e = await _foyer()
    page = await client.get(f"/fiche/{e['token']}")
    assert page.status_code == 200
    for text in (
        "Foyer Le Relais",
        "3 rue Bouffier",
        "Hébergement d’urgence",
        "Lucie Bernard",
        "Directrice",
        "Rien n’a changé, ma fiche est à jour",
        "9 h 00 – 12 h 00",
    ):
        assert text in page.text, text
    assert "/login" not in page.text and "Se déconnecter" not in page.text


async def test_one_click_confirms_the_structure_and_its_services(client):
    e = await _foyer()
    url = f"/fiche/{e['token']}"
    done = await _post(client, url, f"{url}/a-jour", {})
    assert done.status_code == 200 and "Votre fiche est confirmée à jour" in done.text
    structure = await Structure.objects().where(Structure.id == e["structure"]).first()
    service = await Service.objects().where(Service.id == e["service"]).first()
    for row in (structure, service):
        assert row.verified_by_kind == "partner_link"
        assert row.verified_by == "Foyer Le Relais, par son lien personnel"
        assert row.verified_at > OLD + timedelta(days=300)


async def test_the_partner_corrects_hours_and_marks_a_person_as_left(client):
    e = await _foyer()
    url = f"/fiche/{e['token']}"
    site_form = {
        "name": "",
        "address": "3 rue Bouffier",
        "commune": "26362",
        "postcode": "26000",
        "opening_hours": "Mo-Th 14:00-17:00",
        "accessibility": "",
    }
    saved = await _post(client, f"{url}/lieux/{e['site']}", f"{url}/lieux/{e['site']}", site_form)
    assert saved.status_code == 200 and "C’est enregistré" in saved.text
    site = await Site.objects().where(Site.id == e["site"]).first()
    assert site.opening_hours == "Mo-Th 14:00-17:00"
    departure = f"{url}/personnes/{e['person']}/depart"
    left = await _post(client, departure, departure, {})
    assert left.status_code == 200 and "A quitté la structure" in left.text
    person = await Person.objects().where(Person.id == e["person"]).first()
    assert person.active is False and person.left_on is not None
    changes = await DirectoryChange.select().where(DirectoryChange.structure == e["structure"])
    by_partner = [c for c in changes if c["actor_kind"] == "partner_link"]
    assert {c["record_kind"] for c in by_partner} >= {"site", "person"}
    structure = await Structure.objects().where(Structure.id == e["structure"]).first()
    assert structure.verified_by_kind == "partner_link"


async def test_bad_hours_come_back_with_the_message_and_nothing_saved(client):
    e = await _foyer()
    url = f"/fiche/{e['token']}/lieux/{e['site']}"
    bad = await _post(client, url, url, {"commune": "26362", "opening_hours": "lundi matin"})
    assert bad.status_code == 400 and "Horaires" in bad.text
    site = await Site.objects().where(Site.id == e["site"]).first()
    assert site.opening_hours == "Mo-Fr 09:00-12:00"


async def test_the_partner_adds_a_person_a_site_and_a_service(client):
    e = await _foyer()
    url = f"/fiche/{e['token']}"
    person = {
        "first_name": "Karim",
        "last_name": "Saidi",
        "email": "k.saidi@relais.fr",
        "preferred_channel": "email",
        "active": "on",
    }
    assert (
        await _post(client, f"{url}/personnes/nouvelle", f"{url}/personnes/nouvelle", person)
    ).status_code == 200
    site = {"name": "Antenne de Crest", "commune": "Crest", "opening_hours": "Tu 09:00-12:00"}
    assert (
        await _post(client, f"{url}/lieux/nouveau", f"{url}/lieux/nouveau", site)
    ).status_code == 200
    service = {"name": "Domiciliation", "domains": "housing", "on_site": "on"}
    assert (
        await _post(client, f"{url}/services/nouveau", f"{url}/services/nouveau", service)
    ).status_code == 200
    assert await Person.count().where(Person.structure == e["structure"]) == 2
    assert await Site.count().where(Site.structure == e["structure"]) == 2
    assert await Service.count().where(Service.structure == e["structure"]) == 2


async def test_a_link_opens_its_own_structure_only(client):
    e = await _foyer()
    other = await _foyer()
    url = f"/fiche/{e['token']}"
    for part, record in (
        ("lieux", other["site"]),
        ("services", other["service"]),
        ("personnes", other["person"]),
    ):
        assert (await client.get(f"{url}/{part}/{record}")).status_code == 404
    page = await client.get(url)
    form = {
        "_csrf_token": f.csrf_token(page.text),
        "_once": _once(page.text),
        "commune": "26362",
        "opening_hours": "Su 10:00-11:00",
    }
    refused = await client.post(f"{url}/lieux/{other['site']}", data=form)
    assert refused.status_code == 404
    form["_once"] = _once(page.text)
    refused = await client.post(f"{url}/personnes/{other['person']}/depart", data=form)
    assert refused.status_code == 404
    # Another structure's site as the place of this structure's service: refused too.
    service = {
        "name": "Accueil",
        "domains": "housing",
        "on_site": "on",
        "site_id": str(other["site"]),
    }
    refused = await _post(
        client, f"{url}/services/{e['service']}", f"{url}/services/{e['service']}", service
    )
    assert refused.status_code == 400
    site = await Site.objects().where(Site.id == other["site"]).first()
    person = await Person.objects().where(Person.id == other["person"]).first()
    assert site.opening_hours == "Mo-Fr 09:00-12:00" and person.active
    assert not await DirectoryChange.exists().where(DirectoryChange.actor_kind == "partner_link")


async def test_unknown_expired_and_revoked_links_get_a_plain_404(client):
    e = await _foyer()
    expired = await entry_links.issue(
        e["structure"], "report", days=1, now=datetime(2025, 1, 1, tzinfo=UTC)
    )
    revoked = await entry_links.issue(e["structure"], "report")
    access = await entry_links.resolve(revoked)
    assert access is not None
    await entry_links.revoke(access.link_id)
    for token in ("pas-un-lien", expired, revoked):
        page = await client.get(f"/fiche/{token}")
        assert page.status_code == 404 and "Ce lien ne s’ouvre pas" in page.text
        assert "/login" not in page.text and 'href="/"' not in page.text
    page = await client.get(f"/fiche/{e['token']}")
    form = {"_csrf_token": f.csrf_token(page.text), "_once": _once(page.text)}
    assert (await client.post(f"/fiche/{revoked}/a-jour", data=form)).status_code == 404
    structure = await Structure.objects().where(Structure.id == e["structure"]).first()
    assert structure.verified_by_kind != "partner_link"


async def test_the_partner_corrects_its_structure_but_not_its_status(client):
    e = await _foyer()
    url = f"/fiche/{e['token']}/structure"
    form = {
        "name": "Foyer Le Relais",
        "kind": "association",
        "phone": "04 75 99 88 77",
        "email": "contact@relais.fr",
        "status": "closed",
    }
    saved = await _post(client, url, url, form)
    assert saved.status_code == 200 and "04 75 99 88 77" in saved.text
    structure = await Structure.objects().where(Structure.id == e["structure"]).first()
    assert structure.status == "active" and structure.email == "contact@relais.fr"
    assert structure.verified_by == "Foyer Le Relais, par son lien personnel"
    bad = await _post(client, url, url, {**form, "siret": "123", "email": "pas-un-courriel"})
    assert bad.status_code == 400 and "SIRET" in bad.text
    assert 'value="pas-un-courriel"' in bad.text  # what was typed stays


async def test_the_partner_corrects_a_person(client):
    e = await _foyer()
    url = f"/fiche/{e['token']}/personnes/{e['person']}"
    page = await client.get(url)
    assert 'value="Lucie"' in page.text
    form = {
        "first_name": "Lucie",
        "last_name": "Bernard-Roux",
        "role": "Directrice",
        "email": "lucie@relais.fr",
        "preferred_channel": "email",
        "active": "on",
    }
    assert (await _post(client, url, url, form)).status_code == 200
    person = await Person.objects().where(Person.id == e["person"]).first()
    assert person.last_name == "Bernard-Roux" and person.email == "lucie@relais.fr"


async def test_a_service_corrected_by_its_partner_keeps_its_themes(client):
    from directory.vocabulary import THEMATIQUES

    e = await _foyer()
    themes = list(THEMATIQUES)[:2]
    await Service.update({Service.thematiques: themes}).where(Service.id == e["service"])
    url = f"/fiche/{e['token']}/services/{e['service']}"
    page = await client.get(url)
    assert 'name="thematiques"' in page.text and '<select id="thematiques"' not in page.text
    form = {
        "name": "Hébergement d’urgence",
        "description": "Jusqu’à 15 nuits.",
        "domains": "housing",
        "on_site": "on",
        "thematiques": themes,
    }
    assert (await _post(client, url, url, form)).status_code == 200
    service = await Service.objects().where(Service.id == e["service"]).first()
    assert service.description == "Jusqu’à 15 nuits." and list(service.thematiques) == themes
    assert service.verified_by_kind == "partner_link"


async def test_a_form_without_its_csrf_token_is_refused_plainly(client):
    e = await _foyer()
    refused = await client.post(f"/fiche/{e['token']}/a-jour", data={})
    assert refused.status_code == 403 and "Cette page a expiré" in refused.text
    assert "/login" not in refused.text
    structure = await Structure.objects().where(Structure.id == e["structure"]).first()
    assert structure.verified_by_kind != "partner_link"


async def test_a_form_sent_twice_acts_once(client):
    e = await _foyer()
    url = f"/fiche/{e['token']}"
    page = await client.get(url)
    form = {"_csrf_token": f.csrf_token(page.text), "_once": _once(page.text)}
    first = await client.post(f"{url}/a-jour", data=form)
    again = await client.post(f"{url}/a-jour", data=form)
    assert first.status_code == again.status_code == 200
    assert "Votre fiche est confirmée à jour" in again.text
    confirmations = await DirectoryChange.count().where(
        (DirectoryChange.structure == e["structure"]) & (DirectoryChange.action == "confirm")
    )
    assert confirmations == 1


async def test_a_partner_says_who_takes_over_from_a_person_who_left(client):
    """A departure through the link asks who takes over the services the person was the
    contact of, as the staff's departure page does: nothing is orphaned by a click."""
    e = await _foyer()
    old = f.Verifier("coordinator", "Coordination", OLD)
    lucie = e["person"]
    samir = await f.person(e["structure"], "Samir", "Haddad", role="Éducateur")
    night = await f.service(e["structure"], "Accueil de nuit", by=old, contact_id=str(lucie))
    departure = f"/fiche/{e['token']}/personnes/{lucie}/depart"
    page = await client.get(departure)
    assert page.status_code == 200
    assert "Accueil de nuit" in page.text and "Samir Haddad" in page.text
    assert "/structures/" not in page.text  # no staff page behind a partner's link
    select = re.search(r'<select id="([^"]+)" name="\1"', page.text).group(1)

    unanswered = await _post(client, departure, departure, {"_departure": "1"})
    assert unanswered.status_code == 400 and "Qui reprend" in unanswered.text
    assert (await Person.objects().where(Person.id == lucie).first()).active is True

    done = await _post(client, departure, departure, {"_departure": "1", select: str(samir)})
    assert done.status_code == 200 and "A quitté la structure" in done.text
    assert (await Person.objects().where(Person.id == lucie).first()).active is False
    service = await Service.objects().where(Service.id == night).first()
    assert service.contact == samir
    handed = await DirectoryChange.select().where(
        (DirectoryChange.record_id == night) & (DirectoryChange.actor_kind == "partner_link")
    )
    assert handed, "the hand-over is in the service's history, by the partner"
