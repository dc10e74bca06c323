"""Merging duplicates in a real browser (Debian's chromium) under the real CSP, at a
desktop and a phone width: the review page, the side-by-side comparison, the merge, the
kept record with its undo button, and the undo. Each page passes axe-core, does not scroll
sideways and logs no error; screenshots go to tests/screenshots/test_merge_in_a_browser/."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service.accounts.store import Role
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import WIDTHS, _check
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
SHOTS = Path(__file__).parent.parent / "screenshots" / "test_merge_in_a_browser"
VALENCE = "26362"


@pytest.fixture
def coordinator(database_url) -> str:
    async def setup() -> str:
        kept = await f.structure(
            "Mission Locale Valence Drôme des Collines",
            phone="04 75 82 11 20",
            website="https://www.mlvalence.example.org",
        )
        await f.site(kept, VALENCE, address="14 rue Bouffier")
        await f.person(kept, "Nadia", "Belkacem")
        copy = await f.structure(
            "MISSION LOCALE VALENCE DROME DES COLLINES",
            phone="0475821120",
            email="contact@mlvalence.example.org",
            description="Accueil, information et accompagnement des jeunes de 16 à 25 ans.",
        )
        await f.site(copy, VALENCE, address="2 avenue Victor Hugo")
        await f.service(copy, "Contrat d'engagement jeune")
        await f.person(copy, "Camille", "Martin")
        return (await f.user(Role.COORDINATOR))[1]

    # Before the browser starts: playwright's sync API keeps an event loop running.
    return asyncio.run(setup())


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_merge_in_a_browser(database_url, coordinator, browser, width):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)

    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        sign_in(page, base, coordinator)

        page.goto(f"{base}/structures/doublons?scope=d:26")
        page.click("text=Comparer et fusionner")
        page.wait_for_url(f"{base}/structures/fusion?*")
        main = page.inner_text("main")
        assert "Quelle fiche garder ?" in main and "Courriel" in main
        _check(page, errors, "comparaison")
        shot(page, "1-comparer")

        page.click("text=Fusionner les deux fiches")
        page.wait_for_url(f"{base}/structures/*?fusion=*")
        assert "Fusion faite" in page.inner_text(".notice")
        assert "Lieux d'accueil (2)" in page.inner_text("main")
        page.click("text=Fusionner deux personnes en double")
        assert page.is_visible("text=Fusionner ces deux fiches")
        _check(page, errors, "fiche gardée")
        shot(page, "2-fusion-faite")

        page.click("text=Annuler la fusion")
        page.wait_for_url(f"{base}/structures/*?notice=*")
        assert "Fusion annulée" in page.inner_text(".notice")
        assert "Lieux d'accueil (1)" in page.inner_text("main")
        _check(page, errors, "fusion annulée")
        shot(page, "3-fusion-annulee")
        page.close()
