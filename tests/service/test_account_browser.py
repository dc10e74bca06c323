"""The account pages in a real browser (Debian's chromium) under the real
Content-Security-Policy, at a desktop and a phone width: forgotten password from the
login page, choosing a new password from the link, then /compte (password change, API
tokens). Each page is checked with axe-core (vendored in tests/vendor/axe-core) and must
raise no console error, which is where chromium reports CSP violations."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import time
from pathlib import Path

import pytest

from service.accounts.store import create_api_token
from tests import factories as f
from tests.live import running_server
from tests.service.test_browser import browser  # noqa: F401 - fixture

pytestmark = pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
AXE = (Path(__file__).parent.parent / "vendor" / "axe-core" / "axe.min.js").read_text()
NEW = "une phrase toute neuve"
WIDTHS = {"ordinateur": 1366, "téléphone": 375}


def _axe_violations(page) -> list[str]:
    # Evaluated through the DevTools protocol, which the page's CSP does not govern.
    page.evaluate(AXE)
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])}×, e.g. {v['nodes'][0]['target']})"
        for v in result["violations"]
    ]


def _is_error(message) -> bool:
    # A form sent back with its errors answers 400, which chromium also logs: not a fault.
    return message.type == "error" and "status of 400" not in message.text


def _check(page, errors: list[str], where: str) -> None:
    assert not _axe_violations(page), where
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), where
    assert not errors, (where, errors)


@pytest.fixture
def account(database_url) -> str:
    async def setup() -> str:
        user_id, email = await f.user()
        await create_api_token(user_id, "tableau de bord")
        return email

    return asyncio.run(setup())


def _mailed_link(outbox: Path) -> str:
    """The reset link from the mail the server wrote into its outbox folder (it is sent
    just after the answer, so it may take a moment)."""
    deadline = time.monotonic() + 10
    while not list(outbox.glob("*.eml")):
        assert time.monotonic() < deadline, "no mail in the outbox"
        time.sleep(0.1)
    [path] = outbox.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://\S+(/mot-de-passe/\S+)", text)
    assert match, text
    return match.group(1)


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_password_and_token_pages_in_a_browser(
    database_url,
    account,
    browser,  # noqa: F811
    width,
    tmp_path,
    monkeypatch,
):
    address = account
    # The server's configuration, read from its environment: mail goes to a folder.
    monkeypatch.setenv("MAILLAGE_MAIL_OUTBOX", str(tmp_path))
    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)

        page.goto(f"{base}/login")
        page.click("text=Mot de passe oublié ?")
        page.wait_for_url(f"{base}/mot-de-passe-oublie")
        _check(page, errors, "mot de passe oublié")
        page.fill("#email", address)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/mot-de-passe-oublie?envoye=1")
        assert "Si un compte existe" in page.inner_text("main")
        _check(page, errors, "lien envoyé")

        page.goto(base + _mailed_link(tmp_path))
        page.fill("#new_password", NEW)
        page.fill("#confirmation", "pas la même phrase")
        page.click("button[type=submit]")
        assert "ne sont pas identiques" in page.inner_text(".error-summary")
        _check(page, errors, "nouveau mot de passe, erreur")
        page.fill("#new_password", NEW)
        page.fill("#confirmation", NEW)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/login?fait=mot-de-passe")
        _check(page, errors, "connexion après changement")

        page.fill("#email", address)
        page.fill("#password", NEW)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/recherche")
        page.goto(f"{base}/compte")
        _check(page, errors, "compte")
        page.fill("#name", "export du lundi")
        page.select_option("#days", "30")
        page.click("button:has-text('Créer un jeton')")
        assert page.inner_text("#token").startswith("mlg_")
        _check(page, errors, "compte, nouveau jeton")
        # The token made before the password change was revoked by it.
        rows = page.locator("table.tokens tbody tr")
        assert rows.count() == 2
        assert "Révoqué" in rows.filter(has_text="tableau de bord").inner_text()
        rows.filter(has_text="export du lundi").locator("button").click()
        page.wait_for_url(f"{base}/compte?fait=jeton-revoque")
        assert page.locator("table.tokens button").count() == 0
        _check(page, errors, "compte, jeton révoqué")
