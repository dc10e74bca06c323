"""A coordinator explores the demo territory's gap map in Debian's chromium, at a desktop
and a phone width: the Leaflet map draws the communes from the app's GeoJSON (no tiles,
nothing from outside), a click on a gap commune says why it is one, a click on a commune
with partners lists them with links, partner sites are markers that open the structure.
axe-core finds nothing, the console stays clean (so the CSP blocked nothing), and the
accessible table beside the map holds the same data. Screenshots under
tests/screenshots/test_coverage_map_browser/."""

from __future__ import annotations

import asyncio
import time
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
SHOTS = Path(__file__).parent.parent / "screenshots" / "test_coverage_map_browser"
COORDINATOR = "coordination@demo.maillage.fr"
PASSWORD = "maillage-demo"


@pytest.fixture
def demo(database_url) -> None:
    asyncio.run(load_demo())


def _click_commune(page, klass: str) -> str:
    """Clicks the first commune of a class on the map; returns the name the panel shows."""
    commune = page.locator(f"#gapmap path.gapmap-{klass}").first
    commune.scroll_into_view_if_needed()
    box = commune.bounding_box()
    assert box, klass
    # Where the path itself is, not its bounding box's centre (communes are not convex).
    point = page.evaluate(
        """(klass) => {
          const path = document.querySelector('#gapmap path.gapmap-' + klass);
          const box = path.getBoundingClientRect();
          for (let y = 0.5; y > 0; y -= 0.05) for (let x = 0.5; x > 0; x -= 0.05)
            for (const [fx, fy] of [[x, y], [1 - x, y], [x, 1 - y], [1 - x, 1 - y]]) {
              const px = box.left + box.width * fx, py = box.top + box.height * fy;
              if (document.elementFromPoint(px, py) === path) return [px, py];
            }
          return null;
        }""",
        klass,
    )
    assert point, f"no visible point of a {klass} commune"
    page.mouse.click(point[0], point[1])
    title = page.locator("#gapmap-panel h3")
    title.wait_for()
    return title.inner_text()


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_coordinator_explores_the_gap_map(
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
        outside: list[str] = []
        page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
        sign_in(page, base, COORDINATOR, PASSWORD)
        page.goto(f"{base}/territoires")
        territory = page.locator("main table a").first.get_attribute("href")

        started = time.monotonic()
        page.goto(f"{base}{territory}?domaine=sport")  # the demo's sport has gaps
        page.locator("#gapmap path.gapmap-gap").first.wait_for()
        page.locator("#gapmap a.gapmap-site").first.wait_for()
        print(f"\ngap map with its layers at {width} px: {time.monotonic() - started:.2f} s")
        assert page.locator("#gapmap .gapmap-landmark-text").count() > 0  # Valence, Crest…
        page.screenshot(path=SHOTS / f"{width}-carte.png")

        name = _click_commune(page, "gap")
        panel = page.locator("#gapmap-panel")
        assert "Aucun partenaire à portée" in panel.inner_text()
        assert "km à vol d'oiseau" in panel.inner_text()  # why it is a gap
        # The table beside the map says the same of that commune.
        row = page.locator("main table tr", has=page.locator(f"th:text-is('{name}')"))
        assert "aucun partenaire" in row.inner_text()
        panel.screenshot(path=SHOTS / f"{width}-panneau-trou.png")

        name = _click_commune(page, "fragile")
        assert "Fragile" in panel.inner_text()
        partners = panel.locator("ul.gapmap-partners a")
        assert partners.count() >= 1
        first = partners.first.get_attribute("href")
        assert first and first.startswith("/structures/")
        page.locator(".gapmap-layout").screenshot(path=SHOTS / f"{width}-panneau-fragile.png")
        _check(page, errors, f"gap map at {width} px")
        page.screenshot(path=SHOTS / f"{width}-page.png", full_page=True)

        # By keyboard: the table's button shows Valence on the map, its partners in the panel.
        page.get_by_role("button", name="Voir Valence sur la carte").focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.textContent") == "Valence"
        assert page.locator("#gapmap path.gapmap-selected").count() == 1
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.getAttribute('href')")
        assert focused and focused.startswith("/structures/")
        page.locator(".gapmap-layout").screenshot(path=SHOTS / f"{width}-clavier-valence.png")
        _check(page, errors, f"gap map after the keyboard at {width} px")

        # A partner's site on the map opens its structure, by keyboard too.
        marker = page.locator("#gapmap a.gapmap-site").first
        marker.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/structures/*")
        assert not outside, outside
        assert not errors, errors


def test_the_page_works_without_javascript(
    database_url,
    demo,
    browser,  # noqa: F811
):
    """The table carries the map's data: without JavaScript nothing is missing nor empty."""
    with running_server(database_url) as base:
        context = browser.new_context(java_script_enabled=False)
        page = context.new_page()
        sign_in(page, base, COORDINATOR, PASSWORD)
        page.goto(f"{base}/territoires")
        territory = page.locator("main table a").first.get_attribute("href")
        page.goto(f"{base}{territory}?domaine=sport")
        assert not page.locator("#gapmap").is_visible()  # no empty box where the map would be
        rows = page.locator("main table tbody tr[id^='commune-']")
        assert rows.count() == 68
        assert page.locator("main table tbody tr[id^='commune-'] a[href^='/structures/']").count()
        context.close()
