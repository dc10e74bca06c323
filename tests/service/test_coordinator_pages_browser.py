"""The coordinator's pages on the demo territory, in Debian's chromium at a desktop and a
phone width: the directory, a structure, the conventions, a convention, the network, the
territories and a territory's coverage map. Wide tables scroll inside their own region
instead of pushing the page sideways; every page passes axe-core. Screenshots are saved
under tests/screenshots/<test name>/ for a person to look at."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service.demo import load_demo
from tests.live import running_server
from tests.service.test_account_browser import WIDTHS, _check, _is_error
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
SHOTS = Path(__file__).parent.parent / "screenshots" / "test_coordinator_pages"
COORDINATOR = "coordination@demo.maillage.fr"
PASSWORD = "maillage-demo"


@pytest.fixture
def demo(database_url) -> None:
    asyncio.run(load_demo())


def _first_link(page, selector: str) -> str:
    href = page.locator(selector).first.get_attribute("href")
    assert href, selector
    return href


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_coordinator_pages_fit_the_screen_and_pass_axe(
    database_url,
    demo,
    browser,  # noqa: F811
    width,
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        sign_in(page, base, COORDINATOR, PASSWORD)

        visits = [("annuaire", "/structures")]
        page.goto(f"{base}/structures")
        visits.append(("structure", _first_link(page, "main table a")))
        page.goto(f"{base}/conventions")
        assert page.locator("main table tbody tr").count() >= 5
        visits += [
            ("conventions", "/conventions"),
            ("convention", _first_link(page, "main table a")),
        ]
        page.goto(f"{base}/territoires")
        visits += [
            ("territoires", "/territoires"),
            ("couverture", _first_link(page, "main table a")),
        ]
        visits.append(("reseau", "/reseau"))
        for name, path in visits:
            page.goto(f"{base}{path}")
            assert page.locator("h1").count() == 1, name
            page.screenshot(path=SHOTS / f"{width}-{name}.png", full_page=True)
            _check(page, errors, f"{name} at {width} px")
