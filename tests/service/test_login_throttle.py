"""Password guessing is throttled per account and per address, in the database so that
every server process sees the same attempts; lockouts are temporary, and an attacker
cannot lock a user out of the address they usually sign in from."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from litestar.testing import AsyncTestClient

from service.accounts import throttle
from service.app import create_app
from tests import factories as f
from tests.live import running_server

WRONG = "pas le bon mot de passe"
SIGNED_IN = (302, 303)  # the redirect after a successful login


def _behind_proxy(app):
    """The app as seen through a reverse proxy that names the client's address in
    X-Forwarded-For (as uvicorn's proxy headers do in production): lets one test speak
    from several addresses."""

    async def asgi(scope, receive, send):
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    scope = {**scope, "client": (value.decode(), 0)}
        await app(scope, receive, send)

    return asgi


@pytest.fixture
async def client(settings):
    async with AsyncTestClient(
        _behind_proxy(create_app(settings)), base_url="http://127.0.0.1"
    ) as test_client:
        yield test_client


async def _attempt(client, email: str, password: str, address: str = "192.0.2.1"):
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": f.csrf_token(page.text)},
        headers={"X-Forwarded-For": address},
        follow_redirects=False,
    )


async def test_after_five_wrong_passwords_even_the_right_one_must_wait(client):
    _, email = await f.user()
    for _ in range(throttle.PER_PAIR):
        assert (await _attempt(client, email, WRONG)).status_code == 400
    refused = await _attempt(client, email, f.PASSWORD)
    assert refused.status_code == 429
    assert "Trop de tentatives de connexion" in refused.text
    assert "Mot de passe oublié" in refused.text
    assert 0 < int(refused.headers["retry-after"]) <= throttle.WINDOW.total_seconds()
    assert "maillage_session" not in client.cookies
    # Another address is not held back by these guesses.
    assert (await _attempt(client, email, f.PASSWORD, "198.51.100.7")).status_code in SIGNED_IN


async def test_unknown_account_is_answered_and_throttled_like_a_real_one(client):
    _, email = await f.user()
    unknown = "personne@exemple.fr"
    real = [await _attempt(client, email, WRONG) for _ in range(throttle.PER_PAIR + 1)]
    ghost = [await _attempt(client, unknown, WRONG) for _ in range(throttle.PER_PAIR + 1)]
    assert [r.status_code for r in real] == [r.status_code for r in ghost]
    assert [r.status_code for r in ghost][-2:] == [400, 429]
    assert real[0].text.replace(email, unknown) == ghost[0].text
    assert real[-1].text.replace(email, unknown) == ghost[-1].text


async def test_unknown_account_is_not_answered_faster(client):
    _, email = await f.user()
    known, ghost = [], []
    for i in range(8):  # interleaved, from fresh addresses so that nothing is throttled
        for target, times in ((email, known), ("personne@exemple.fr", ghost)):
            started = time.perf_counter()
            response = await _attempt(client, target, WRONG, f"203.0.113.{i}")
            times.append(time.perf_counter() - started)
            assert response.status_code == 400
    # The fastest of each is the one least slowed by whatever else the machine was doing:
    # on a busy machine, medians wandered below half with nothing wrong in the code.
    assert min(ghost) > 0.5 * min(known)


async def test_lockout_ends_by_itself(client):
    _, email = await f.user()
    now = datetime.now(UTC)
    for minutes in (20, 19, 18, 17, 16):
        await throttle.record(email, "192.0.2.1", False, now - timedelta(minutes=minutes))
    assert (await _attempt(client, email, f.PASSWORD)).status_code in SIGNED_IN

    _, other = await f.user()
    for minutes in (14, 13, 12, 11, 10):
        await throttle.record(other, "192.0.2.1", False, now - timedelta(minutes=minutes))
    refused = await _attempt(client, other, f.PASSWORD)
    assert refused.status_code == 429
    # The oldest failure leaves the window in a minute.
    assert 50 <= int(refused.headers["retry-after"]) <= 61
    assert await throttle.wait_seconds(other, "192.0.2.1", now + timedelta(minutes=2)) == 0


async def test_guesses_from_many_addresses_cannot_lock_the_user_out_of_their_office(client):
    _, email = await f.user()
    assert (await _attempt(client, email, f.PASSWORD, "192.0.2.10")).status_code in SIGNED_IN
    client.cookies.clear()
    now = datetime.now(UTC)
    for i in range(throttle.PER_ACCOUNT):
        await throttle.record(email, f"198.51.100.{i}", False, now - timedelta(seconds=30))
    # A new address must wait: the account as a whole is under attack...
    new = await _attempt(client, email, f.PASSWORD, "203.0.113.99")
    assert new.status_code == 429
    # ...but the address the user signed in from keeps working.
    assert (await _attempt(client, email, f.PASSWORD, "192.0.2.10")).status_code in SIGNED_IN


async def test_one_address_guessing_many_accounts_is_throttled(client):
    _, email = await f.user()
    now = datetime.now(UTC)
    for i in range(throttle.PER_ADDRESS):
        await throttle.record(f"essai{i}@exemple.fr", "192.0.2.66", False, now)
    assert (await _attempt(client, email, f.PASSWORD, "192.0.2.66")).status_code == 429
    assert (await _attempt(client, email, f.PASSWORD, "192.0.2.67")).status_code in SIGNED_IN


async def test_a_wrong_current_password_on_the_account_page_counts_too(client):
    _, email = await f.user()
    assert (await _attempt(client, email, f.PASSWORD)).status_code in SIGNED_IN
    for _ in range(throttle.PER_PAIR):
        page = await client.get("/compte")
        response = await client.post(
            "/compte/mot-de-passe",
            data={
                "current_password": WRONG,
                "new_password": "une toute nouvelle phrase",
                "confirmation": "une toute nouvelle phrase",
                "_csrf_token": f.csrf_token(page.text),
            },
            headers={"X-Forwarded-For": "192.0.2.1"},
        )
        assert response.status_code == 400
    page = await client.get("/compte")
    refused = await client.post(
        "/compte/mot-de-passe",
        data={
            "current_password": f.PASSWORD,
            "new_password": "une toute nouvelle phrase",
            "confirmation": "une toute nouvelle phrase",
            "_csrf_token": f.csrf_token(page.text),
        },
        headers={"X-Forwarded-For": "192.0.2.1"},
    )
    assert refused.status_code == 429 and "retry-after" in refused.headers
    assert "Trop de mots de passe incorrects" in refused.text


def _live_attempt(base: str, email: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base) as http:
        page = http.get("/login")
        return http.post(
            "/login",
            data={"email": email, "password": password, "_csrf_token": f.csrf_token(page.text)},
        )


def test_two_server_processes_share_the_count(database_url):
    _, email = asyncio.run(f.user())
    with running_server(database_url) as first, running_server(database_url) as second:
        for _ in range(throttle.PER_PAIR):
            assert _live_attempt(first, email, WRONG).status_code == 400
        refused = _live_attempt(second, email, f.PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
