"""In a real browser (Debian's chromium), driven by keyboard only: log in, search, open a
partner's page. Skipped when chromium is missing, unless MAILLAGE_REQUIRE_BROWSER=1."""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest

from service.accounts.store import Role
from tests import factories as f
from tests.live import running_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)


@pytest.fixture
def browser():
    if CHROMIUM is None:
        if os.environ.get("MAILLAGE_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is required (MAILLAGE_REQUIRE_BROWSER=1) but not installed")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def sign_in(page, base: str, email: str, password: str = f.PASSWORD) -> None:
    """Through the login form, as a person would; staff land on the search page."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.press("#password", "Enter")
    page.wait_for_url(f"{base}/recherche")


async def _territory() -> str:
    mission_locale = await f.structure("Mission Locale Valence")
    structure_id = await f.structure("Foyer Jeunes Travailleurs du Rhône")
    await f.site(structure_id, "26058", address="5 avenue de Lyon", walk_in=True)
    contact = await f.person(structure_id, "Léna", "Faure", phone="04 75 40 50 60")
    await f.service(structure_id, "Logement temporaire", contact_id=contact, unconditional=True)
    _, email = await f.user(Role.ADVISOR, of=mission_locale)
    return email


@pytest.fixture
def advisor_email(database_url) -> str:
    # Before the browser starts: playwright's sync API keeps an event loop running.
    return asyncio.run(_territory())


def test_advisor_finds_a_partner_with_the_keyboard_only(database_url, advisor_email, browser):
    email = advisor_email
    with running_server(database_url) as base:
        page = browser.new_page()
        page.goto(f"{base}/recherche")
        assert page.url.startswith(f"{base}/login")

        # Tab from the top of the page reaches the skip link, then the login fields.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
        page.focus("#email")
        page.keyboard.type(email)
        page.keyboard.press("Tab")
        page.keyboard.type(f.PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/recherche")

        page.focus("#need")
        page.keyboard.type("logement")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "place"
        page.keyboard.type("valence 26")
        page.keyboard.press("Enter")
        page.wait_for_selector("#results-title")
        assert "1 partenaire" in page.inner_text("#results-title")
        hit = page.inner_text(".hit")
        for expected in ("Logement temporaire", "Léna Faure", "04 75 40 50 60", "sans condition"):
            assert expected in hit

        page.focus(".hit .structure a")
        page.keyboard.press("Enter")
        page.wait_for_selector("h1")
        assert page.inner_text("h1") == "Foyer Jeunes Travailleurs du Rhône"
        assert page.locator("main").count() == 1
        assert page.locator("nav[aria-label]").count() == 1


async def _redirected_referral() -> tuple[str, str]:
    """A referral the partner redirected: the young person's and the first partner's
    personal links."""
    import msgspec

    from service.accounts.store import token_actor
    from service.referrals import exchange
    from service.referrals.schemas import Action, ReferralCreate

    mission_locale = await f.structure("Mission Locale Valence")
    headers = await f.api_client_headers(Role.ADVISOR, of=mission_locale)
    actor = await token_actor(headers["Authorization"].split()[1])
    foyer = await f.structure("Foyer Jeunes Travailleurs")
    await f.site(foyer, "26362", address="5 avenue de Lyon")
    residence = await f.structure("Résidence sociale du Rhône", phone="04 75 00 11 22")
    await f.site(
        residence, "26058", address="8 rue Émile Augier", opening_hours="Mo-Fr 09:00-17:00"
    )
    data = msgspec.convert(
        {
            "to_structure_id": str(foyer),
            "domain": "housing",
            "young_person": {
                "first_name": "Yanis",
                "commune": "26362",
                "phone": "06 11 22 33 44",
                "channel": "sms",
            },
            "consent": {"given": True, "shares": ["commune", "phone", "message"]},
            "message": "Hébergé chez un ami jusqu'à la fin du mois.",
        },
        ReferralCreate,
    )
    sent = await exchange.send(actor, data, exchange.Rules())
    assert sent.young_person_token is not None
    partner, referral_id = await exchange.who_for_link(sent.partner_token)
    redirect = msgspec.convert(
        {
            "transition": "redirect",
            "redirect_to_structure_id": str(residence),
            "note": "Places libres.",
        },
        Action,
    )
    await exchange.act(referral_id, redirect, partner, exchange.Rules())
    return sent.young_person_token, sent.partner_token


@pytest.fixture
def redirected_links(database_url) -> tuple[str, str]:
    return asyncio.run(_redirected_referral())


def test_young_person_page_follows_a_redirection_on_a_small_phone(
    database_url, redirected_links, browser
):
    young, partner = redirected_links
    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": 320, "height": 640})
        page.goto(f"{base}/j/{young}")
        lead = page.inner_text(".lead")
        assert "Résidence sociale du Rhône" in lead
        assert "8 rue Émile Augier" in page.inner_text("main")
        assert "Foyer Jeunes Travailleurs" not in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 320
        # Changing one's mind is offered last, and asks for a confirmation first.
        changed_mind = page.get_by_role("link", name="J’ai changé d’avis")
        assert changed_mind.bounding_box()["height"] >= 44

        changed_mind.click()
        confirm = page.get_by_role("button", name="Oui, annuler l’orientation")
        assert confirm.bounding_box()["height"] >= 44
        confirm.click()
        page.wait_for_url("**fait=withdraw")
        assert "annulée" in page.inner_text("main")

        # The first partner's link now opens nothing, and names no one.
        page.goto(f"{base}/p/{partner}")
        assert "désactivé" in page.inner_text("main") and "Yanis" not in page.content()
