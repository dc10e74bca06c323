"""The network page in Debian's chromium on the demo territory, at a desktop and a phone
width: a coordinator finds a partnership resting on one person and follows its action to
the form; then explores a structure's neighbourhood with the keyboard only (search, Tab to
the list, Enter opens the record). axe-core passes, the console stays clean (so the
Content-Security-Policy held: no inline script or style was needed). Screenshots are saved
under tests/screenshots/test_network_browser/."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from service.demo import load_demo
from tests.live import running_server
from tests.service.test_account_browser import WIDTHS, _check, _is_error
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
SHOTS = Path(__file__).parent.parent / "screenshots" / "test_network_browser"
COORDINATOR = "coordination@demo.maillage.fr"
PASSWORD = "maillage-demo"


@pytest.fixture
def demo(database_url) -> None:
    asyncio.run(load_demo())


def _new_page(browser, width: int):  # noqa: F811
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_a_single_person_dependency_leads_to_the_contact_form(
    database_url,
    demo,
    browser,  # noqa: F811
    width,
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_server(database_url) as base:
        page, errors = _new_page(browser, width)
        sign_in(page, base, COORDINATOR, PASSWORD)
        page.goto(f"{base}/reseau")
        page.wait_for_selector("#explorer-list li")
        page.screenshot(path=SHOTS / f"{width}-reseau.png", full_page=True)
        _check(page, errors, f"/reseau at {width} px")

        section = page.locator("section[aria-labelledby='deps-title']")
        first = section.locator("ul.findings > li").first
        person = first.locator("a").first
        assert "#person-" in (person.get_attribute("href") or "")
        structure = first.locator("a").nth(1).inner_text()
        assert "tient seul·e le lien avec" in first.inner_text()
        action = first.locator("a.action", has_text="Ajouter un second contact")
        action.click()
        page.wait_for_url(re.compile(r"/structures/[0-9a-f-]+/personnes/nouvelle$"))
        assert page.locator("h1").count() == 1
        assert structure in page.locator("main").inner_text()
        page.screenshot(path=SHOTS / f"{width}-second-contact-form.png", full_page=True)
        _check(page, errors, f"contact form at {width} px")

        page.goto(f"{base}/reseau")
        noconv = page.locator("section[aria-labelledby='noconv-title'] ul.findings > li").first
        parties = [noconv.locator("a").nth(i).inner_text() for i in (0, 1)]
        noconv.locator("a.action", has_text="Préparer une convention").click()
        page.wait_for_url(re.compile(r"/conventions/nouvelle\?"))
        chosen = page.locator("#structures option:checked").all_inner_texts()
        assert sorted(chosen) == sorted(parties)
        assert parties[0] in page.locator("#title").input_value()
        page.screenshot(path=SHOTS / f"{width}-convention-form.png", full_page=True)
        _check(page, errors, f"convention form at {width} px")


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_a_neighbourhood_explored_with_the_keyboard(
    database_url,
    demo,
    browser,  # noqa: F811
    width,
):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with running_server(database_url) as base:
        page, errors = _new_page(browser, width)
        sign_in(page, base, COORDINATOR, PASSWORD)
        page.goto(f"{base}/reseau")
        page.wait_for_selector("#explorer-list li")
        search = page.locator("#explorer-search")
        search.focus()
        page.keyboard.type("CIDFF")
        page.keyboard.press("Enter")
        title = page.locator("#explorer-list-title")
        assert "CIDFF" in title.inner_text()
        chosen = search.input_value()
        assert page.locator("#explorer-list li.center a").inner_text() == chosen
        direct = page.locator("#explorer-list li").count()
        assert direct >= 2
        assert "partenaire" in page.locator("#explorer-status").inner_text()

        # A domain the CIDFF does not work in hides it, and says so; back to all domains.
        status = page.locator("#explorer-status")
        page.locator("#explorer-domain").select_option("sport")
        expect(status).to_contain_text("apparaît pas")
        assert page.locator("#explorer-list li").count() == 0
        page.locator("#explorer-domain").select_option("")
        expect(status).to_contain_text("partenaire")
        assert page.locator("#explorer-list li.center a").inner_text() == chosen

        # Two steps away: more structures, still listed as links.
        page.locator("input[name='explorer-steps'][value='2']").check()
        assert page.locator("#explorer-list li").count() > direct
        search.focus()

        # Tab from the search box reaches the list of the neighbourhood's structures.
        for _ in range(4):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.closest('#explorer-list') !== null"):
                break
        focused = page.evaluate("document.activeElement.textContent")
        assert focused == chosen
        page.keyboard.press("Tab")
        neighbour = page.evaluate("document.activeElement.textContent")
        page.screenshot(path=SHOTS / f"{width}-explorer.png", full_page=False)
        page.locator("#explorer-canvas").screenshot(path=SHOTS / f"{width}-explorer-canvas.png")
        _check(page, errors, f"explorer at {width} px")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/structures/[0-9a-f-]+$"))
        assert page.locator("h1").inner_text() == neighbour
        assert not errors
