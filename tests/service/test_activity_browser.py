"""The referral activity page in Debian's chromium, at a desktop and a phone width, on the
demo territory loaded on a fixed day: a coordinator opens it from the navigation, narrows
the period to one month and reads its tables. axe-core finds nothing; screenshots are saved
under tests/screenshots/test_activity_browser/ for a person to look at."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from service.demo import load_demo
from tests.live import running_server
from tests.service.test_account_browser import WIDTHS, _check, _is_error
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
SHOTS = Path(__file__).parent.parent / "screenshots" / "test_activity_browser"
COORDINATOR = "coordination@demo.maillage.fr"
PASSWORD = "maillage-demo"
# The demo's referrals count back from the day it is loaded: a fixed Monday.
NOON = datetime(2026, 5, 11, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.fixture
def demo(database_url, time_machine) -> None:
    time_machine.move_to(NOON)
    asyncio.run(load_demo())


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_coordinator_opens_the_activity_page_and_narrows_the_period(
    database_url,
    demo,
    browser,  # noqa: F811
    width,
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_server(database_url, at=NOON) as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        sign_in(page, base, COORDINATOR, PASSWORD)

        page.get_by_role("link", name="Activité des orientations").click()
        page.wait_for_url(f"{base}/activite")
        assert page.locator("h1").inner_text() == "Activité des orientations"
        # The default period: the twelve months ending with the server's month.
        assert page.locator("#du").input_value() == "2025-06"
        assert page.locator("#au").input_value() == "2026-05"
        assert page.locator("figure.chart svg[role=img]").count() == 5
        page.screenshot(path=SHOTS / f"{width}-activite.png", full_page=True)
        page.screenshot(path=SHOTS / f"{width}-activite-haut.png")
        _check(page, errors, f"activité at {width} px")

        page.locator("#du").fill("2026-05")
        page.locator("#au").fill("2026-05")
        page.get_by_role("button", name="Afficher").click()
        page.wait_for_url(f"{base}/activite?du=2026-05&au=2026-05&territoire=")
        assert "envoyées en mai 2026" in page.locator(".lead").inner_text()
        months = page.get_by_role("table", name="Orientations par mois")
        assert months.locator("tbody tr").count() == 1
        # Yanis, Noah, Léa and Adam's third try were sent in May; Adam's raised an alert.
        assert months.locator("tbody tr td").first.inner_text() == "4"
        wandering = page.get_by_role("table", name="Jeunes signalés en errance, par mois")
        assert wandering.locator("tbody td").inner_text() == "1"
        partners = page.get_by_role("table", name="Orientations par partenaire").locator("tbody th")
        names = partners.all_inner_texts()
        assert names == sorted(names, key=str.casefold)
        page.screenshot(path=SHOTS / f"{width}-activite-mai.png", full_page=True)
        for part in ("essentiel", "mois", "resultats", "partenaires"):
            page.locator(f"section:has(#titre-{part})").screenshot(
                path=SHOTS / f"{width}-mai-{part}.png"
            )
        _check(page, errors, f"activité de mai at {width} px")
