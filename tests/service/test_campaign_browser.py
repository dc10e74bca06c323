"""A verification campaign in a real browser (Debian's chromium) under the real CSP: the
coordinator previews and starts a campaign (desktop and phone widths), then a partner opens
its link on a small phone (320 px), corrects its hours and confirms the rest. Each page
passes axe-core, does not scroll sideways and logs no error; screenshots go to
tests/screenshots/test_campaign_in_a_browser/."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from directory import territories
from directory.verification import Verifier
from service.accounts.store import Role
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import WIDTHS, _check, _is_error
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
SHOTS = Path(__file__).parent.parent / "screenshots" / "test_campaign_in_a_browser"
SERVER_TIME = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
OLD = Verifier("coordinator", "Coordination", datetime(2025, 6, 1, tzinfo=UTC))


@pytest.fixture
def coordinator(database_url) -> str:
    async def setup() -> str:
        mission_locale = await f.structure("Mission Locale Valence", phone="04 75 82 11 20")
        await territories.save("Valence et Crest", ["26362", "26108"])
        foyer = await f.structure(
            "Foyer de jeunes travailleurs Le Relais",
            by=OLD,
            email="accueil@relais.fr",
            phone="04 75 00 00 01",
            description="Logement temporaire pour les 16-30 ans.",
        )
        await f.site(foyer, "26362", address="3 rue Bouffier", opening_hours="Mo-Fr 09:00-12:00")
        lucie = await f.person(foyer, "Lucie", "Bernard", role="Directrice", phone="04 75 00 00 02")
        await f.person(foyer, "Samir", "Haddad", role="Éducateur")
        await f.service(
            foyer,
            "Hébergement temporaire",
            by=OLD,
            conditions="Avoir 16 à 30 ans.",
            contact_id=str(lucie),
        )
        garage = await f.structure("Garage solidaire", by=OLD, phone="04 75 00 00 09")
        await f.site(garage, "26108")
        return (await f.user(Role.COORDINATOR, of=mission_locale))[1]

    return asyncio.run(setup())


def _mailed_link(outbox: Path) -> str:
    deadline = time.monotonic() + 10
    while not list(outbox.glob("*.eml")):
        assert time.monotonic() < deadline, "no mail in the outbox"
        time.sleep(0.1)
    [path] = outbox.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "accueil@relais.fr"
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+?(/fiche/\S+)", text).group(1)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_campaign_in_a_browser(
    database_url,
    coordinator,
    browser,  # noqa: F811
    width,
    tmp_path,
    monkeypatch,
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("MAILLAGE_MAIL_OUTBOX", str(tmp_path))

    def shot(page, name: str) -> None:
        page.screenshot(
            path=str(SHOTS / f"{name}-{page.viewport_size['width']}.png"), full_page=True
        )

    with running_server(database_url, at=SERVER_TIME) as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        sign_in(page, base, coordinator)
        page.goto(f"{base}/campagnes")
        _check(page, errors, "campagnes")
        page.fill("#name", "Printemps 2027")
        page.select_option("#territory_id", label="Valence et Crest")
        page.click("text=Voir qui recevra le courriel")
        page.wait_for_url(f"{base}/campagnes?apercu=*")
        preview = page.inner_text("main")
        assert "Aperçu : 2 structures" in preview and "1 n’ont pas d’adresse" in preview
        _check(page, errors, "aperçu")
        shot(page, "1-apercu")
        page.click("text=Lancer la campagne et envoyer 1 courriel")
        page.wait_for_url(re.compile(r".*/campagnes/[0-9a-f-]{36}$"))
        campaign_url = page.url
        assert "À appeler (1)" in page.inner_text("main")
        _check(page, errors, "campagne lancée")
        shot(page, "2-campagne")

        phone = browser.new_page(viewport={"width": 320, "height": 700})
        phone_errors: list[str] = []
        phone.on("console", lambda m: phone_errors.append(m.text) if _is_error(m) else None)
        link = base + _mailed_link(tmp_path)
        phone.goto(link)
        assert "Votre fiche dans l’annuaire" in phone.inner_text("h1")
        _check(phone, phone_errors, "fiche du partenaire")
        shot(phone, "3-fiche-partenaire")
        phone.click("text=Corriger ce lieu")
        _check(phone, phone_errors, "formulaire du lieu")
        shot(phone, "4-lieu")
        phone.fill("#opening_hours", "Mo-Fr 14:00-18:00")
        phone.click("main form button[type=submit]")
        phone.wait_for_url(f"{link}?enregistre=*")
        assert "14 h 00 – 18 h 00" in phone.inner_text("main")
        _check(phone, phone_errors, "lieu corrigé")
        for label, name in (
            ("Corriger la structure", "structure"),
            ("Corriger ce service", "service"),
            ("Ajouter une personne", "personne"),
        ):
            phone.click(f"text={label}")
            _check(phone, phone_errors, f"formulaire {name}")
            shot(phone, f"4-{name}")
            phone.click("text=Revenir à la fiche sans enregistrer")
        phone.click("text=Rien n’a changé, ma fiche est à jour")
        phone.wait_for_url(f"{link}?enregistre=a-jour*")
        assert "Votre fiche est confirmée à jour" in phone.inner_text("main")
        _check(phone, phone_errors, "fiche confirmée")
        shot(phone, "5-confirmee")
        phone.click("text=Lucie Bernard a quitté la structure")
        assert "Hébergement temporaire" in phone.inner_text("main")
        phone.click("text=Confirmer le départ")  # nobody named yet: the page asks
        assert "Qui reprend" in phone.inner_text(".error-summary")
        phone_errors[:] = [e for e in phone_errors if "status of 400" not in e]  # as meant
        _check(phone, phone_errors, "départ : qui reprend ?")
        shot(phone, "6-depart")
        phone.select_option("main select", label="Samir Haddad (Éducateur)")
        phone.click("text=Confirmer le départ")
        phone.wait_for_url(f"{link}?enregistre=personnes*")
        assert "A quitté la structure" in phone.inner_text("main")
        _check(phone, phone_errors, "départ enregistré")
        phone.goto(f"{base}/fiche/un-lien-perdu")
        assert "Ce lien ne s’ouvre pas" in phone.inner_text("h1")
        assert phone.locator("a[href='/login'], a[href='/']").count() == 0
        # The 404 itself is what chromium logs: expected here, not a fault of the page.
        phone_errors[:] = [e for e in phone_errors if "status of 404" not in e]
        _check(phone, phone_errors, "lien invalide")
        shot(phone, "7-lien-invalide")

        page.goto(campaign_url)
        main = " ".join(page.inner_text("main").split())
        assert "1 structure sur 2 a répondu (50 %)" in main
        assert "a corrigé" in main
        _check(page, errors, "avancement")
        shot(page, "6-avancement")
