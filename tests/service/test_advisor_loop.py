"""The advisor's side of the referral loop: one's own structure is marked and never offered,
the send form reports every error at once, and after a decline the advisor re-orients the
young person with the form pre-filled."""

from __future__ import annotations

import re

from service.accounts.store import Role
from service.referrals.tables import Referral, YoungPerson
from tests import factories as f

VALENCE = "26362"


async def _mission_locale_and_partner():
    own = await f.structure("Mission Locale Valence", email="ml@exemple.fr")
    await f.site(own, VALENCE)
    await f.service(own, "Accompagnement vers l'emploi", domains=["employment"])
    partner = await f.structure("Point Accueil Écoute Jeunes", email="paej@exemple.fr")
    await f.site(partner, VALENCE)
    service = await f.service(partner, "Écoute et orientation", domains=["employment"])
    return own, partner, service


async def test_own_structure_is_marked_and_offers_no_referral(client):
    own, partner, _service = await _mission_locale_and_partner()
    await f.logged_in(client, Role.ADVISOR, of=own)
    results = await client.get("/recherche", params={"commune": VALENCE, "need": "emploi"})
    assert results.status_code == 200
    assert results.text.count("Votre structure") == 1
    assert f"/orientations/nouvelle?structure={own}" not in results.text
    assert f"/orientations/nouvelle?structure={partner}" in results.text

    page = await client.get(f"/structures/{own}")
    assert "Votre structure" in page.text
    assert "/orientations/nouvelle" not in page.text
    other = await client.get(f"/structures/{partner}")
    assert "Votre structure" not in other.text
    assert f"/orientations/nouvelle?structure={partner}" in other.text


async def test_send_form_reports_every_error_at_once_own_structure_included(client):
    own, _partner, _service = await _mission_locale_and_partner()
    await f.logged_in(client, Role.ADVISOR, of=own)
    url = f"/orientations/nouvelle?structure={own}"
    page = await client.get(url)
    assert "C&#39;est votre propre structure" in page.text  # said before anything is typed
    refused = await client.post(
        url,
        data={"_csrf_token": f.csrf_token(page.text), "commune": "Nulle-Part-sur-Mer"},
    )
    assert refused.status_code == 400
    summary = re.search(r'<div class="error-summary".*?</div>', refused.text, re.S).group(0)
    assert "autofocus" in summary  # focus moves to the summary
    for field in ("to_structure_id", "commune", "first_name", "consent", "domain"):
        assert f'href="#{field}"' in summary, field
    assert "5 erreurs" in summary
    assert await Referral.count() == 0


async def _declined(client, note: str) -> Referral:
    own, partner, service = await _mission_locale_and_partner()
    await f.structure("Foyer des Jeunes Travailleurs")
    await f.logged_in(client, Role.ADVISOR, of=own)
    url = f"/orientations/nouvelle?structure={partner}&service={service}"
    page = await client.get(url)
    sent = await client.post(
        url,
        data={
            "_csrf_token": f.csrf_token(page.text),
            "_once": re.search(r'name="_once" value="([^"]+)"', page.text).group(1),
            "domain": "employment",
            "first_name": "Inès",
            "commune": VALENCE,
            "consent": "on",
            "shares": ["commune", "message"],
            "message": "Cherche un premier emploi.",
        },
    )
    link = re.search(r"http://[^/]+(/p/[^<]+)</code>", sent.text).group(1)
    cookies = dict(client.cookies)
    client.cookies.clear()  # the partner answers from its link, without an account
    answer_page = await client.get(link)
    version = re.search(r'name="expected_version" value="(\d+)"', answer_page.text).group(1)
    declined = await client.post(
        f"{link}/actions",
        data={
            "transition": "decline",
            "reason": "wrong_service",
            "note": note,
            "expected_version": version,
            "_csrf_token": f.csrf_token(answer_page.text),
        },
    )
    assert declined.status_code == 200, declined.text
    client.cookies.update(cookies)
    return await Referral.objects().first()


async def test_after_a_decline_the_advisor_reorients_with_the_form_prefilled(client):
    referral = await _declined(client, "Voyez plutôt le Foyer des Jeunes Travailleurs.")
    page = await client.get(f"/orientations/{referral.id}")
    assert '<span class="badge status-declined">Refusée</span>' in page.text
    assert f'href="/orientations/{referral.id}/reorienter"' in page.text

    form = await client.get(f"/orientations/{referral.id}/reorienter")
    assert form.status_code == 200
    assert "Inès" in form.text and "Voyez plutôt le Foyer" in form.text
    assert re.search(r'<option value="employment" selected', form.text)
    assert "Cherche un premier emploi." in form.text
    assert re.search(r'id="consent" name="consent" value="on" checked', form.text)
    # The structure the partner names is chosen already, or one click away.
    assert "<strong>Foyer des Jeunes Travailleurs</strong>, déjà choisie" in form.text
    foyer = re.search(r'<option value="([^"]+)" selected>Foyer des Jeunes', form.text).group(1)
    elsewhere = await client.get(
        f"/orientations/{referral.id}/reorienter?structure={referral.from_structure}"
    )
    assert f'href="/orientations/{referral.id}/reorienter?structure={foyer}"' in elsewhere.text
    assert "Choisir Foyer des Jeunes Travailleurs" in elsewhere.text

    url = f"/orientations/{referral.id}/reorienter"
    data = {
        "_csrf_token": f.csrf_token(form.text),
        "_once": re.search(r'name="_once" value="([^"]+)"', form.text).group(1),
        "to_structure_id": foyer,
        "domain": "employment",
        "message": "Cherche un premier emploi.",
        "consent": "on",
        "shares": ["commune"],
    }
    first = await client.post(url, data=data, follow_redirects=False)
    again = await client.post(url, data=data, follow_redirects=False)  # a reload
    assert first.status_code == 303, first.text
    assert again.headers["location"] == first.headers["location"]
    sent = await client.get(first.headers["location"])
    assert "Orientation envoyée à Foyer des Jeunes Travailleurs" in sent.text
    assert await Referral.count() == 2
    second = await Referral.objects().where(Referral.id != referral.id).first()
    assert str(second.to_structure) == foyer and second.status == "sent"
    # The same young person, the same referent: the journey continues.
    assert second.young_person == referral.young_person
    assert second.referent == referral.referent
    assert await YoungPerson.count() == 1


async def test_reorienting_reports_every_error_and_refuses_open_referrals(client):
    referral = await _declined(client, "")
    form = await client.get(f"/orientations/{referral.id}/reorienter")
    refused = await client.post(
        f"/orientations/{referral.id}/reorienter",
        data={"_csrf_token": f.csrf_token(form.text), "domain": ""},
    )
    assert refused.status_code == 400
    for field in ("to_structure_id", "consent", "domain"):
        assert f'id="{field}-error"' in refused.text, field
    assert await Referral.count() == 1

    await Referral.update({Referral.status: "accepted"}).where(Referral.id == referral.id)
    still_open = await client.get(f"/orientations/{referral.id}/reorienter")
    assert still_open.status_code == 409


async def test_expired_and_no_show_referrals_offer_to_reorient_too(client):
    referral = await _declined(client, "")
    for status in ("expired", "failed"):
        await Referral.update({Referral.status: status}).where(Referral.id == referral.id)
        page = await client.get(f"/orientations/{referral.id}")
        assert f'href="/orientations/{referral.id}/reorienter"' in page.text, status
        assert f'class="badge status-{status}"' in page.text
        form = await client.get(f"/orientations/{referral.id}/reorienter")
        assert form.status_code == 200 and "Cherche un premier emploi." in form.text
