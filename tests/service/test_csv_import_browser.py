"""The coordinator's import page in a real browser (Debian's chromium) under the real
Content-Security-Policy, at a desktop and a phone width: the form, the form sent back
without a choice, the outcome of a keep-valid import of the messy national file, and the
report download. Each page passes axe-core and raises no console error; screenshots go to
tests/screenshots/test_import_page_in_a_browser/."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service.accounts.store import Role
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import WIDTHS, _check, _is_error
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
MESSY = Path(__file__).parent.parent / "directory" / "data" / "messy"
SHOTS = Path(__file__).parent.parent / "screenshots" / "test_import_page_in_a_browser"


@pytest.fixture
def coordinator(database_url) -> str:
    # Before the browser starts: playwright's sync API keeps an event loop running.
    return asyncio.run(f.user(Role.COORDINATOR))[1]


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_import_page_in_a_browser(
    database_url,
    coordinator,
    browser,  # noqa: F811
    width,
    tmp_path,
    monkeypatch,
):
    # Reports are in the database: an empty media folder changes nothing.
    monkeypatch.setenv("MAILLAGE_MEDIA_DIR", str(tmp_path / "media"))
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)

    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": width, "height": 900}, accept_downloads=True)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        sign_in(page, base, coordinator)

        page.goto(f"{base}/structures")
        page.click("text=Importer des fichiers CSV")
        page.wait_for_url(f"{base}/structures/import")
        _check(page, errors, "formulaire")
        shot(page, "1-formulaire")

        files = [str(p) for p in sorted(MESSY.glob("*.csv"))]
        page.set_input_files("#fichiers", files)
        page.click("main button[type=submit]")
        assert "Choisissez ce que l" in page.inner_text(".error-summary")
        _check(page, errors, "formulaire sans choix")
        shot(page, "2-sans-choix")

        page.set_input_files("#fichiers", files)
        page.check("input[value=valides]")
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/structures/import/*")
        main = page.inner_text("main")
        assert "Import terminé : 8 structures" in main
        assert "Lignes refusées (9)" in main
        refusal = "sites.csv, ligne 7 : commune : 98818 est une commune d'une collectivité"
        assert f"{refusal} d'outre-mer (Nouvelle-Calédonie)" in main
        assert "lu comme https://www.lozere.fr" in main
        _check(page, errors, "résultat")
        shot(page, "3-resultat")

        with page.expect_download() as download:
            page.click("text=Télécharger le rapport (CSV)")
        report = Path(download.value.path()).read_bytes().decode("utf-8-sig")
        assert "Nouvelle-Calédonie" in report
