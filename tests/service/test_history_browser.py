"""A partner page with its freshness and its history in a real browser (Debian's chromium)
under the real CSP, at a desktop and a phone width: the coordinator confirms the record,
opens a restore, confirms it. Each page passes axe-core, does not scroll sideways and logs
no error; screenshots go to tests/screenshots/test_history_in_a_browser/."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from directory.vocabulary import Level
from service.accounts.store import Role
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import WIDTHS, _check
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
SHOTS = Path(__file__).parent.parent / "screenshots" / "test_history_in_a_browser"
VALENCE = "26362"


@pytest.fixture
def coordinator(database_url) -> tuple[str, str]:
    async def setup() -> tuple[str, str]:
        structure = await f.structure("CCAS de Valence", phone="04 75 11 22 33")
        await f.site(structure, VALENCE, address="1 place de la Liberté", walk_in=True)
        await f.service(structure, "Aide alimentaire", unconditional=True)
        await f.person(structure, "Nora", "Benali", role="Travailleuse sociale")
        other = await f.structure("Mission Locale Valence")
        await f.relationship(other, structure, Level.OPERATIONAL)
        return str(structure), (await f.user(Role.COORDINATOR))[1]

    return asyncio.run(setup())


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_history_in_a_browser(database_url, coordinator, browser, width):  # noqa: F811
    structure_id, email = coordinator
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)

    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        sign_in(page, base, email)

        page.goto(f"{base}/structures/{structure_id}/modifier")
        page.fill("#phone", "04 75 99 88 77")
        page.click("main form > button[type=submit]")
        page.wait_for_url(f"{base}/structures/{structure_id}")
        page.click("text=Confirmer que la fiche est à jour")
        page.wait_for_url(f"{base}/structures/{structure_id}?notice=*")
        main = page.inner_text("main")
        assert "Fiche fraîche" in main and "vérifiée il y a" in main
        assert "Historique des modifications" in main
        assert "a modifié la structure" in main and "a confirmé à jour la structure" in main
        _check(page, errors, "fiche avec historique")
        shot(page, "1-fiche-historique")

        page.locator("text=Revenir à cet état").last.click()
        page.wait_for_url(f"{base}/structures/{structure_id}/historique/*/restaurer")
        _check(page, errors, "confirmation de restauration")
        shot(page, "2-confirmation")
        page.click("text=Oui, restaurer cette version")
        page.wait_for_url(f"{base}/structures/{structure_id}?notice=*")
        assert "a restauré une version antérieure de la structure" in page.inner_text("main")
        _check(page, errors, "après restauration")

        page.goto(f"{base}/structures/{structure_id}/historique")
        assert "Historique des modifications" in page.inner_text("h1")
        _check(page, errors, "historique complet")
        shot(page, "3-historique")
