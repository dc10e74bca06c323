"""Accounts and access: nothing is public but the login page."""

from __future__ import annotations

import pytest

from service.accounts.store import Role
from tests import factories as f


@pytest.mark.parametrize(
    "path", ["/recherche", "/structures", "/structures/nouvelle", "/compte", "/api/schema"]
)
async def test_pages_send_anonymous_visitors_to_login(client, path):
    response = await client.get(path, follow_redirects=False)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login?suivant=")


@pytest.mark.parametrize("path", ["/api/v1/structures", "/api/v1/search?place=Valence"])
async def test_api_refuses_anonymous_requests(client, path):
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json()["detail"]


async def test_login_page_is_public_and_has_csrf_token(client):
    response = await client.get("/login")
    assert response.status_code == 200
    assert 'name="_csrf_token"' in response.text


async def test_login_with_wrong_password_is_refused(client):
    _, email = await f.user()
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "email": email,
            "password": "wrong password!",
            "_csrf_token": f.csrf_token(page.text),
        },
    )
    assert response.status_code == 400
    assert "incorrect" in response.text
    assert "maillage_session" not in client.cookies


async def test_login_form_without_csrf_token_is_rejected(client):
    _, email = await f.user()
    await client.get("/login")
    response = await client.post("/login", data={"email": email, "password": f.PASSWORD})
    assert response.status_code == 403
    assert "maillage_session" not in client.cookies


async def test_login_then_logout(client):
    _, email = await f.user()
    await f.login(client, email)
    assert (await client.get("/recherche")).status_code == 200
    page = await client.get("/recherche")
    response = await client.post(
        "/logout", data={"_csrf_token": f.csrf_token(page.text)}, follow_redirects=False
    )
    assert response.status_code in (302, 303)
    client.cookies.clear()
    assert (await client.get("/recherche", follow_redirects=False)).status_code in (302, 303)


async def test_logout_ends_the_session_server_side(client):
    _, email = await f.user()
    await f.login(client, email)
    cookie = client.cookies["maillage_session"]
    page = await client.get("/recherche")
    await client.post("/logout", data={"_csrf_token": f.csrf_token(page.text)})
    client.cookies.set("maillage_session", cookie)
    assert (await client.get("/recherche", follow_redirects=False)).status_code in (302, 303)


async def test_api_token_authenticates_scripts(client):
    headers = await f.api_client_headers(Role.ADVISOR)
    response = await client.get("/api/v1/structures", headers=headers)
    assert response.status_code == 200
    assert response.json()["total"] == 0


async def test_forged_api_token_is_refused(client):
    response = await client.get(
        "/api/v1/structures", headers={"Authorization": "Bearer mlg_forged"}
    )
    assert response.status_code == 401


async def test_session_cookie_cannot_write_through_the_api(client):
    await f.logged_in(client, Role.COORDINATOR)
    response = await client.post("/api/v1/structures", json={"name": "Sans jeton"})
    assert response.status_code == 401
    listing = await client.get("/api/v1/structures")
    assert listing.json()["total"] == 0


async def test_account_page_creates_an_api_token_that_works(client):
    await f.logged_in(client)
    page = await client.get("/compte")
    response = await client.post(
        "/compte/jetons", data={"name": "mon script", "_csrf_token": f.csrf_token(page.text)}
    )
    assert response.status_code == 201 or response.status_code == 200
    token = response.text.split('<code id="token">')[1].split("</code>")[0]
    client.cookies.clear()
    api = await client.get("/api/v1/structures", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200


async def test_login_redirect_target_stays_on_site(client):
    _, email = await f.user()
    page = await client.get("/login?suivant=https://evil.example/")
    response = await client.post(
        "/login",
        data={
            "email": email,
            "password": f.PASSWORD,
            "next": "//evil.example/",
            "_csrf_token": f.csrf_token(page.text),
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/recherche"
