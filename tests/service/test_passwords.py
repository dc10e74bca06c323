"""Changing one's password on /compte, and choosing a new one from an emailed link: the
link works once, expires, and the answer never tells whether an account exists. After
either change, every session and API token of the account ends."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient

from service.accounts.store import (
    authenticate,
    create_api_token,
    reset_password,
    start_password_reset,
)
from service.app import create_app
from service.settings import Settings
from tests import factories as f
from tests.outbox import mail_settled

NEW = "une phrase toute neuve"


async def _change(client, current: str, new: str = NEW, confirmation: str | None = None):
    page = await client.get("/compte")
    return await client.post(
        "/compte/mot-de-passe",
        data={
            "current_password": current,
            "new_password": new,
            "confirmation": new if confirmation is None else confirmation,
            "_csrf_token": f.csrf_token(page.text),
        },
        follow_redirects=False,
    )


async def _can_log_in(settings, email: str, password: str) -> bool:
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1") as other:
        page = await other.get("/login")
        response = await other.post(
            "/login",
            data={"email": email, "password": password, "_csrf_token": f.csrf_token(page.text)},
            follow_redirects=False,
        )
        return response.status_code in (302, 303)


async def test_change_password_ends_other_sessions_and_tokens(settings, threaded_smtp_server):
    smtp = threaded_smtp_server
    settings = _mail_settings(settings, smtp)
    user_id, email = await f.user()
    token = await create_api_token(user_id, "script")
    async with (
        AsyncTestClient(create_app(settings), base_url="http://127.0.0.1") as client,
        AsyncTestClient(create_app(settings), base_url="http://127.0.0.1") as elsewhere,
    ):
        await f.login(elsewhere, email)
        await f.login(client, email)
        response = await _change(client, f.PASSWORD)
        assert response.status_code in (302, 303)
        assert response.headers["location"] == "/compte?fait=mot-de-passe"
        page = await client.get("/compte?fait=mot-de-passe", follow_redirects=False)
        assert page.status_code == 200 and "Votre mot de passe a été changé" in page.text
        stale = await elsewhere.get("/recherche", follow_redirects=False)
        assert stale.status_code in (302, 303) and "/login" in stale.headers["location"]
        api = await client.get("/api/v1/structures", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 401
        await mail_settled()
    assert not await _can_log_in(settings, email, f.PASSWORD)
    assert await _can_log_in(settings, email, NEW)
    [notice] = smtp.inbox.messages()
    assert notice["To"] == email and "a changé" in notice["Subject"]
    assert "http://maillage.test/mot-de-passe-oublie" in _text(notice)


async def test_change_password_reports_every_problem_and_changes_nothing(client, settings):
    _, email = await f.user()
    await f.login(client, email)
    response = await _change(client, "pas le bon", new="court", confirmation="autre")
    assert response.status_code == 400
    assert "Le mot de passe actuel est incorrect." in response.text
    assert "au moins 10 caractères" in response.text
    mismatch = await _change(client, f.PASSWORD, confirmation="une autre phrase encore")
    assert mismatch.status_code == 400
    assert "ne sont pas identiques" in mismatch.text
    assert (await client.get("/compte")).status_code == 200  # still signed in
    assert await _can_log_in(settings, email, f.PASSWORD)


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _mail_settings(settings, smtp) -> Settings:
    return replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_starttls=False,
        base_url="http://maillage.test",
    )


async def _ask(client, email: str):
    page = await client.get("/mot-de-passe-oublie")
    return await client.post(
        "/mot-de-passe-oublie",
        data={"email": email, "_csrf_token": f.csrf_token(page.text)},
        follow_redirects=False,
    )


async def _choose(client, path: str, new: str = NEW, confirmation: str | None = None):
    page = await client.get(path)
    return await client.post(
        path,
        data={
            "new_password": new,
            "confirmation": new if confirmation is None else confirmation,
            "_csrf_token": f.csrf_token(page.text),
        },
        follow_redirects=False,
    )


async def test_forgotten_password_by_email_link_once(settings, threaded_smtp_server):
    smtp = threaded_smtp_server
    settings = _mail_settings(settings, smtp)
    user_id, email = await f.user()
    token = await create_api_token(user_id, "script")
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        login = await client.get("/login")
        assert 'href="/mot-de-passe-oublie"' in login.text
        asked = await _ask(client, email.upper())
        assert asked.headers["location"] == "/mot-de-passe-oublie?envoye=1"
        await mail_settled()  # the mail leaves from the outbox, after the answer
        [message] = smtp.inbox.messages()
        assert message["To"] == email
        assert "nouveau mot de passe" in message["Subject"]
        text = _text(message)
        link = re.search(r"http://maillage\.test(/mot-de-passe/\S+)", text)
        assert link, text
        path = link.group(1)

        short = await _choose(client, path, new="court")
        assert short.status_code == 400 and "au moins 10 caractères" in short.text
        done = await _choose(client, path)
        assert done.headers["location"] == "/login?fait=mot-de-passe"
        assert "mot de passe a été changé" in (await client.get("/login?fait=mot-de-passe")).text

        again = await client.get(path)
        assert again.status_code == 400 and "ne fonctionne plus" in again.text
        reused = await client.post(
            path,
            data={
                "new_password": "encore une autre phrase",
                "confirmation": "encore une autre phrase",
                "_csrf_token": f.csrf_token((await client.get("/login")).text),
            },
        )
        assert reused.status_code == 400
        api = await client.get("/api/v1/structures", headers={"Authorization": f"Bearer {token}"})
        assert api.status_code == 401
        await mail_settled()
    assert await _can_log_in(settings, email, NEW)
    assert not await _can_log_in(settings, email, "encore une autre phrase")
    [_, notice] = smtp.inbox.messages()
    assert notice["To"] == email and "a changé" in notice["Subject"]


async def test_forgotten_password_answers_the_same_for_unknown_addresses(
    settings, threaded_smtp_server
):
    smtp = threaded_smtp_server
    _, email = await f.user()
    async with AsyncTestClient(
        create_app(_mail_settings(settings, smtp)), base_url="http://127.0.0.1"
    ) as client:
        known = await _ask(client, email)
        unknown = await _ask(client, "personne@exemple.fr")
        assert known.status_code == unknown.status_code
        assert known.headers["location"] == unknown.headers["location"]
        page = await client.get(unknown.headers["location"])
        assert "Si un compte existe pour cette adresse" in page.text
        await mail_settled()
    assert [m["To"] for m in smtp.inbox.messages()] == [email]


async def test_reset_link_expires_after_an_hour(client, settings):
    _, email = await f.user()
    started = await start_password_reset(email, now=datetime.now(UTC) - timedelta(minutes=61))
    assert started is not None
    path = f"/mot-de-passe/{started[0]}"
    page = await client.get(path)
    assert page.status_code == 400 and "expiré" in page.text
    assert page.headers["cache-control"] == "no-store"
    response = await client.post(
        path,
        data={
            "new_password": NEW,
            "confirmation": NEW,
            "_csrf_token": f.csrf_token((await client.get("/login")).text),
        },
    )
    assert response.status_code == 400
    assert await _can_log_in(settings, email, f.PASSWORD)
    fresh = await start_password_reset(email, now=datetime.now(UTC) - timedelta(minutes=59))
    assert fresh is not None
    assert (await client.get(f"/mot-de-passe/{fresh[0]}")).status_code == 200


async def test_reset_links_are_limited_per_hour(settings, threaded_smtp_server):
    smtp = threaded_smtp_server
    _, email = await f.user()
    async with AsyncTestClient(
        create_app(_mail_settings(settings, smtp)), base_url="http://127.0.0.1"
    ) as client:
        for _ in range(5):
            assert (await _ask(client, email)).status_code in (302, 303)
        await mail_settled()
    assert len(smtp.inbox.messages()) == 3


async def test_forged_reset_link_is_refused(client):
    page = await client.get("/mot-de-passe/pas-un-vrai-jeton")
    assert page.status_code == 400
    assert "Demander un nouveau lien" in page.text


async def test_a_reset_link_used_twice_at_once_works_only_once(database_url):
    user_id, email = await f.user()
    started = await start_password_reset(email)
    assert started is not None
    phrases = [f"phrase numéro {i} assez longue" for i in range(4)]
    # gather interleaves them: each checks the link before any of them has written.
    outcomes = await asyncio.gather(
        *(reset_password(started[0], p, p) for p in phrases), return_exceptions=True
    )
    winners = [phrase for phrase, o in zip(phrases, outcomes, strict=True) if o is not None]
    assert len(winners) == 1, outcomes
    assert [o.user_id for o in outcomes if o is not None] == [user_id]
    for phrase in phrases:
        assert (await authenticate(email, phrase) is not None) == (phrase in winners)
