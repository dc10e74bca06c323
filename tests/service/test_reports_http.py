"""Reports of wrong data through the real stack, on SQLite and PostgreSQL: an advisor's
report writes the partner's email (with a personal link to its entry) and the coordinators'
in the outbox; a second report of the same thing joins the first; a save through the store
fixes it; a coordinator dismisses one, an advisor cannot; bad input answers 400."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from directory import territories
from directory.tables import Structure
from service import entry_links
from service.accounts.store import Role
from service.app import create_app
from service.mail import OutboxMailer
from service.outbox import Courier
from service.referrals.tables import OutboxMessage
from service.reports.tables import DataReport
from service.settings import Settings
from tests import factories as f


@pytest.fixture
async def quiet(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    """A client whose mail stays in the outbox, to be read as written."""
    app = create_app(replace(settings, mail_worker=False))
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as test_client:
        yield test_client


async def _scene() -> dict[str, UUID]:
    mission = await f.structure("Mission Locale Valence")
    partner, service = await f.partner("Habitat Jeunes Valence", "26362")
    await Structure.update({Structure.email: "hjv@exemple.fr"}).where(Structure.id == partner)
    return {"mission": mission, "partner": partner, "service": service}


async def _mail() -> list[dict]:
    rows = await OutboxMessage.select().order_by(OutboxMessage.kind)
    return [{**r, "context": json.loads(r["context"] or "{}")} for r in rows]


async def test_an_advisors_report_tells_the_partner_by_link_and_the_coordinators(
    quiet, tmp_path
) -> None:
    s = await _scene()
    await f.user(Role.COORDINATOR, of=s["mission"], email="coord@ml.fr")
    await f.user(Role.COORDINATOR, of=s["partner"], email="autre@hjv.fr")  # not the reporter's
    headers = await f.api_client_headers(Role.ADVISOR, of=s["mission"])
    body = {
        "structure_id": str(s["partner"]),
        "service_id": str(s["service"]),
        "reason": "hours",
        "note": "Fermé le mercredi depuis septembre",
    }
    filed = await quiet.post("/api/v1/reports", json=body, headers=headers)
    assert filed.status_code == 201, filed.text
    assert filed.json()["merged"] is False
    mail = await _mail()
    assert [(m["kind"], m["recipient"]) for m in mail] == [
        ("data_report_coordinator", "coord@ml.fr"),
        ("data_report_partner", "hjv@exemple.fr"),
    ]
    link = mail[1]["context"]["link"]
    assert link.startswith("/fiche/")
    access = await entry_links.resolve(link.removeprefix("/fiche/"))
    assert access is not None
    assert (access.structure_id, access.purpose) == (s["partner"], "report")
    courier = Courier(OutboxMailer(tmp_path, "maillage@localhost"), "http://maillage.test")
    [row] = await OutboxMessage.select().where(OutboxMessage.kind == "data_report_partner")
    email = await courier.compose(row)
    assert email is not None
    assert "Horaires faux" in email.text and "Fermé le mercredi" in email.text
    assert f"http://maillage.test{link}" in email.text
    # The same record, the same reason: joined to the first report, no new mail.
    again = await quiet.post("/api/v1/reports", json={**body, "note": "Aussi"}, headers=headers)
    assert again.status_code == 201 and again.json() == {
        "id": filed.json()["id"],
        "merged": True,
        "status": "open",
    }
    assert await DataReport.count() == 1 and len(await _mail()) == 2
    [row] = await DataReport.select(DataReport.seconded)
    assert "Aussi" in row["seconded"]


async def test_without_a_structure_address_its_people_in_post_get_the_link(quiet) -> None:
    s = await _scene()
    await Structure.update({Structure.email: ""}).where(Structure.id == s["partner"])
    await f.person(s["partner"], "Nora", "Benali", email="nora@hjv.fr")
    await f.person(s["partner"], "Léa", "Roux", email="lea@hjv.fr", active=False)
    headers = await f.api_client_headers(Role.ADVISOR, of=s["mission"])
    body = {"structure_id": str(s["partner"]), "reason": "contact_left"}
    assert (await quiet.post("/api/v1/reports", json=body, headers=headers)).status_code == 201
    assert [m["recipient"] for m in await _mail()] == ["nora@hjv.fr"]


async def test_a_save_through_the_store_fixes_the_report(client) -> None:
    s = await _scene()
    advisor = await f.api_client_headers(Role.ADVISOR, of=s["mission"])
    other, other_service = await f.partner("CCAS de Valence", "26362")
    for structure, service in ((s["partner"], s["service"]), (other, other_service)):
        body = {"structure_id": str(structure), "service_id": str(service), "reason": "public"}
        assert (await client.post("/api/v1/reports", json=body, headers=advisor)).status_code == 201
    coordinator = await f.api_client_headers(Role.COORDINATOR)
    fixed = await client.put(
        f"/api/v1/services/{s['service']}",
        json={"name": "Accueil logement", "domains": ["housing"], "publics": ["jeunes"]},
        headers=coordinator,
    )
    assert fixed.status_code == 200, fixed.text
    closed = await client.get("/api/v1/reports?status=closed", headers=coordinator)
    [report] = closed.json()["items"]
    assert report["structure_id"] == str(s["partner"])
    assert (report["status"], report["closed_by"]) == ("fixed", "Dominique Test")
    still_open = await client.get("/api/v1/reports", headers=coordinator)
    assert [r["structure_id"] for r in still_open.json()["items"]] == [str(other)]
    mine = await client.get("/api/v1/reports?status=all", headers=advisor)
    assert {r["status"] for r in mine.json()["items"]} == {"open", "fixed"}


async def test_a_coordinator_dismisses_and_an_advisor_cannot_close(client) -> None:
    s = await _scene()
    advisor = await f.api_client_headers(Role.ADVISOR, of=s["mission"])
    body = {"structure_id": str(s["partner"]), "reason": "other", "note": "Doute sur le nom"}
    report_id = (await client.post("/api/v1/reports", json=body, headers=advisor)).json()["id"]
    url = f"/api/v1/reports/{report_id}/close"
    refused = await client.post(url, json={"outcome": "dismissed"}, headers=advisor)
    assert refused.status_code == 403
    coordinator = await f.api_client_headers(Role.COORDINATOR)
    done = await client.post(
        url, json={"outcome": "dismissed", "note": "Le nom est juste"}, headers=coordinator
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["closing_note"]) == ("dismissed", "Le nom est juste")
    twice = await client.post(url, json={"outcome": "fixed"}, headers=coordinator)
    assert twice.status_code == 409


async def test_bad_reports_are_refused_naming_the_field(client) -> None:
    s = await _scene()
    _other, other_service = await f.partner("CCAS de Valence", "26362")
    headers = await f.api_client_headers(Role.ADVISOR, of=s["mission"])
    base = {"structure_id": str(s["partner"]), "reason": "hours"}
    cases = [
        ({**base, "reason": "wrong"}, "reason"),
        ({**base, "reason": "other"}, "note"),
        ({**base, "service_id": str(other_service)}, "service_id"),
        ({**base, "structure_id": str(UUID(int=1))}, "structure_id"),
        ({**base, "note": "x" * 2001}, "note"),
        ({**base, "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        answer = await client.post("/api/v1/reports", json=body, headers=headers)
        assert answer.status_code == 400, (body, answer.text)
        assert field in answer.text, (field, answer.text)
    assert await DataReport.count() == 0
    closing = await client.post(
        f"/api/v1/reports/{UUID(int=2)}/close",
        json={"outcome": "maybe"},
        headers=await f.api_client_headers(Role.COORDINATOR),
    )
    assert closing.status_code == 400 and "outcome" in closing.text
    listing = await client.get("/api/v1/reports?status=soon", headers=headers)
    assert listing.status_code == 400 and "status" in listing.text


async def test_the_pages_report_thank_list_and_close(client) -> None:
    s = await _scene()
    await f.logged_in(client, Role.ADVISOR, of=s["mission"])
    form_url = f"/signalements/nouveau?structure={s['partner']}&service={s['service']}"
    back = "/recherche?q=logement"
    empty = await f.form_post(
        client,
        "/signalements/nouveau",
        {"structure": str(s["partner"]), "reason": "other"},
        page_url=form_url,
    )
    assert empty.status_code == 400
    assert "Choisissez" not in empty.text and "obligatoire pour « Autre »" in empty.text
    sent = await f.form_post(
        client,
        "/signalements/nouveau",
        {
            "structure": str(s["partner"]),
            "service": str(s["service"]),
            "reason": "address",
            "note": "Ils ont déménagé",
            "retour": back,
        },
        page_url=form_url,
    )
    assert sent.status_code == 200
    assert "Merci, la structure et la coordination sont prévenues" in sent.text
    assert 'href="/recherche?q=logement"' in sent.text
    mine = await client.get("/signalements?miens=1&statut=all")
    assert "Adresse fausse" in mine.text and "Ils ont déménagé" in mine.text
    assert "Clôturer" not in mine.text
    page = await client.get(f"/structures/{s['partner']}")
    assert "signalement d'erreur ouvert" not in page.text  # not staff of that structure
    await client.post("/logout", data={"_csrf_token": f.csrf_token(page.text)})
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get(f"/structures/{s['partner']}")
    assert "1 signalement d'erreur ouvert" in page.text
    listing = await client.get("/signalements")
    assert "Adresse fausse" in listing.text and "Habitat Jeunes Valence" in listing.text
    [report] = await DataReport.select(DataReport.id)
    closed = await f.form_post(
        client,
        f"/signalements/{report['id']}/cloturer",
        {"outcome": "dismissed", "note": "Adresse vérifiée"},
        page_url="/signalements",
    )
    assert closed.status_code == 200 and "Sans suite" not in closed.text
    done = await client.get("/signalements?statut=closed")
    assert "Sans suite" in done.text and "Adresse vérifiée" in done.text


async def test_a_search_result_offers_to_report_an_error(client) -> None:
    s = await _scene()
    await f.logged_in(client, Role.ADVISOR, of=s["mission"])
    found = await client.get("/recherche?commune=26362&domains=housing")
    assert found.status_code == 200
    assert f"/signalements/nouveau?structure={s['partner']}&amp;service={s['service']}" in (
        found.text
    )


async def test_the_partner_corrects_through_its_link_and_the_report_is_fixed(quiet) -> None:
    s = await _scene()
    headers = await f.api_client_headers(Role.ADVISOR, of=s["mission"])
    body = {"structure_id": str(s["partner"]), "service_id": str(s["service"]), "reason": "public"}
    assert (await quiet.post("/api/v1/reports", json=body, headers=headers)).status_code == 201
    [mail] = [m for m in await _mail() if m["kind"] == "data_report_partner"]
    url = f"{mail['context']['link']}/services/{s['service']}"
    corrected = await f.form_post(
        quiet, url, {"name": "Accueil logement", "domains": "housing", "on_site": "on"}
    )
    assert corrected.status_code == 200, corrected.text
    [report] = await DataReport.select(DataReport.status, DataReport.closed_by)
    assert report == {
        "status": "fixed",
        "closed_by": "Habitat Jeunes Valence, par son lien personnel",
    }


async def test_two_reports_at_once_make_one(client) -> None:
    s = await _scene()
    headers = await f.api_client_headers(Role.ADVISOR, of=s["mission"])
    body = {"structure_id": str(s["partner"]), "reason": "structure_closed"}
    answers = await asyncio.gather(
        *[client.post("/api/v1/reports", json=body, headers=headers) for _ in range(4)]
    )
    assert [a.status_code for a in answers] == [201] * 4
    assert sorted(a.json()["merged"] for a in answers) == [False, True, True, True]
    assert await DataReport.count() == 1


async def test_correcting_the_site_or_contact_a_result_shows_fixes_a_service_report(client) -> None:
    mission = await f.structure("Mission Locale Valence")
    home = await f.structure("Habitat Jeunes Valence")
    site = await f.site(home, "26362", address="2 rue Faventines")
    nora = await f.person(home, "Nora", "Benali")
    placed = await f.service(home, "Accueil logement", site_id=str(site), contact_id=str(nora))
    unplaced = await f.service(home, "Aide au loyer")
    headers = await f.api_client_headers(Role.ADVISOR, of=mission)
    for service, reason in ((placed, "hours"), (unplaced, "hours"), (placed, "phone_email")):
        body = {"structure_id": str(home), "service_id": str(service), "reason": reason}
        assert (await client.post("/api/v1/reports", json=body, headers=headers)).status_code == 201
    coordinator = await f.api_client_headers(Role.COORDINATOR)
    hours = {
        "commune": "26362",
        "address": "2 rue Faventines",
        "opening_hours": "Mo-Fr 09:00-12:00",
    }
    assert (await client.put(f"/api/v1/sites/{site}", json=hours, headers=coordinator)).is_success
    rows = await DataReport.select(DataReport.reason, DataReport.status).order_by(DataReport.reason)
    assert [(r["reason"], r["status"]) for r in rows] == [
        ("hours", "fixed"),
        ("hours", "fixed"),
        ("phone_email", "open"),
    ]
    person = {"first_name": "Nora", "last_name": "Benali", "email": "nora@hjv.fr"}
    assert (await client.put(f"/api/v1/people/{nora}", json=person, headers=coordinator)).is_success
    assert await DataReport.count().where(DataReport.status == "open") == 0


async def test_the_structure_page_offers_to_report_its_sites_and_services(client) -> None:
    s = await _scene()
    await f.logged_in(client, Role.ADVISOR, of=s["mission"])
    page = await client.get(f"/structures/{s['partner']}")
    links = re.findall(r'href="(/signalements/nouveau\?[^"]+)"', page.text)
    assert len(links) == 3  # the entry, its site, its service
    for link in links:
        form = await client.get(link.replace("&amp;", "&"))
        assert form.status_code == 200
        assert "Signaler une erreur" in form.text and "Habitat Jeunes Valence" in form.text
    site_form = await client.get(links[1].replace("&amp;", "&"))
    assert "le lieu « Valence »" in site_form.text
    missing = await client.get(f"/signalements/nouveau?structure={UUID(int=3)}")
    assert missing.status_code == 404


async def test_a_coordinator_narrows_the_list_to_the_territory(client) -> None:
    s = await _scene()  # Habitat Jeunes Valence is in Valence (26362)
    die, _service = await f.partner("Centre social de Die", "26113")
    await territories.save("Valence", ["26362"], structure_id=s["mission"])
    headers = await f.api_client_headers(Role.ADVISOR, of=s["mission"])
    for structure in (s["partner"], die):
        body = {"structure_id": str(structure), "reason": "structure_closed"}
        assert (await client.post("/api/v1/reports", json=body, headers=headers)).status_code == 201
    await f.logged_in(client, Role.COORDINATOR, of=s["mission"])
    everything = await client.get("/signalements")
    assert "Habitat Jeunes Valence" in everything.text and "Centre social de Die" in everything.text
    ours = await client.get("/signalements?territoire=1")
    assert "Habitat Jeunes Valence" in ours.text and "Centre social de Die" not in ours.text
