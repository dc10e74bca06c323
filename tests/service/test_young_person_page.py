"""The young person's page (/j/…) through HTTP, on both engines: it follows the referral's
state in plain words, gives the advisor's phone, takes one answer and tells the advisor."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from service.accounts.store import Role, create_api_token, create_user
from service.referrals.reminders import run_reminders
from tests import factories as f
from tests.outbox import mail_settled

VALENCE = "26362"
ADVISOR_EMAIL = "camille.rousset@ml-valence.exemple.fr"


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, mail_outbox=tmp_path / "outbox", base_url="http://maillage.test")


class Place:
    """A Mission Locale whose advisor Camille Rousset is in the directory with her phone,
    a partner (Le Relais des Monts) and a third structure to redirect to."""

    async def build(self) -> Place:
        self.mission_locale = await f.structure("Mission Locale Valence", phone="04 75 00 11 22")
        await f.site(self.mission_locale, VALENCE, address="12 rue Madier de Montjau")
        await f.person(
            self.mission_locale, "Camille", "Rousset", email=ADVISOR_EMAIL, phone="04 75 00 33 44"
        )
        self.advisor_id = await create_user(
            ADVISOR_EMAIL, "Camille Rousset", f.PASSWORD, Role.ADVISOR, self.mission_locale
        )
        self.advisor = {
            "Authorization": f"Bearer {await create_api_token(self.advisor_id, 'tests')}"
        }
        self.partner = await f.structure("Le Relais des Monts")
        await f.site(self.partner, VALENCE, address="5 avenue de Lyon")
        self.third = await f.structure("Résidence sociale du Rhône")
        await f.site(self.third, "26058", address="3 place du Champ de Mars")
        return self


@pytest.fixture
async def place(database_url) -> Place:
    return await Place().build()


async def _send(client, place: Place) -> tuple[str, str, str]:
    body = {
        "to_structure_id": str(place.partner),
        "domain": "housing",
        "message": "Cherche un logement.",
        "young_person": {
            "first_name": "Inès",
            "age_range": "18-21",
            "commune": VALENCE,
            "email": "ines@exemple.fr",
            "channel": "email",
        },
        "consent": {"given": True, "shares": ["age", "commune"]},
    }
    response = await client.post("/api/v1/referrals", json=body, headers=place.advisor)
    assert response.status_code == 201, response.text
    sent = response.json()
    return (
        sent["id"],
        sent["partner_link"].rsplit("/", 1)[1],
        sent["young_person_link"].rsplit("/", 1)[1],
    )


async def _partner(client, token: str, transition: str, **fields) -> None:
    response = await client.post(
        f"/api/v1/links/{token}/actions", json={"transition": transition, **fields}
    )
    assert response.status_code == 201, response.text


def _words(html: str) -> str:
    """The page's text as read aloud: tags dropped, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


async def _answer(client, token: str, data: dict, page: str = ""):
    return await f.form_post(client, f"/j/{token}/actions", data, page_url=f"/j/{token}{page}")


def _calls_camille(html: str) -> bool:
    return 'href="tel:+33475003344"' in html and "12 rue Madier de Montjau" in html


@pytest.mark.parametrize(
    ("steps", "wording"),
    [
        (
            [("decline", {"reason": "no_capacity"})],
            "Le Relais des Monts ne peut pas vous recevoir. Camille Rousset va vous recontacter",
        ),
        ([("expire", {})], "Le Relais des Monts n’a pas répondu à temps. Camille Rousset va"),
        (
            [("accept", {}), ("no_show", {})],
            "le rendez-vous n’a pas eu lieu. Camille Rousset va vous recontacter",
        ),
    ],
)
async def test_a_closed_referral_says_what_happens_now(client, place, settings, steps, wording):
    _id, partner, young = await _send(client, place)
    for transition, fields in steps:
        if transition == "expire":
            # The deadline worker, run well after the partner's time to answer.
            later = datetime.now(UTC) + timedelta(days=60)
            await run_reminders(settings.referral_rules, now=later)
        else:
            await _partner(client, partner, transition, **fields)
    page = await client.get(f"/j/{young}")
    assert page.status_code == 200
    text = _words(page.text)
    assert wording in text
    assert _calls_camille(page.text)
    assert "Où aller" not in text and "Dites-nous" not in text
    assert "J’ai changé d’avis" not in text


async def test_a_redirected_referral_shows_the_new_place(client, place):
    _id, partner, young = await _send(client, place)
    await _partner(client, partner, "redirect", redirect_to_structure_id=str(place.third))
    text = _words((await client.get(f"/j/{young}")).text)
    assert "transmise à Résidence sociale du Rhône" in text
    assert "Où aller" in text and "3 place du Champ de Mars" in text
    assert "5 avenue de Lyon" not in text


async def test_a_cancelled_referral_says_not_to_go(client, place):
    referral_id, _partner_token, young = await _send(client, place)
    cancelled = await client.post(
        f"/api/v1/referrals/{referral_id}/actions",
        json={"transition": "cancel", "reason": "other_solution"},
        headers=place.advisor,
    )
    assert cancelled.status_code == 201
    page = await client.get(f"/j/{young}")
    text = _words(page.text)
    assert "Cette orientation est annulée : inutile de vous rendre chez Le Relais des Monts" in (
        text
    )
    assert _calls_camille(page.text) and "Où aller" not in text


async def test_an_open_referral_gives_the_advisor_phone_and_no_staff_links(client, place):
    _id, _partner_token, young = await _send(client, place)
    page = await client.get(f"/j/{young}")
    assert _calls_camille(page.text)
    assert "Appeler Camille Rousset au" in _words(page.text)
    assert 'href="/"' not in page.text and "/orientations" not in page.text
    # The answers come in order; changing one's mind is last and asks for a confirmation.
    text = _words(page.text)
    assert text.index("J’y suis allé·e") < text.index("Je n’ai pas pu y aller")
    assert text.index("Je n’ai pas pu y aller") < text.index("J’ai changé d’avis")
    assert 'value="withdraw"' not in page.text
    confirm = await client.get(f"/j/{young}/changer-d-avis")
    assert "Oui, annuler l’orientation" in confirm.text and 'value="withdraw"' in confirm.text
    withdrawn = await _answer(client, young, {"transition": "withdraw"}, "/changer-d-avis")
    assert "Cette orientation est annulée" in _words(withdrawn.text)
    assert "ne sont plus partagées avec Le Relais des Monts" in _words(withdrawn.text)


async def test_a_bad_young_person_link_shows_a_plain_page(client, place):
    page = await client.get("/j/not-a-real-token")
    assert page.status_code == 403
    assert "Ce lien ne s’ouvre pas" in page.text
    assert 'href="/"' not in page.text and "login" not in page.text
    missing = await client.get("/j/not-a-real-token/nulle-part")
    assert missing.status_code == 404 and 'href="/"' not in missing.text


async def test_could_not_go_asks_why_tells_what_next_and_is_said_once(client, place, settings):
    referral_id, partner, young = await _send(client, place)
    await _partner(client, partner, "accept")
    step = await client.get(f"/j/{young}/pas-pu")
    left_open = f.csrf_token(step.text)
    assert (
        "Un problème de transport" in step.text
        and "Je voudrais que Camille Rousset me rappelle" in _words(step.text)
    )
    no_reason = await _answer(client, young, {"transition": "could_not_go"}, "/pas-pu")
    assert no_reason.status_code == 400 and "Choisissez une raison" in no_reason.text
    answered = await _answer(
        client,
        young,
        {"transition": "could_not_go", "reason": "transport", "call_back": "true"},
        "/pas-pu",
    )
    assert answered.status_code == 200  # followed the redirect: POST/redirect/GET
    text = _words(answered.text)
    assert "que vous n’avez pas pu y aller. Raison : Un problème de transport." in text
    assert "Camille Rousset est prévenu·e et va vous rappeler" in text
    assert "comme vous l’avez demandé" in text
    assert "Dites-nous" not in text  # the answer buttons are gone
    # A second answer, from a page left open, is refused and changes nothing.
    again = await client.post(
        f"/j/{young}/actions",
        data={"transition": "went", "_csrf_token": left_open},
    )
    assert again.status_code == 409 and "Vous avez déjà répondu" in again.text
    # The advisor sees it in the list and on the referral page, and got a mail.
    await f.login(client, ADVISOR_EMAIL)
    listing = _words((await client.get("/orientations")).text)
    assert "Le jeune dit ne pas avoir pu y aller" in listing
    detail = _words((await client.get(f"/orientations/{referral_id}")).text)
    assert "Le jeune dit ne pas avoir pu y aller" in detail
    assert "un problème de transport" in detail and "Je voudrais être recontacté·e." in detail
    await mail_settled()
    mails = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(settings.mail_outbox.glob("*.eml"))
    ]
    bodies = [m.get_body(("plain",)).get_content() for m in mails if m["To"] == ADVISOR_EMAIL]
    # One mail for the partner's acceptance, one for the young person's answer; no more.
    assert len(bodies) == 2
    told = [b for b in bodies if "Le jeune dit ne pas avoir pu y aller" in b]
    assert len(told) == 1
    assert "Raison donnée : un problème de transport" in told[0]
    assert "demande à être recontacté·e" in told[0]


async def test_went_is_said_once_and_seen_by_the_advisor(client, place):
    _id, partner, young = await _send(client, place)
    await _partner(client, partner, "accept")
    left_open = f.csrf_token((await client.get(f"/j/{young}")).text)
    answered = await _answer(client, young, {"transition": "went"})
    assert "que vous y êtes allé·e. Merci" in _words(answered.text)
    again = await client.post(
        f"/j/{young}/actions",
        data={
            "transition": "could_not_go",
            "reason": "health",
            "_csrf_token": left_open,
        },
    )
    assert again.status_code == 409 and "Vous avez déjà répondu" in again.text
    await f.login(client, ADVISOR_EMAIL)
    assert "Le jeune dit y être allé·e" in _words((await client.get("/orientations")).text)
