"""A decline with a suggestion, in Debian's chromium against a real server: the partner
picks a nearby structure in its decline form (on a phone), the advisor sees it and
re-orients there in one click (on a desktop and a phone). axe-core finds nothing on any
page visited; screenshots go to tests/screenshots/<test name>/ for people to look at."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest

from service.accounts.store import Role, token_actor
from service.referrals import exchange
from service.referrals.schemas import ReferralCreate
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


async def _sent() -> tuple[str, str]:
    """A referral to a partner in Valence; the partner's token and the advisor's email."""
    mission_locale = await f.structure("Mission Locale Valence")
    await f.site(mission_locale, VALENCE, address="1 place de la Gare")
    headers = await f.api_client_headers(Role.ADVISOR, of=mission_locale)
    actor = await token_actor(headers["Authorization"].split()[1])
    partner = await f.structure("Foyer Jeunes Travailleurs", email="fjt@exemple.fr")
    await f.site(partner, VALENCE, address="5 avenue de Lyon")
    nearby = await f.structure("Résidence sociale du Rhône", email="rs@exemple.fr")
    await f.site(nearby, "26058", address="3 rue des Alpes")
    far = await f.structure("Foyer de Lille", email="lille@exemple.fr")
    await f.site(far, "59350")
    data = msgspec.convert(
        {
            "to_structure_id": str(partner),
            "domain": "housing",
            "consent": {"given": True, "shares": ["age", "commune", "message"]},
            "young_person": {"first_name": "Yanis", "age_range": "18-21", "commune": VALENCE},
            "message": "Hébergé chez un ami jusqu'à la fin du mois.",
        },
        ReferralCreate,
    )
    sent = await exchange.send(actor, data, exchange.Rules())
    _, email = await f.user(Role.ADVISOR, of=mission_locale)
    return sent.partner_token, email


@pytest.fixture
def sent(database_url) -> tuple[str, str]:
    # Before the browser starts: playwright's sync API keeps an event loop running.
    return asyncio.run(_sent())


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_partner_suggests_a_structure_and_the_advisor_orients_there_in_one_click(
    database_url,
    sent,
    browser,  # noqa: F811 - the fixture imported above
    width,
    request,
):
    token, advisor = sent
    shots = SHOTS / request.node.name
    shots.mkdir(parents=True, exist_ok=True)
    with running_server(database_url) as base:
        errors: list[str] = []

        def check(page, step: str) -> None:
            page.screenshot(path=str(shots / f"{step}.png"), full_page=True)
            assert not _axe_violations(page), step
            assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), step
            assert not errors, (step, errors)

        # 1. The partner declines from its link and suggests the nearby residence.
        partner = browser.new_page(viewport={"width": 375, "height": 900})
        partner.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        partner.goto(f"{base}/p/{token}")
        partner.click("summary:has-text('Refuser')")
        select = partner.locator("select[name=suggested_structure_id]")
        offered = select.locator("option").all_inner_texts()
        assert offered[0] == "Aucune suggestion"
        assert any(o.startswith("Résidence sociale du Rhône") for o in offered)
        assert not any("Lille" in o for o in offered)
        check(partner, "1-partenaire-refuse")
        partner.select_option("#reason-decline", "wrong_service")
        select.select_option(label=next(o for o in offered if o.startswith("Résidence")))
        partner.click("details[open] button[type=submit]")
        partner.wait_for_url("**fait=decline")
        partner.close()

        # 2. The advisor sees the suggestion and follows it in one click.
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        sign_in(page, base, advisor)
        page.goto(f"{base}/orientations")
        page.click("table a:has-text('Yanis')")
        button = page.locator("a.button:has-text('Orienter vers Résidence sociale du Rhône')")
        assert button.count() == 1
        check(page, "2-conseiller-suggestion")
        button.click()
        page.wait_for_selector("#to_structure_id")
        chosen = page.eval_on_selector("#to_structure_id", "s => s.selectedOptions[0].text")
        assert chosen == "Résidence sociale du Rhône"
        check(page, "3-reorienter")
        page.click("main form button[type=submit]")
        page.wait_for_selector("#partner-link")
        assert "Orientation envoyée à Résidence sociale du Rhône" in page.inner_text("main")
        check(page, "4-nouvelle-orientation")
