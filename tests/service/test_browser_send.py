"""Sending a referral in a real browser (Debian's chromium) against a real server, on a
phone-sized screen: the form (with its one-time key) sends once and redirects to the
referral's page, which shows the links to hand out. Chromium itself never lets a double
click post a form twice, so the double submission is tested over HTTP in test_outbox.py."""

from __future__ import annotations

import asyncio

import pytest

from service.accounts.store import Role
from tests import factories as f
from tests.live import running_server
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)


async def _territory() -> tuple[str, str]:
    mission_locale = await f.structure("Mission Locale Valence")
    partner = await f.structure("Foyer Jeunes Travailleurs du Rhône", email="fjt@exemple.fr")
    await f.site(partner, "26058", address="5 avenue de Lyon")
    _, email = await f.user(Role.ADVISOR, of=mission_locale)
    return str(partner), email


@pytest.fixture
def territory(database_url) -> tuple[str, str]:
    # Before the browser starts: playwright's sync API keeps an event loop running.
    return asyncio.run(_territory())


def test_advisor_sends_from_the_form_on_a_phone_and_lands_on_the_referral(
    database_url,
    territory,
    browser,  # noqa: F811 - the fixture imported above
):
    partner, email = territory
    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": 375, "height": 800})
        sign_in(page, base, email)

        page.goto(f"{base}/orientations/nouvelle?structure={partner}")
        page.select_option("#domain", "housing")
        page.fill("#first_name", "Inès")
        page.fill("#commune", "Valence (26)")
        page.fill("#phone", "06 12 34 56 78")
        page.select_option("#channel", "sms")
        page.check("#consent")
        assert len(page.input_value("input[name=_once]")) >= 16
        page.click("main form button[type=submit]")
        page.wait_for_selector("#partner-link")
        assert "Orientation envoyée à Foyer Jeunes Travailleurs du Rhône" in page.inner_text("main")
        assert page.inner_text("#young-link").startswith("http")
        # The links wrap on a phone instead of widening the page.
        assert page.evaluate("document.querySelector('.notice').scrollWidth") <= 375
        landed = page.url

        # The advisor's list, read through the API with the browser's session: one referral.
        sent = page.request.get(f"{base}/api/v1/referrals").json()
        assert [item["status"] for item in sent] == ["sent"]
        assert landed.startswith(f"{base}/orientations/{sent[0]['id']}?")
