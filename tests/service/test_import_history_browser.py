"""What an import changed, seen in a real browser (Debian's chromium) under the real CSP,
at a desktop and a phone width: a coordinator imports a CSV file from the page, reads the
import's lines on the structure's history page, and puts back the version from before the
import. Each page passes axe-core, does not scroll sideways and logs no error; screenshots
go to tests/screenshots/test_import_history_in_a_browser/."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service.accounts.store import Role, create_user
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import WIDTHS, _check
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
SHOTS = Path(__file__).parent.parent / "screenshots" / "test_import_history_in_a_browser"


@pytest.fixture
def point_justice(database_url, tmp_path) -> tuple[str, list[str]]:
    """The structure, and the files of an import that changes its phone and its hours."""

    async def setup() -> tuple[str, str, str]:
        structure = await f.structure("Point Justice", phone="04 75 11 22 33")
        site = await f.site(structure, opening_hours="Mo-Fr 09:00-12:00")
        await create_user("nadia@exemple.fr", "Nadia Belkacem", f.PASSWORD, Role.COORDINATOR)
        return str(structure), str(site), "nadia@exemple.fr"

    structure, site, _email = asyncio.run(setup())
    (tmp_path / "structures.csv").write_text(
        f"id,name,phone\n{structure},Point Justice,04 75 99 88 77\n"
    )
    (tmp_path / "sites.csv").write_text(
        f"id,structure_id,commune,opening_hours\n{site},{structure},26362,Mo-Fr 09:00-17:00\n"
    )
    return structure, [str(tmp_path / "structures.csv"), str(tmp_path / "sites.csv")]


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_import_history_in_a_browser(database_url, point_justice, browser, width):  # noqa: F811
    structure_id, files = point_justice
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)

    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        sign_in(page, base, "nadia@exemple.fr")

        page.goto(f"{base}/structures/import")
        page.set_input_files("#fichiers", files)
        page.check("input[value=tout]")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/structures/import/*")
        assert "mise(s) à jour" in page.inner_text("main")

        page.goto(f"{base}/structures/{structure_id}/historique")
        main = page.inner_text("main")
        who = "Import CSV (structures.csv) lancé par Nadia Belkacem a modifié la structure"
        assert who in main
        assert "Téléphone : « 04 75 11 22 33 » → « 04 75 99 88 77 »" in main
        assert "Import CSV (sites.csv) lancé par Nadia Belkacem a modifié un lieu" in main
        assert "Horaires : « Mo-Fr 09:00-12:00 » → « Mo-Fr 09:00-17:00 »" in main
        _check(page, errors, "historique après import")
        shot(page, "1-historique-apres-import")

        # The structure's creation, before the import: the last "Revenir à cet état".
        page.locator("text=Revenir à cet état").last.click()
        page.wait_for_url(f"{base}/structures/{structure_id}/historique/*/restaurer")
        _check(page, errors, "confirmation")
        shot(page, "2-confirmation")
        page.click("text=Oui, restaurer cette version")
        page.wait_for_url(f"{base}/structures/{structure_id}?notice=*")
        main = page.inner_text("main")
        assert "La version antérieure est restaurée." in main
        assert "04 75 11 22 33" in main
        _check(page, errors, "fiche restaurée")
        shot(page, "3-fiche-restauree")
