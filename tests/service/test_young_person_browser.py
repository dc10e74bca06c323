"""The young person's page in Debian's chromium at 320 px (and once at 1366 px): answer
"Je n'ai pas pu y aller" with a reason, read what happens next, and each closed state.
Every page visited passes axe-core; screenshots go to tests/screenshots/<test name>/."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from service.referrals.reminders import run_reminders
from service.settings import Settings
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import _axe_violations
from tests.service.test_browser import browser  # noqa: F401 - fixture
from tests.service.test_young_person_page import ADVISOR_EMAIL, Place

SHOTS = Path(__file__).parent.parent / "screenshots" / "test_young_person_journey"


def _send(base: str, place: Place) -> tuple[str, str, str]:
    body = {
        "to_structure_id": str(place.partner),
        "domain": "housing",
        "young_person": {
            "first_name": "Inès",
            "age_range": "18-21",
            "commune": "26362",
            "phone": "06 11 22 33 44",
            "channel": "sms",
        },
        "consent": {"given": True, "shares": ["age"]},
    }
    sent = httpx.post(f"{base}/api/v1/referrals", json=body, headers=place.advisor).json()
    return (
        sent["id"],
        sent["partner_link"].rsplit("/", 1)[1],
        sent["young_person_link"].rsplit("/", 1)[1],
    )


def _partner(base: str, token: str, transition: str, **fields: str) -> None:
    answer = httpx.post(
        f"{base}/api/v1/links/{token}/actions", json={"transition": transition, **fields}
    )
    assert answer.status_code == 201, answer.text


def _expire_everything_waiting() -> None:
    """The deadline worker, run well after every partner's time to answer. Playwright's
    loop runs in this thread, so the worker gets a thread of its own."""
    later = datetime.now(UTC) + timedelta(days=60)
    rules = Settings.from_env().referral_rules
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run_reminders(rules, now=later)).result()


def _look(page, name: str) -> None:
    assert not _axe_violations(page), name
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), name
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def place(database_url) -> Place:
    # Built before the browser starts: Playwright's own loop then runs in this thread.
    return asyncio.run(Place().build())


def test_young_person_journey(database_url, place, browser):  # noqa: F811
    with running_server(database_url) as base:
        answered_id, partner, young = _send(base, place)
        _partner(base, partner, "accept")
        page = browser.new_page(viewport={"width": 320, "height": 700})
        page.goto(f"{base}/j/{young}")
        _look(page, "320-accepted")
        page.click("text=Je n’ai pas pu y aller")
        _look(page, "320-pas-pu")
        page.check("input[value=transport]")
        page.check("input[name=call_back]")
        page.click("button:has-text('Envoyer ma réponse')")
        text = page.inner_text("main")
        assert "Camille Rousset est prévenu·e et va vous rappeler" in text
        assert "Dites-nous" not in text  # the answer buttons are gone
        _look(page, "320-answered")
        page.go_back()
        page.click("button:has-text('Envoyer ma réponse')")
        assert "Vous avez déjà répondu" in page.inner_text(".error-summary")
        _look(page, "320-twice")

        for name, steps, words in (
            ("declined", [("decline", {"reason": "no_capacity"})], "ne peut pas vous recevoir"),
            ("no-show", [("accept", {}), ("no_show", {})], "le rendez-vous n’a pas eu lieu"),
            (
                "redirected",
                [("redirect", {"redirect_to_structure_id": str(place.third)})],
                "transmise à Résidence sociale du Rhône",
            ),
        ):
            _id, partner, young = _send(base, place)
            for transition, fields in steps:
                _partner(base, partner, transition, **fields)
            page.goto(f"{base}/j/{young}")
            assert words in page.inner_text("main"), name
            _look(page, f"320-{name}")
        wide = browser.new_page(viewport={"width": 1366, "height": 900})
        wide.goto(f"{base}/j/{young}")
        _look(wide, "1366-redirected")

        referral_id, _partner_token, young = _send(base, place)
        cancelled = httpx.post(
            f"{base}/api/v1/referrals/{referral_id}/actions",
            json={"transition": "cancel", "reason": "other_solution"},
            headers=place.advisor,
        )
        assert cancelled.status_code == 201, cancelled.text
        page.goto(f"{base}/j/{young}")
        assert "inutile de vous rendre chez" in page.inner_text("main")
        _look(page, "320-cancelled")

        _id, _partner_token, young = _send(base, place)
        _expire_everything_waiting()
        page.goto(f"{base}/j/{young}")
        assert "n’a pas répondu à temps" in page.inner_text("main")
        _look(page, "320-expired")

        wide.goto(f"{base}/j/pas-un-vrai-lien")
        _look(wide, "1366-bad-link")

        # Camille reads Inès's answer in her list and on the referral's page.
        wide.goto(f"{base}/login")
        wide.fill("#email", ADVISOR_EMAIL)
        wide.fill("#password", f.PASSWORD)
        wide.click("button[type=submit]")
        wide.wait_for_url(f"{base}/recherche")
        wide.goto(f"{base}/orientations")
        assert "Le jeune dit ne pas avoir pu y aller" in wide.inner_text("main")
        _look(wide, "1366-advisor-list")
        wide.goto(f"{base}/orientations/{answered_id}")
        assert "un problème de transport" in wide.inner_text(".young-says")
        _look(wide, "1366-advisor-referral")
