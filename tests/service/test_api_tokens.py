"""API tokens on /compte: listed with their expiry, revocable by their owner only, and
refused once revoked or expired."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from service.accounts.store import api_tokens, create_api_token
from tests import factories as f


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_token_made_on_the_account_page_has_the_chosen_lifetime(client):
    user_id = await f.logged_in(client)
    response = await f.form_post(
        client, "/compte/jetons", {"name": "export nocturne", "days": "365"}, "/compte"
    )
    assert response.status_code in (200, 201)
    token = re.search(r'<code id="token">([^<]+)</code>', response.text).group(1)
    [listed] = await api_tokens(user_id)
    assert listed.name == "export nocturne" and listed.state == "active"
    assert listed.expires_at - listed.created_at == timedelta(days=365)
    page = await client.get("/compte")
    assert "export nocturne" in page.text and "Actif" in page.text
    assert listed.expires_at.strftime("%Y") in page.text
    assert token not in page.text  # shown once, never again
    client.cookies.clear()
    assert (await client.get("/api/v1/structures", headers=_bearer(token))).status_code == 200


async def test_unknown_lifetime_is_refused_in_french(client):
    user_id = await f.logged_in(client)
    response = await f.form_post(client, "/compte/jetons", {"name": "x", "days": "9999"}, "/compte")
    assert response.status_code == 400
    assert "Choisissez une durée de validité dans la liste." in response.text
    assert await api_tokens(user_id) == []


async def test_revoked_token_is_refused_and_listed_as_revoked(client):
    user_id = await f.logged_in(client)
    token = await create_api_token(user_id, "ancien script")
    [listed] = await api_tokens(user_id)
    page = await client.get("/compte")
    assert f"/compte/jetons/{listed.id}/revoquer" in page.text
    response = await client.post(
        f"/compte/jetons/{listed.id}/revoquer",
        data={"_csrf_token": f.csrf_token(page.text)},
        follow_redirects=False,
    )
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/compte?fait=jeton-revoque"
    after = await client.get("/compte?fait=jeton-revoque")
    assert "Le jeton a été révoqué" in after.text and "Révoqué" in after.text
    assert f"/compte/jetons/{listed.id}/revoquer" not in after.text
    refused = await client.get("/api/v1/structures", headers=_bearer(token))
    assert refused.status_code == 401 and "révoqué" in refused.json()["detail"]


async def test_nobody_can_revoke_someone_elses_token(client):
    owner, _ = await f.user()
    token = await create_api_token(owner, "à quelqu'un d'autre")
    [theirs] = await api_tokens(owner)
    await f.logged_in(client)
    page = await client.get("/compte")
    assert "à quelqu'un d'autre" not in page.text
    response = await client.post(
        f"/compte/jetons/{theirs.id}/revoquer", data={"_csrf_token": f.csrf_token(page.text)}
    )
    assert response.status_code == 404
    client.cookies.clear()
    assert (await client.get("/api/v1/structures", headers=_bearer(token))).status_code == 200


async def test_expired_token_is_refused_and_listed_as_expired(client):
    user_id = await f.logged_in(client)
    made = datetime.now(UTC) - timedelta(days=31)
    token = await create_api_token(user_id, "vieux", days=30, now=made)
    page = await client.get("/compte")
    assert "Expiré" in page.text
    refused = await client.get("/api/v1/structures", headers=_bearer(token))
    assert refused.status_code == 401 and "expiré" in refused.json()["detail"]
    fresh = await create_api_token(user_id, "récent", days=30, now=made + timedelta(days=2))
    client.cookies.clear()
    assert (await client.get("/api/v1/structures", headers=_bearer(fresh))).status_code == 200
