"""Likely duplicates in a real browser (Debian's chromium) under the real CSP, at a desktop
and a phone width: the creation form stopped by a likely duplicate, then created anyway,
and the review page of a département, where a pair is dismissed. Each page passes axe-core,
does not scroll sideways and logs no error; screenshots go to
tests/screenshots/test_duplicates_in_a_browser/."""

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
SHOTS = Path(__file__).parent.parent / "screenshots" / "test_duplicates_in_a_browser"
VALENCE = "26362"


@pytest.fixture
def coordinator(database_url) -> str:
    async def setup() -> str:
        existing = await f.structure(
            "Mission Locale Valence Drôme des Collines", phone="04 75 82 11 20"
        )
        await f.site(existing, VALENCE, address="14 rue Bouffier")
        copy = await f.structure("MISSION LOCALE VALENCE DROME DES COLLINES", phone="0475821120")
        await f.site(copy, VALENCE, address="2 avenue Victor Hugo")
        return (await f.user(Role.COORDINATOR))[1]

    # Before the browser starts: playwright's sync API keeps an event loop running.
    return asyncio.run(setup())


def _is_error(message) -> bool:
    # A form sent back (400) or stopped before a likely duplicate (409) is not a fault.
    text = message.text
    return message.type == "error" and "status of 400" not in text and "status of 409" not in text


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_duplicates_in_a_browser(database_url, coordinator, browser, width):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)

    def shot(page, name: str) -> None:
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)

    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        sign_in(page, base, coordinator)

        page.goto(f"{base}/structures/nouvelle")
        page.fill("#name", "ML de Valence Drôme des Collines")
        page.click("main form > button[type=submit]")
        notice = page.inner_text(".duplicates")
        assert "Cette structure existe peut-être déjà" in notice
        assert "Mission Locale Valence Drôme des Collines" in notice
        _check(page, errors, "doublon probable")
        shot(page, "1-doublon-probable")

        page.click("text=Créer quand même")
        page.wait_for_url(f"{base}/structures/*")
        assert page.inner_text("h1") == "ML de Valence Drôme des Collines"

        page.goto(f"{base}/structures")
        page.click("text=Doublons probables")
        page.wait_for_url(f"{base}/structures/doublons")
        assert "Choisissez un département" in page.inner_text("main")
        _check(page, errors, "page des doublons sans territoire")
        shot(page, "2-choisir-le-territoire")

        page.select_option("#scope", "d:26")
        page.click("main form.inline-search button")
        page.wait_for_url(f"{base}/structures/doublons?scope=d*")
        main = page.inner_text("main")
        assert "Doublons probables : Drôme (26)" in main
        assert "3 paires à examiner" in main and "même téléphone" in main
        _check(page, errors, "page des doublons")
        shot(page, "3-page-des-doublons")

        page.click("main .duplicate-pairs button:has-text('Pas un doublon')")
        page.wait_for_url(f"{base}/structures/doublons?*ecarte=1*")
        main = page.inner_text("main")
        assert "ne sera plus proposée" in main and "2 paires à examiner" in main
        _check(page, errors, "paire écartée")
        shot(page, "4-paire-ecartee")
        page.close()
