"""The referral loop on a phone, in Debian's chromium under the real Content-Security-Policy:
the partner acknowledges and accepts from its link, gives an appointment, the young person
sees it first on their page, and once the time has passed the partner says the young person
came. Two server processes share the database: one on Monday, one on Wednesday evening
(their clocks moved with time-machine). Every page: axe-core finds nothing, no horizontal
scroll, no tap target under 44 px. Screenshots go to tests/screenshots/<test name>/."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

from service.accounts.store import Role, token_actor
from service.referrals import exchange
from service.referrals.exchange import Rules
from service.referrals.schemas import ReferralCreate
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import _axe_violations, _is_error
from tests.service.test_browser import browser  # noqa: F401 - fixture

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2030, 3, 4, 10, 0, tzinfo=PARIS)
WEDNESDAY_EVENING = datetime(2030, 3, 6, 18, 0, tzinfo=PARIS)
SHOTS = Path(__file__).parent.parent / "screenshots"
WIDTHS = {"375px": 375, "320px": 320}


async def _sent() -> tuple[str, str]:
    """A referral sent on Monday morning; the partner's and the young person's tokens."""
    mission_locale = await f.structure("Mission Locale Valence")
    headers = await f.api_client_headers(Role.ADVISOR, of=mission_locale)
    actor = await token_actor(headers["Authorization"].split()[1])
    partner = await f.structure("Foyer Jeunes Travailleurs du Rhône", email="fjt@exemple.fr")
    await f.site(partner, "26362", address="5 avenue de Lyon")
    data = msgspec.convert(
        {
            "to_structure_id": str(partner),
            "domain": "housing",
            "consent": {"given": True, "shares": ["commune", "message"]},
            "young_person": {
                "first_name": "Yanis",
                "commune": "26362",
                "email": "yanis@exemple.fr",
                "channel": "email",
            },
            "message": "Hébergé chez un ami jusqu'à la fin du mois, cherche un logement.",
        },
        ReferralCreate,
    )
    sent = await exchange.send(actor, data, Rules(), now=MONDAY.replace(hour=9))
    assert sent.young_person_token
    return sent.partner_token, sent.young_person_token


@pytest.fixture
def tokens(database_url) -> tuple[str, str]:
    # Before the browser starts: playwright's sync API keeps an event loop running.
    return asyncio.run(_sent())


def _check(page, errors: list[str], folder: Path, name: str) -> None:
    """Look at the page as a person would: a screenshot to view, then the checks."""
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert not _axe_violations(page), name
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    small = page.evaluate(
        """[...document.querySelectorAll('main button, main summary, main a.button,'
              + ' main input:not([type=hidden]), main select, main textarea')]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.textContent.trim() || e.name || e.id, e.getBoundingClientRect().height])
            .filter(([, h]) => h < 44)"""
    )
    assert not small, (name, small)
    assert not errors, (name, errors)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_partner_gives_an_appointment_and_says_the_young_person_came(
    database_url,
    tokens,
    browser,  # noqa: F811
    width,
    request,
):
    partner_token, young_token = tokens
    shots = SHOTS / request.node.name
    errors: list[str] = []
    with running_server(database_url, at=MONDAY) as base:
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        page.goto(f"{base}/p/{partner_token}")
        _check(page, errors, shots, "1-partenaire-recoit")
        page.click("summary:has-text('Accuser réception')")
        page.click("details[open] button:has-text('Accuser réception')")
        page.wait_for_url("**?fait=acknowledge")
        page.click("summary:has-text('Accepter')")
        page.click("details[open] button:has-text('Accepter')")
        page.wait_for_url("**?fait=accept")
        _check(page, errors, shots, "2-partenaire-accepte")

        page.fill("#date", "2030-03-03")
        page.fill("#time", "14:30")
        page.fill("#place", "5 avenue de Lyon, Valence — 2e étage")
        page.fill("#ask_for", "Léna Faure, accueil logement")
        page.fill("#bring", "Un CV si vous en avez un")
        page.click("button:has-text('Donner ce rendez-vous')")
        assert "La date du rendez-vous est passée" in page.inner_text("#date-error")
        _check(page, errors, shots, "3-partenaire-date-passee")
        page.fill("#date", "2030-03-06")
        page.click("button:has-text('Donner ce rendez-vous')")
        page.wait_for_url("**?fait=rendez-vous")
        assert "Rendez-vous enregistré" in page.inner_text("main")
        _check(page, errors, shots, "4-partenaire-rendez-vous")

        page.goto(f"{base}/j/{young_token}")
        main = page.inner_text("main")
        assert main.index("Votre rendez-vous") < main.index("vous a orienté")
        assert "mercredi 6 mars 2030 à 14 h 30" in main
        assert page.get_attribute("a:has-text('Ajouter à mon agenda')", "href").endswith(
            "/rendez-vous.ics"
        )
        _check(page, errors, shots, "5-jeune-rendez-vous")

    with running_server(database_url, at=WEDNESDAY_EVENING) as base:
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        page.goto(f"{base}/p/{partner_token}")
        first = page.locator("main h2").first.inner_text()
        assert first == "Le jeune est-il venu ?"
        _check(page, errors, shots, "6-partenaire-est-il-venu")
        page.click("button:has-text('Oui, il ou elle est venu·e')")
        page.wait_for_url("**?fait=take_in")
        assert "Le jeune est-il venu ?" not in page.inner_text("main")
        assert page.inner_text(".badges .badge").strip() == "Jeune pris·e en charge"
        _check(page, errors, shots, "7-partenaire-pris-en-charge")
