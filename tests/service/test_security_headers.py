"""Security headers on every response, whatever produced it, and no inline script
anywhere, so that the Content-Security-Policy can forbid it."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from service.accounts.store import Role
from service.app import create_app
from service.settings import ROOT
from tests import factories as f

# A page, a redirect to login, an API refusal, a static file, a missing page, a personal
# link that does not exist, a JSON endpoint.
PATHS = [
    "/login",
    "/recherche",
    "/api/v1/structures",
    "/static/maillage.css",
    "/nulle-part",
    "/p/jeton-inconnu",
    "/fiche/jeton-inconnu",
    "/healthz",
]


def _directives(policy: str) -> dict[str, str]:
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


@pytest.mark.parametrize("path", PATHS)
async def test_every_response_carries_the_security_headers(client, path):
    response = await client.get(path, follow_redirects=False)
    policy = _directives(response.headers["content-security-policy"])
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    # Plain HTTP: no HSTS (it would be ignored, and would lock a test address to HTTPS).
    assert "strict-transport-security" not in response.headers


async def test_api_with_a_token_and_pages_of_a_signed_in_user_carry_them_too(client):
    headers = await f.api_client_headers(Role.COORDINATOR)
    api = await client.get("/api/v1/structures", headers=headers)
    assert api.status_code == 200
    assert api.headers["referrer-policy"] == "no-referrer"
    await f.logged_in(client)
    page = await client.get("/compte")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_https_base_url_turns_on_hsts_and_secure_cookies(settings):
    https = replace(settings, base_url="https://maillage.exemple.fr")
    async with AsyncTestClient(create_app(https), base_url="https://127.0.0.1") as client:
        _, email = await f.user()
        page = await client.get("/login")
        assert page.headers["strict-transport-security"].startswith("max-age=")
        csrf_cookie = page.headers["set-cookie"]
        assert "secure" in csrf_cookie.lower()
        response = await client.post(
            "/login",
            data={"email": email, "password": f.PASSWORD, "_csrf_token": f.csrf_token(page.text)},
            follow_redirects=False,
        )
        assert response.status_code in (302, 303)
        session_cookie = next(
            c for c in response.headers.get_list("set-cookie") if "maillage_session" in c
        )
        assert "secure" in session_cookie.lower() and "httponly" in session_cookie.lower()


async def test_api_documentation_page_has_no_inline_script(client):
    await f.logged_in(client)
    page = await client.get("/api/schema")
    assert page.status_code == 200
    assert "swagger-container" in page.text
    assert not _inline_scripts(page.text)
    script = await client.get("/static/swagger-init.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text


_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
_JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


def _inline_scripts(html: str) -> list[str]:
    return _SCRIPT.findall(html) + _HANDLER.findall(html) + _JS_URL.findall(html)


@pytest.mark.parametrize(
    "template",
    sorted(p.relative_to(ROOT) for p in (ROOT / "templates").glob("*.html")),
    ids=str,
)
def test_page_templates_have_no_inline_script(template: Path):
    assert not _inline_scripts((ROOT / template).read_text(encoding="utf-8"))
