"""The referral loop as the advisor lives it, in Debian's chromium against a real server, on
a desktop and a phone: search (one's own structure marked, not offered), a send form
refused with every error at once, sent, declined by the partner from its link, then
re-oriented from the pre-filled form. axe-core finds nothing on any page visited, and
screenshots are left in tests/screenshots/<test name>/ for people to look at."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from directory.vocabulary import Domain
from service.accounts.store import Role
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import _axe_violations, _is_error
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)

VALENCE = "26362"
WIDTHS = {"ordinateur": 1366, "telephone": 375}
SHOTS = Path(__file__).parent.parent / "screenshots"


async def _territory() -> str:
    own = await f.structure("Mission Locale Valence", email="ml@exemple.fr")
    await f.site(own, VALENCE, address="1 place de la Gare")
    await f.service(own, "Accompagnement vers l'emploi", domains=(Domain.EMPLOYMENT,))
    partner = await f.structure("Point Accueil Écoute Jeunes", email="paej@exemple.fr")
    await f.site(partner, VALENCE, address="12 rue Bouffier")
    await f.service(partner, "Premier emploi", domains=(Domain.EMPLOYMENT,))
    await f.structure("Foyer des Jeunes Travailleurs", email="fjt@exemple.fr")
    _, email = await f.user(Role.ADVISOR, of=own)
    return email


@pytest.fixture
def advisor(database_url) -> str:
    # Before the browser starts: playwright's sync API keeps an event loop running.
    return asyncio.run(_territory())


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_advisor_searches_sends_sees_the_decline_and_reorients(
    database_url,
    advisor,
    browser,  # noqa: F811 - the fixture imported above
    width,
    request,
):
    shots = SHOTS / request.node.name
    shots.mkdir(parents=True, exist_ok=True)
    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)

        def check(step: str) -> None:
            page.screenshot(path=str(shots / f"{step}.png"), full_page=True)
            assert not _axe_violations(page), step
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), step
            assert not errors, (step, errors)

        sign_in(page, base, advisor)

        # 1. Search: one's own structure is marked and offers no referral.
        page.goto(f"{base}/recherche?commune={VALENCE}&need=emploi")
        own = page.locator("article", has_text="Mission Locale Valence")
        assert "Votre structure" in own.inner_text()
        assert own.locator("a.button").count() == 0
        check("1-recherche")

        # 2. The send form, sent empty: every error at once, focus on the summary.
        page.click("a.button:has-text('Orienter un jeune vers ce service')")
        page.click("main form button[type=submit]")
        page.wait_for_selector(".error-summary")
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        assert page.locator(".error-summary li").count() >= 3
        check("2-formulaire-erreurs")

        page.select_option("#domain", "employment")
        page.fill("#first_name", "Inès")
        page.fill("#commune", "Valence (26)")
        page.fill("#message", "Cherche un premier emploi.")
        page.check("#consent")
        page.click("main form button[type=submit]")
        page.wait_for_selector("#partner-link")
        partner_link = page.inner_text("#partner-link")
        check("3-orientation-envoyee")

        # 3. The partner declines from its link, without an account.
        partner = browser.new_page(viewport={"width": 375, "height": 900})
        partner.goto(base + "/p/" + partner_link.split("/p/", 1)[1])
        partner.click("summary:has-text('Refuser')")
        partner.select_option("#reason-decline", "wrong_service")
        partner.fill("#note-decline", "Voyez plutôt le Foyer des Jeunes Travailleurs.")
        partner.click("details[open] button[type=submit]")
        partner.wait_for_url("**fait=decline")
        partner.close()

        # 4. The advisor sees the decline, in colour and words, and what to do now.
        page.goto(f"{base}/orientations")
        badge = page.locator(".badge.status-declined")
        assert badge.inner_text() == "Refusée"
        check("4-mes-orientations")
        page.click("table a:has-text('Inès')")
        page.wait_for_selector("text=Orienter vers une autre structure")
        check("5-orientation-refusee")

        # 5. Re-orientation: pre-filled, the partner's suggestion already chosen.
        page.click("a:has-text('Orienter vers une autre structure')")
        page.wait_for_selector("#to_structure_id")
        chosen = page.eval_on_selector("#to_structure_id", "s => s.selectedOptions[0].text")
        assert chosen == "Foyer des Jeunes Travailleurs"
        assert page.input_value("#domain") == "employment"
        assert page.input_value("#message") == "Cherche un premier emploi."
        assert page.is_checked("#consent")
        check("6-reorienter")
        page.click("main form button[type=submit]")
        page.wait_for_selector("#partner-link")
        assert "Foyer des Jeunes Travailleurs" in page.inner_text("h1")
        assert "Orientation envoyée à Foyer des Jeunes Travailleurs" in page.inner_text("main")
        check("7-nouvelle-orientation")
