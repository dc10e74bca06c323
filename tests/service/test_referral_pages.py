"""The referral exchange's French pages: send from a partner, follow, answer by link."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from directory.vocabulary import Domain
from service.accounts.store import Role
from service.referrals.tables import Referral, YoungPerson
from tests import factories as f

# Reads the clock: .ci/run also runs it at fixed awkward dates.
pytestmark = pytest.mark.dated

VALENCE = "26362"


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, mail_outbox=tmp_path / "outbox", base_url="http://maillage.test")


async def _partner():
    partner = await f.structure("Point Accueil Écoute Jeunes", email="paej@exemple.fr")
    await f.site(
        partner, VALENCE, address="12 rue Bouffier", walk_in=True, opening_hours="Mo-Fr 09:00-18:00"
    )
    # Searched for housing, sent to for health: the service lists both needs.
    service = await f.service(
        partner, "Écoute et orientation", domains=(Domain.HOUSING, Domain.HEALTH)
    )
    return partner, service


async def _send_by_form(client, partner, service, **fields):
    url = f"/orientations/nouvelle?structure={partner}"
    page = await client.get(f"{url}&service={service}")
    assert page.status_code == 200
    data = {
        "domain": "health",
        "to_service_id": str(service),
        "first_name": "Inès",
        "age_range": "16-17",
        "commune": "Valence (26)",
        "shares": ["age", "message"],
        "message": "A besoin de parler à quelqu'un.",
        "consent": "on",
        "_csrf_token": f.csrf_token(page.text),
        **fields,
    }
    return await client.post(url, data=data)


async def test_advisor_sends_from_the_form_and_follows_the_referral(client):
    mission_locale = await f.structure("Mission Locale")
    partner, service = await _partner()
    await f.logged_in(client, Role.ADVISOR, of=mission_locale)
    sent = await _send_by_form(client, partner, service)
    assert sent.status_code == 200, sent.text
    assert "Orientation envoyée" in sent.text
    link = re.search(r'<code id="partner-link">([^<]+)</code>', sent.text).group(1)
    assert link.startswith("http://maillage.test/p/")
    row = await Referral.objects().first()
    assert (row.status, row.domain) == ("sent", "health")
    young = await YoungPerson.objects().first()
    assert (young.first_name, young.commune, young.age_range) == ("Inès", VALENCE, "16-17")

    outbox = await client.get("/orientations")
    assert "Inès" in outbox.text and "Point Accueil" in outbox.text
    detail = await client.get(f"/orientations/{row.id}")
    assert "Historique" in detail.text and "Mettre en pause" in detail.text
    assert "Accepter" not in detail.text  # partner actions are not the advisor's


async def test_form_without_consent_comes_back_with_the_error_and_sends_nothing(client):
    mission_locale = await f.structure("Mission Locale")
    partner, service = await _partner()
    await f.logged_in(client, Role.ADVISOR, of=mission_locale)
    response = await _send_by_form(client, partner, service, consent="", first_name="")
    assert response.status_code == 400
    assert 'id="consent-error"' in response.text and 'id="first_name-error"' in response.text
    assert await Referral.count() == 0


async def test_partner_answers_from_the_link_page_without_an_account(client):
    mission_locale = await f.structure("Mission Locale")
    partner, service = await _partner()
    await f.logged_in(client, Role.ADVISOR, of=mission_locale)
    sent = await _send_by_form(client, partner, service)
    path = re.search(r"http://maillage.test(/p/[^<]+)</code>", sent.text).group(1)
    client.cookies.clear()  # the partner has no account

    page = await client.get(path)
    assert page.status_code == 200
    assert "Inès" in page.text and "A besoin de parler" in page.text
    assert "Accuser réception" in page.text and "Refuser" in page.text
    version = re.search(r'name="expected_version" value="(\d+)"', page.text).group(1)
    answer = await client.post(
        f"{path}/actions",
        data={
            "transition": "decline",
            "expected_version": version,
            "_csrf_token": f.csrf_token(page.text),
        },
    )
    assert answer.status_code == 400 and "Choisissez une raison" in answer.text
    accepted = await client.post(
        f"{path}/actions",
        data={
            "transition": "accept",
            "expected_version": version,
            "_csrf_token": f.csrf_token(page.text),
        },
    )
    assert accepted.status_code == 200 and "C’est enregistré" in accepted.text
    assert (await Referral.objects().first()).status == "accepted"


async def test_inbox_page_lists_what_my_structure_received(client):
    mission_locale = await f.structure("Mission Locale")
    partner, service = await _partner()
    await f.logged_in(client, Role.ADVISOR, of=mission_locale)
    await _send_by_form(client, partner, service)
    client.cookies.clear()
    await f.logged_in(client, Role.ADVISOR, of=partner)
    inbox = await client.get("/orientations/recues")
    assert "Inès" in inbox.text and "Mission Locale" in inbox.text
    row = await Referral.objects().first()
    detail = await client.get(f"/orientations/{row.id}")
    assert "Accepter" in detail.text and "Mettre en pause" not in detail.text


async def test_search_results_and_partner_pages_offer_to_refer(client):
    mission_locale = await f.structure("Mission Locale")
    partner, service = await _partner()
    await f.logged_in(client, Role.ADVISOR, of=mission_locale)
    results = await client.get("/recherche", params={"commune": VALENCE, "need": "logement"})
    assert f"/orientations/nouvelle?structure={partner}&amp;service={service}" in results.text
    page = await client.get(f"/structures/{partner}")
    assert f"/orientations/nouvelle?structure={partner}" in page.text


async def test_sms_link_is_shown_to_the_advisor_to_send(client, settings):
    mission_locale = await f.structure("Mission Locale")
    partner, service = await _partner()
    await f.logged_in(client, Role.ADVISOR, of=mission_locale)
    sent = await _send_by_form(client, partner, service, phone="06 12 34 56 78", channel="sms")
    young_link = re.search(r'<code id="young-link">([^<]+)</code>', sent.text).group(1)
    client.cookies.clear()
    page = await client.get(young_link.removeprefix("http://maillage.test"))
    assert page.status_code == 200 and "Bonjour Inès" in page.text
    # Maillage sends no SMS, and the young person gave no e-mail: the link went nowhere else.
    assert all("/j/" not in p.read_text() for p in settings.mail_outbox.glob("*.eml"))


async def test_birth_year_bounds_move_with_the_calendar(client, time_machine):
    # In 2041 a young person born in 2024 is 17: the form must not refuse them.
    time_machine.move_to(datetime(2041, 3, 2, 10, 0, tzinfo=UTC))
    mission_locale = await f.structure("Mission Locale")
    partner, service = await _partner()
    await f.logged_in(client, Role.ADVISOR, of=mission_locale)
    sent = await _send_by_form(client, partner, service, age_range="", birth_year="2024")
    assert "Orientation envoyée" in sent.text
    assert (await YoungPerson.objects().first()).birth_year == 2024

    refused = await _send_by_form(client, partner, service, age_range="", birth_year="1990")
    assert "L&#39;année de naissance doit être comprise entre 2006 et 2027." in refused.text
    assert await YoungPerson.count() == 1  # nothing written for the refused one
