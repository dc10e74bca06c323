"""The search page as an advisor in Die sees it, in Debian's chromium at a desktop and a
phone width: the only mental-health service is 42 km away in Valence and reaches Die
through its zone, so the page must say that none is near, list it once, and carry the need
to the referral form; a misspelt place gets close names. Each page passes axe-core, and
the screenshots are saved under tests/screenshots/<test name>/ for a person to look at."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from directory.vocabulary import Domain
from service.accounts.store import Role
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import WIDTHS, _check, _is_error
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
SHOTS = Path(__file__).parent.parent / "screenshots"


async def _die() -> str:
    mission_locale = await f.structure("Mission Locale du Diois")
    await f.site(mission_locale, "26113")
    maison = await f.structure("Maison des adolescents de la Drôme")
    await f.site(
        maison, "26362", address="12 rue Pasteur", opening_hours="Mo-Fr 09:00-18:00; PH off"
    )
    contact = await f.person(maison, "Inès", "Berger", phone="04 75 11 22 33")
    await f.service(
        maison,
        "Consultations psychologiques jeunes",
        (Domain.HEALTH,),
        thematiques=["sante--sante-mentale"],
        zone=["26"],
        remote=True,
        contact_id=contact,
    )
    ecoute = await f.structure("Fil santé jeunes Drôme")
    await f.site(ecoute, "26362", opening_hours="24/7")
    await f.service(
        ecoute,
        "Écoute anonyme",
        (Domain.HEALTH,),
        thematiques=["sante--sante-mentale"],
        zone=["26"],
        remote=True,
    )
    _, email = await f.user(Role.ADVISOR, of=mission_locale)
    return email


@pytest.fixture
def advisor_in_die(database_url) -> str:
    return asyncio.run(_die())


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_search_says_no_partner_is_near_die(
    database_url,
    advisor_in_die,
    browser,  # noqa: F811
    width,
):
    shots = SHOTS / "test_search_says_no_partner_is_near_die"
    shots.mkdir(parents=True, exist_ok=True)
    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        sign_in(page, base, advisor_in_die)

        page.fill("#need", "santé mentale")
        page.fill("#place", "Die")
        page.select_option("#radius_km", "15")
        page.click("button[type=submit]:has-text('Rechercher')")
        page.wait_for_selector("#results-title")
        heading = page.inner_text("#results-title")
        assert heading.startswith("Aucun partenaire pour Santé mentale à moins de 15 km de Die")
        assert "voici les 2, plus loin, dont la zone couvre Die" in heading
        assert page.locator(".hit").count() == 2
        assert page.locator("#remote-title").count() == 0
        assert "Ouvert 24 h/24, 7 j/7" in page.inner_text("main")
        assert "Fermé les jours fériés" in page.inner_text("main")
        _check(page, errors, "recherche à Die")
        page.screenshot(path=str(shots / f"{width}-resultats.png"), full_page=True)

        page.locator(".hit", has_text="Consultations psychologiques").locator("a.button").click()
        page.wait_for_selector("#domain")
        assert page.eval_on_selector("#domain", "s => s.value") == "health"
        assert page.locator("#domain option").count() == 2  # "Choisir…" and Santé only
        page.screenshot(path=str(shots / f"{width}-orientation.png"), full_page=True)
        _check(page, errors, "formulaire d'orientation")

        page.goto(f"{base}/recherche")
        page.fill("#place", "valance")
        page.click("button[type=submit]:has-text('Rechercher')")
        page.wait_for_selector(".candidates")
        assert "Vouliez-vous dire" in page.inner_text(".candidates")
        assert page.locator(".candidates a", has_text="Valence (26").count() == 1
        _check(page, errors, "commune mal orthographiée")
        page.screenshot(path=str(shots / f"{width}-suggestions.png"), full_page=True)
