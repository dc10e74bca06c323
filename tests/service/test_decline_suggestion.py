"""Two checks of the exchange through HTTP, on both engines: a referral's need must be one
its service covers, and a declining partner may suggest another structure, which the
advisor then reaches in one click."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from directory.tables import Structure
from service.referrals.tables import Referral
from tests import factories as f
from tests.service.test_referrals import (
    Territory,
    _act,
    _body,
    _link_act,
    _outbox,
    _send,
    _text,
)

# Sends referrals, whose deadlines are read from the clock.
pytestmark = pytest.mark.dated


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, mail_outbox=tmp_path / "outbox", base_url="http://maillage.test")


@pytest.fixture
async def t(database_url) -> Territory:
    return await Territory().build()


# ---- a need the chosen service covers -------------------------------------------------------


async def test_a_need_the_service_does_not_cover_is_refused_with_the_other_errors(client, t):
    body = _body(t, domain="mobility", consent={"given": False})
    response = await client.post("/api/v1/referrals", json=body, headers=t.advisor)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["domain"].startswith("Ce service ne couvre pas le domaine « Mobilité »")
    assert "Logement" in errors["domain"]
    assert "consent" in errors  # every problem at once
    assert await Referral.count() == 0


async def test_without_a_service_any_need_may_go_to_the_structure(client, t):
    sent = await _send(client, t, domain="mobility", to_service_id=None)
    assert (await Referral.objects().get(Referral.id == sent["id"])).domain == "mobility"


async def test_a_redirection_to_a_service_for_another_need_is_refused(client, t):
    sent = await _send(client, t)
    health = await f.service(t.third, "Point santé", domains=("health",))
    response = await _link_act(
        client,
        sent["token"],
        "redirect",
        redirect_to_structure_id=str(t.third),
        redirect_to_service_id=str(health),
    )
    assert response.status_code == 400
    assert "ne couvre pas le domaine « Logement »" in response.json()["errors"]["to_service_id"]
    assert (await Referral.objects().get(Referral.id == sent["id"])).status == "sent"


# ---- the partner's suggestion when declining ------------------------------------------------


async def test_a_decline_suggests_a_structure_the_advisor_sees_and_is_told_of(client, t, settings):
    sent = await _send(client, t)
    declined = await _link_act(
        client,
        sent["token"],
        "decline",
        reason="wrong_service",
        suggested_structure_id=str(t.third),
    )
    assert declined.status_code == 201, declined.text
    view = (await client.get(f"/api/v1/referrals/{sent['id']}", headers=t.advisor)).json()
    assert view["suggested_structure_id"] == str(t.third)
    assert view["suggested_structure_name"] == "Résidence sociale du Rhône"
    mail = [m for m in await _outbox(settings) if "refusée" in m["Subject"]]
    assert len(mail) == 1
    assert "suggère d'orienter le jeune vers Résidence sociale du Rhône" in _text(mail[0])


@pytest.mark.parametrize(
    ("whom", "problem"),
    [
        ("partner", "Suggérez une autre structure que la vôtre"),
        ("mission_locale", "C'est la structure qui a orienté le jeune"),
        ("nowhere", "introuvable dans l'annuaire"),
    ],
)
async def test_a_suggestion_must_be_another_structure_of_the_directory(client, t, whom, problem):
    sent = await _send(client, t)
    structure = {"partner": t.partner, "mission_locale": t.mission_locale}.get(whom)
    suggested = str(structure) if structure else "00000000-0000-4000-8000-000000000000"
    response = await _link_act(
        client, sent["token"], "decline", reason="other", suggested_structure_id=suggested
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert problem in errors["suggested_structure_id"]
    assert "note" in errors  # reported with the answer's other problem
    row = await Referral.objects().get(Referral.id == sent["id"])
    assert (row.status, row.suggested_structure) == ("sent", None)


async def test_only_a_decline_carries_a_suggestion(client, t):
    sent = await _send(client, t)
    response = await _link_act(client, sent["token"], "accept", suggested_structure_id=str(t.third))
    assert response.status_code == 400
    assert "qu'en refusant" in response.json()["errors"]["suggested_structure_id"]


async def test_a_closed_structure_is_not_suggested(client, t):
    sent = await _send(client, t)
    await Structure.update({Structure.status: "closed"}).where(Structure.id == t.third)
    response = await _act(
        client,
        t.partner_user,
        sent["id"],
        "decline",
        reason="no_capacity",
        suggested_structure_id=str(t.third),
    )
    assert response.status_code == 400
    assert "n'est pas active" in response.json()["errors"]["suggested_structure_id"]


# ---- the same through the pages ---------------------------------------------------------------


def _version(page: str) -> str:
    return re.search(r'name="expected_version" value="(\d+)"', page).group(1)


async def test_partner_suggests_from_the_link_page_and_advisor_reorients_in_one_click(client, t):
    far = await f.structure("Foyer de Lille")
    await f.site(far, "59350")
    sent = await _send(client, t)
    path = f"/p/{sent['token']}"
    page = await client.get(path)
    options = re.search(
        r'<select id="suggest-[^"]+" name="suggested_structure_id"[^>]*>(.*?)</select>',
        page.text,
        re.S,
    )
    assert options is not None, "the decline form offers a structure to suggest"
    assert "Résidence sociale du Rhône" in options.group(1)
    assert "Foyer de Lille" not in options.group(1)  # not near the young person
    assert "Mission Locale Valence" not in options.group(1)
    assert "Foyer Jeunes Travailleurs" not in options.group(1)  # not itself

    answer = await client.post(
        f"{path}/actions",
        data={
            "transition": "decline",
            "reason": "wrong_service",
            "suggested_structure_id": str(t.third),
            "expected_version": _version(page.text),
            "_csrf_token": f.csrf_token(page.text),
        },
    )
    assert answer.history and answer.history[0].status_code in (302, 303)  # POST/redirect/GET
    assert "C’est enregistré" in answer.text
    row = await Referral.objects().get(Referral.id == sent["id"])
    assert (row.status, row.suggested_structure) == ("declined", t.third)

    await f.logged_in(client, of=t.mission_locale)
    detail = await client.get(f"/orientations/{sent['id']}")
    link = f'href="/orientations/{sent["id"]}/reorienter?structure={t.third}"'
    assert link in detail.text and "Orienter vers Résidence sociale du Rhône" in detail.text
    reorient = await client.get(f"/orientations/{sent['id']}/reorienter")
    chosen = re.search(r'<option value="([^"]+)" selected', reorient.text)
    assert chosen is not None and chosen.group(1) == str(t.third)
    assert "Structure suggérée par le partenaire" in reorient.text


async def test_a_partner_with_an_account_suggests_from_the_referral_page(client, t):
    sent = await _send(client, t)
    await f.logged_in(client, of=t.partner)
    page = await client.get(f"/orientations/{sent['id']}")
    assert 'name="suggested_structure_id"' in page.text
    refused = await client.post(
        f"/orientations/{sent['id']}/actions",
        data={
            "transition": "decline",
            "reason": "no_capacity",
            "suggested_structure_id": str(t.partner),
            "expected_version": _version(page.text),
            "_csrf_token": f.csrf_token(page.text),
        },
    )
    assert refused.status_code == 400
    assert "Suggérez une autre structure que la vôtre" in refused.text
    assert (await Referral.objects().get(Referral.id == sent["id"])).status == "sent"


async def test_without_a_suggestion_a_structure_named_in_the_note_is_still_offered(client, t):
    sent = await _send(client, t)
    await _link_act(
        client,
        sent["token"],
        "decline",
        reason="no_capacity",
        note="Complet, voyez la Résidence sociale du Rhône.",
    )
    await f.logged_in(client, of=t.mission_locale)
    reorient = await client.get(f"/orientations/{sent['id']}/reorienter")
    assert "citée dans le message du partenaire" in reorient.text
    chosen = re.search(r'<option value="([^"]+)" selected', reorient.text)
    assert chosen is not None and chosen.group(1) == str(t.third)
