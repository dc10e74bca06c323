"""A referral's history reads as sentences naming who did what, on the advisor's referral
page, the partner's link page and in the API."""

from __future__ import annotations

import html
import re
from dataclasses import replace

import pytest

from service.accounts.store import Role
from service.referrals.machine import Party, Transition
from service.referrals.phrases import PARTNER_LINK_LABEL, event_sentence
from tests import factories as f

VALENCE = "26362"


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, mail_outbox=tmp_path / "outbox", base_url="http://maillage.test")


@pytest.mark.parametrize(
    ("transition", "kind", "label", "sentence"),
    [
        (
            Transition.SEND,
            Party.ADVISOR,
            "Camille Rousset",
            "Camille Rousset a envoyé l'orientation",
        ),
        (Transition.ACKNOWLEDGE, Party.PARTNER, PARTNER_LINK_LABEL, "Le Foyer a accusé réception"),
        (
            Transition.ACCEPT,
            Party.PARTNER,
            "Léna Faure",
            "Léna Faure (Le Foyer) a accepté l'orientation",
        ),
        (Transition.WENT, Party.YOUNG_PERSON, "Le jeune", "Le jeune dit y être allé·e"),
        (
            Transition.COULD_NOT_GO,
            Party.YOUNG_PERSON,
            "Le jeune",
            "Le jeune dit ne pas avoir pu y aller",
        ),
        (Transition.WITHDRAW, Party.YOUNG_PERSON, "Le jeune", "Le jeune a retiré son consentement"),
        (
            Transition.EXPIRE,
            Party.SYSTEM,
            "Maillage (délai dépassé)",
            "L'orientation a expiré : le délai de réponse est passé sans réponse",
        ),
    ],
)
def test_each_event_is_a_sentence(transition, kind, label, sentence):
    assert event_sentence(transition, kind, label, "Le Foyer") == sentence


def test_every_transition_has_a_sentence():
    for transition in Transition:
        assert event_sentence(transition, Party.ADVISOR, "Camille Rousset", "Le Foyer")


def _history(page: str) -> list[str]:
    section = re.search(r'<ol class="history">(.*?)</ol>', page, re.S)
    assert section is not None, "no history on the page"
    items = re.findall(r"<li>.*?</time> — (.*?)</li>", section[1], re.S)
    return [html.unescape(re.sub(r"\s+", " ", item)).strip() for item in items]


async def test_the_history_reads_as_sentences_for_advisor_and_partner(client):
    mission_locale = await f.structure("Mission Locale Valence")
    partner = await f.structure("Foyer Jeunes Travailleurs", email="accueil@fjt.exemple.fr")
    await f.site(partner, VALENCE)
    service = await f.service(partner, "Logement temporaire")
    advisor = await f.api_client_headers(Role.ADVISOR, of=mission_locale)
    body = {
        "to_structure_id": str(partner),
        "to_service_id": str(service),
        "domain": "housing",
        "young_person": {
            "first_name": "Yanis",
            "age_range": "18-21",
            "commune": VALENCE,
            "email": "yanis@exemple.fr",
            "channel": "email",
        },
        "consent": {"given": True, "shares": ["age", "commune"]},
    }
    sent = await client.post("/api/v1/referrals", json=body, headers=advisor)
    assert sent.status_code == 201, sent.text
    referral = sent.json()
    partner_token = referral["partner_link"].rsplit("/", 1)[1]
    young_token = referral["young_person_link"].rsplit("/", 1)[1]
    for token, transition in (
        (partner_token, "acknowledge"),
        (partner_token, "accept"),
        (young_token, "went"),
    ):
        acted = await client.post(f"/api/v1/links/{token}/actions", json={"transition": transition})
        assert acted.status_code == 201, acted.text

    expected = [
        "Dominique Test a envoyé l'orientation",
        "Foyer Jeunes Travailleurs a accusé réception",
        "Foyer Jeunes Travailleurs a accepté l'orientation",
        "Le jeune dit y être allé·e",
    ]
    api = await client.get(f"/api/v1/referrals/{referral['id']}", headers=advisor)
    assert [e["sentence"] for e in api.json()["events"]] == expected

    partner_page = await client.get(f"/p/{partner_token}")
    assert partner_page.status_code == 200
    assert _history(partner_page.text) == expected

    await f.logged_in(client, Role.ADVISOR, of=mission_locale)
    advisor_page = await client.get(f"/orientations/{referral['id']}")
    assert advisor_page.status_code == 200
    assert _history(advisor_page.text) == expected
