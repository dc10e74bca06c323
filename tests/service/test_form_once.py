"""Every page form that changes something carries a one-time key: a reload of the answer,
a double click or a browser retry acts once, and is sent where the first one went."""

from __future__ import annotations

import asyncio
import re

from conventions.tables import Convention
from directory.tables import Relationship, Territory
from service.accounts.store import Role
from service.accounts.tables import FormSubmission
from service.referrals.tables import IdempotencyKey, OutboxMessage, Referral, ReferralEvent
from tests import factories as f

VALENCE = "26362"


def _once(html: str) -> str:
    match = re.search(r'name="_once" value="([^"]+)"', html)
    assert match, "the form carries no one-time key"
    return match.group(1)


async def _twice(client, url: str, page_url: str, data: dict, files: dict | None = None):
    """Submit the form read from `page_url` twice with the same key, as a reload does."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    form = {**data, "_csrf_token": f.csrf_token(page.text), "_once": _once(page.text)}
    first = await client.post(url, data=form, files=files, follow_redirects=False)
    again = await client.post(url, data=form, files=files, follow_redirects=False)
    return first, again


async def test_directory_form_sent_twice_creates_one_relationship(client):
    own = await f.structure("Mission Locale")
    partner = await f.structure("Foyer des Jeunes")
    await f.logged_in(client, Role.ADVISOR, of=own)
    url = f"/structures/{own}/relations/nouvelle"
    data = {"target": f"s:{partner}", "level": "operational", "kind": "partnership"}
    first, again = await _twice(client, url, url, data)
    assert first.status_code in (302, 303), first.text
    assert again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    assert await Relationship.count() == 1


async def test_refused_submission_gives_its_key_back_for_the_corrected_form(client):
    own = await f.structure("Mission Locale")
    partner = await f.structure("Foyer des Jeunes")
    await f.logged_in(client, Role.ADVISOR, of=own)
    url = f"/structures/{own}/relations/nouvelle"
    page = await client.get(url)
    key = _once(page.text)
    base = {"_csrf_token": f.csrf_token(page.text), "_once": key, "kind": "partnership"}
    refused = await client.post(url, data={**base, "target": f"s:{partner}", "level": "x"})
    assert refused.status_code == 400
    fixed = {**base, "target": f"s:{partner}", "level": "operational"}
    saved = await client.post(url, data=fixed, follow_redirects=False)
    assert saved.status_code in (302, 303), saved.text
    assert await Relationship.count() == 1


async def test_territory_form_with_a_file_sent_twice_creates_one_territory(client):
    await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Mission Locale"))
    data = {"name": "Valence", "codes": VALENCE, "reach": ""}
    files = {"csv": ("vide.csv", b"")}
    first, again = await _twice(client, "/territoires", "/territoires", data, files)
    assert first.status_code in (302, 303), first.text
    assert again.headers["location"] == first.headers["location"]
    assert await Territory.count() == 1


async def _sent_referral(client):
    own = await f.structure("Mission Locale")
    partner = await f.structure("Point Accueil Écoute Jeunes", email="paej@exemple.fr")
    await f.site(partner, VALENCE)
    await f.logged_in(client, Role.ADVISOR, of=own)
    url = f"/orientations/nouvelle?structure={partner}"
    data = {"domain": "health", "first_name": "Inès", "commune": VALENCE, "consent": "on"}
    first, again = await _twice(client, url, url, data)
    assert first.status_code == 303, first.text
    assert again.headers["location"] == first.headers["location"]
    assert await Referral.count() == 1
    return (await Referral.objects().first()).id, first.headers["location"]


async def test_referral_action_sent_twice_is_recorded_once(client):
    referral_id, _landing = await _sent_referral(client)
    page_url = f"/orientations/{referral_id}"
    data = {"transition": "hold", "reason": "young_person_time"}
    first, again = await _twice(client, f"{page_url}/actions", page_url, data)
    assert first.status_code in (302, 303), first.text
    # Without the key the second one would be refused (already on hold): it is sent back
    # to the page the first one led to.
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    holds = await ReferralEvent.count().where(ReferralEvent.transition == "hold")
    assert holds == 1


async def test_new_partner_link_sent_twice_mails_the_partner_once(client):
    referral_id, _landing = await _sent_referral(client)
    mails_before = await OutboxMessage.count()
    page_url = f"/orientations/{referral_id}"
    first, again = await _twice(client, f"{page_url}/lien", page_url, {})
    assert first.status_code == 200 and "Un nouveau lien a été envoyé" in first.text
    assert again.status_code == 303 and again.headers["location"] == page_url
    assert await OutboxMessage.count() == mails_before + 1


async def test_every_state_changing_staff_form_carries_a_one_time_key(client):
    own = await f.structure("Mission Locale")
    await f.logged_in(client, Role.ADMIN, of=own)
    for url in (
        f"/structures/{own}/modifier",
        f"/structures/{own}/sites/nouveau",
        f"/structures/{own}/services/nouveau",
        f"/structures/{own}/personnes/nouvelle",
        f"/structures/{own}/relations/nouvelle",
        "/conventions/nouvelle",
        "/territoires",
        "/structures/import-data-inclusion",
        "/compte",
    ):
        page = await client.get(url)
        assert page.status_code == 200, url
        forms = re.findall(r'<form method="post".*?</form>', page.text, re.S)
        assert forms, url
        for form in forms:
            if 'action="/logout"' not in form:
                assert 'name="_once"' in form, (url, form[:120])


async def test_convention_form_sent_twice_creates_one_convention(client):
    ml = await f.structure("Mission Locale")
    partner = await f.structure("Centre de santé")
    await f.logged_in(client, Role.COORDINATOR, of=ml)
    data = {
        "title": "Convention santé",
        "level": "organisational",
        "domains": ["health"],
        "structures": [str(ml), str(partner)],
        "starts_on": "2026-01-05",
    }
    url = "/conventions/nouvelle"
    first, again = await _twice(client, url, url, data)
    assert first.status_code in (302, 303), first.text
    assert again.headers["location"] == first.headers["location"]
    assert await Convention.count() == 1


async def test_a_double_click_sent_at_the_same_moment_acts_once(client):
    own = await f.structure("Mission Locale")
    partner = await f.structure("Foyer des Jeunes")
    await f.logged_in(client, Role.ADVISOR, of=own)
    url = f"/structures/{own}/relations/nouvelle"
    page = await client.get(url)
    form = {
        "target": f"s:{partner}",
        "level": "operational",
        "kind": "partnership",
        "_csrf_token": f.csrf_token(page.text),
        "_once": _once(page.text),
    }
    answers = await asyncio.gather(
        *(client.post(url, data=form, follow_redirects=False) for _ in range(3))
    )
    assert {a.status_code for a in answers} <= {302, 303}, [a.text for a in answers]
    assert len({a.headers["location"] for a in answers}) == 1
    assert await Relationship.count() == 1


async def test_the_send_forms_key_is_never_stored_in_clear(client):
    # The send form's key opens the sealed personal links: only its hash may be kept.
    await _sent_referral(client)
    stored = await FormSubmission.select(FormSubmission.key_hash, FormSubmission.location)
    sealed = await IdempotencyKey.select(IdempotencyKey.key_hash)
    assert sealed and all("envoyee=" not in row["location"] for row in stored)


async def test_partner_answer_sent_twice_from_its_link_is_recorded_once(client):
    _referral_id, landing = await _sent_referral(client)
    sent_page = await client.get(landing)
    link = re.search(r"http://[^/]+(/p/[^<]+)</code>", sent_page.text).group(1)
    client.cookies.clear()  # the partner answers from its link, without an account
    answer = await client.get(link)
    version = re.search(r'name="expected_version" value="(\d+)"', answer.text).group(1)
    data = {"transition": "acknowledge", "expected_version": version}
    first, again = await _twice(client, f"{link}/actions", link, data)
    assert first.status_code in (302, 303), first.text
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    acks = await ReferralEvent.count().where(ReferralEvent.transition == "acknowledge")
    assert acks == 1
    stored = await FormSubmission.select(FormSubmission.location)
    token = link.split("/")[2]
    assert stored and all(token not in row["location"] for row in stored)  # never in clear
