"""People who leave and reports of wrong data in a real browser (Debian's chromium) under
the real CSP, at a desktop and a phone width: a coordinator records a departure and sees
what lost its contact on the network page; an advisor reports an error from a search
result; a coordinator reads and closes it on /signalements. Each page passes axe-core, does
not scroll sideways and logs no error; screenshots go to tests/screenshots/<test name>/."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from conventions import store as conventions
from conventions.schemas import ConventionWrite, PartyIn
from directory.tables import Structure
from directory.vocabulary import Level
from service.accounts.store import Role
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import WIDTHS, _check, _is_error
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
SCREENSHOTS = Path(__file__).parent.parent / "screenshots"
VALENCE = "26362"


@pytest.fixture
def scene(database_url) -> dict[str, str]:
    async def setup() -> dict[str, str]:
        mission = await f.structure("Mission Locale Valence")
        home, service = await f.partner("Habitat Jeunes Valence", VALENCE)
        await Structure.update({Structure.email: "hjv@exemple.fr"}).where(Structure.id == home)
        nora = await f.person(home, "Nora", "Benali", role="Chargée d'accueil")
        await f.person(home, "Paul", "Girard", role="Directeur")
        await f.service(home, "Logement d'urgence", contact_id=str(nora))
        await conventions.create(
            ConventionWrite(
                title="Logement des jeunes de la Drôme",
                level=Level.OPERATIONAL,
                parties=[PartyIn(home, nora), PartyIn(mission, None)],
                starts_on=date(2026, 1, 1),
            )
        )
        return {
            "home": str(home),
            "service": str(service),
            "nora": str(nora),
            "coordinator": (await f.user(Role.COORDINATOR, of=mission))[1],
            "advisor": (await f.user(Role.ADVISOR, of=mission))[1],
        }

    return asyncio.run(setup())


def _page(browser, width: int, errors: list[str]):  # noqa: F811
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
    return page


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_departure_in_a_browser(database_url, scene, browser, width):  # noqa: F811
    shots = SCREENSHOTS / "test_departure_in_a_browser"
    shots.mkdir(parents=True, exist_ok=True)
    with running_server(database_url) as base:
        errors: list[str] = []
        page = _page(browser, width, errors)
        sign_in(page, base, scene["coordinator"])
        page.goto(f"{base}/structures/{scene['home']}")
        page.click("text=Départ de Nora Benali")
        page.wait_for_url(f"{base}/structures/{scene['home']}/personnes/{scene['nora']}/depart")
        main = page.inner_text("main")
        assert "Logement d'urgence" in main and "Logement des jeunes de la Drôme" in main
        _check(page, errors, "page de départ")
        page.screenshot(path=str(shots / f"1-depart-{width}.png"), full_page=True)

        page.click("main form button[type=submit]")  # nobody chosen: asked again
        assert "Qui reprend" in page.inner_text(".error-summary")
        _check(page, errors, "page de départ avec erreurs")
        page.screenshot(path=str(shots / f"2-depart-erreurs-{width}.png"), full_page=True)

        page.fill("#left_on", "2026-11-30")
        selects = page.locator("main form select")
        selects.nth(0).select_option(label="Paul Girard (Directeur)")
        selects.nth(1).select_option(label="Personne pour l'instant")
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{base}/structures/{scene['home']}?notice=*")
        main = page.inner_text("main")
        assert "Le départ de Nora Benali est enregistré" in main
        assert "Sans contact depuis un départ (1)" in main
        _check(page, errors, "fiche après le départ")
        page.screenshot(path=str(shots / f"3-fiche-apres-depart-{width}.png"))
        page.locator("section[aria-labelledby=people-title]").screenshot(
            path=str(shots / f"3-fiche-personnes-{width}.png")
        )

        page.goto(f"{base}/reseau")
        lost = page.inner_text("section[aria-labelledby=lost-title]")
        assert "Logement des jeunes de la Drôme" in lost and "Nora Benali" in lost
        assert "Logement d'urgence" not in lost  # Paul took it over
        _check(page, errors, "page du réseau")
        page.locator("section[aria-labelledby=lost-title]").screenshot(
            path=str(shots / f"4-reseau-sans-contact-{width}.png")
        )


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_report_from_a_search_result_in_a_browser(database_url, scene, browser, width):  # noqa: F811
    shots = SCREENSHOTS / "test_report_from_a_search_result_in_a_browser"
    shots.mkdir(parents=True, exist_ok=True)
    with running_server(database_url) as base:
        errors: list[str] = []
        page = _page(browser, width, errors)
        sign_in(page, base, scene["advisor"])
        search = f"{base}/recherche?commune={VALENCE}&domains=housing"
        page.goto(search)
        page.locator("main article .report-link a").first.click()
        page.wait_for_url(f"{base}/signalements/nouveau?**")
        assert "Habitat Jeunes Valence" in page.inner_text("main")
        _check(page, errors, "formulaire de signalement")
        page.screenshot(path=str(shots / f"1-formulaire-{width}.png"), full_page=True)

        page.click("main form button[type=submit]")
        assert "Choisissez ce qui est faux" in page.inner_text(".error-summary")
        _check(page, errors, "formulaire de signalement avec erreur")

        page.check("input[value=hours]")
        page.fill("#note", "Fermé le mercredi depuis septembre")
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{base}/signalements/merci?**")
        assert "Merci, la structure et la coordination sont prévenues" in page.inner_text("main")
        _check(page, errors, "remerciement")
        page.screenshot(path=str(shots / f"2-merci-{width}.png"), full_page=True)
        page.click("text=Revenir où j'étais")
        page.wait_for_url(f"{base}/recherche?**")

        staff = _page(browser, width, errors)
        sign_in(staff, base, scene["coordinator"])
        staff.goto(f"{base}/signalements")
        main = staff.inner_text("main")
        assert "Horaires faux" in main and "Fermé le mercredi" in main
        _check(staff, errors, "liste des signalements")
        staff.screenshot(path=str(shots / f"3-signalements-{width}.png"), full_page=True)
        staff.click("main details summary")
        staff.check("input[value=dismissed]")
        staff.click("main details form button[type=submit]")
        staff.wait_for_url(f"{base}/signalements?notice=*")
        assert "Aucun signalement ouvert" in staff.inner_text("main")
        _check(staff, errors, "après clôture")
