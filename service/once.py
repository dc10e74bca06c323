"""One-time keys for page forms: every form that changes something carries a hidden
`_once` field (the `once_input()` template global); its first submission claims the key,
and a reload, a double click or a browser retry of the same submission is sent where the
first one went instead of acting a second time. Done once here, for every form, so a new
form cannot forget it: the form only has to carry the field.

A submission that fails (4xx, 5xx) gives its key back, so the corrected form can be sent
again. Only a hash of the key is stored, scoped to the user (or the personal link) that
sent it.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.middleware import MiddlewareProtocol
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)
from markupsafe import Markup

from service.accounts.store import Actor
from service.accounts.tables import FormSubmission

FIELD = "_once"
# Forms whose handler keeps the key itself, in the transaction that acts: the send and
# re-orientation forms (exchange.send_once) seal the personal links with the key, and
# their redirect carries the key, which must not be stored here in clear.
OWN_KEYS = re.compile(r"^/orientations/(nouvelle|[0-9a-f-]{36}/reorienter)$")
LIFETIME = timedelta(hours=24)
# How long a second submission waits for the first to finish before saying so.
WAIT = timedelta(seconds=10)
STILL_RUNNING = (
    '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
    "<title>Formulaire déjà envoyé — Maillage</title></head><body><main>"
    "<h1>Ce formulaire a déjà été envoyé</h1>"
    "<p>Votre premier envoi est encore en cours de traitement. Rechargez la page précédente "
    "dans un instant pour voir le résultat ; il n'est pas utile de renvoyer le formulaire.</p>"
    "</main></body></html>"
)


def once_input() -> Markup:
    """The hidden field a state-changing form carries next to its CSRF token."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FIELD, secrets.token_urlsafe(24)
    )


def _owner(scope: Scope) -> str | None:
    """Who the key belongs to: the signed-in user, or the personal link in the path."""
    user = scope.get("user")
    if isinstance(user, Actor):
        return f"user:{user.user_id}"
    token = _link_token(scope)
    return f"link:{token}" if token else None


def _hash(owner: str, key: str) -> str:
    return hashlib.sha256(f"form-once\0{owner}\0{key}".encode()).hexdigest()


async def _claim(key_hash: str, now: datetime) -> bool:
    """True if this submission is the first with this key."""
    await FormSubmission.delete().where(FormSubmission.created_at < now - LIFETIME)
    try:
        await FormSubmission(key_hash=key_hash, created_at=now).save()
    except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
        return False
    return True


async def _first_answer(key_hash: str) -> str | None:
    """Where the first submission went, once it has finished; None if it takes too long."""
    deadline = datetime.now(UTC) + WAIT
    while True:
        row = (
            await FormSubmission.select(FormSubmission.done, FormSubmission.location)
            .where(FormSubmission.key_hash == key_hash)
            .first()
        )
        if row is None:  # the first one failed and gave the key back: try again
            return None
        if row["done"]:
            return str(row["location"])
        if datetime.now(UTC) >= deadline:
            return None
        await asyncio.sleep(0.1)


def _same_site_path(url: str) -> str:
    """A location or referer, reduced to a path on this site (never elsewhere)."""
    parts = urlsplit(url)
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _back(seen: dict[str, Any], request: Request[Any, Any, Any]) -> str:
    """Where a repeated submission is sent: where the first was redirected, or, for a
    page answered in place (a new token shown once), the page the form belongs to (pages
    send no Referer: the form's action minus its last step)."""
    return (
        _same_site_path(str(seen["location"]))
        or _same_site_path(request.headers.get("referer", ""))
        or request.url.path.rsplit("/", 1)[0]
        or "/"
    )


def _link_token(scope: Scope) -> str:
    path = scope.get("path", "")
    return path.split("/")[2] if path.startswith(("/p/", "/j/", "/fiche/")) else ""


def _mask(location: str, scope: Scope) -> str:
    """Personal link tokens are never stored in clear: the location keeps a placeholder,
    filled again from the repeated request's own path."""
    token = _link_token(scope)
    return location.replace(token, "{lien}") if token else location


def _unmask(location: str, scope: Scope) -> str:
    token = _link_token(scope)
    return location.replace("{lien}", token) if token else location


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [*headers, (b"content-length", str(len(body)).encode())],
    }
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(end)


async def _send_redirect(send: Send, location: str) -> None:
    await _respond(send, 303, [(b"location", location.encode("latin-1"))], b"")


async def _send_still_running(send: Send) -> None:
    html = [(b"content-type", b"text/html; charset=utf-8")]
    await _respond(send, 409, html, STILL_RUNNING.encode())


class OnceMiddleware(MiddlewareProtocol):
    """Claims a form's one-time key before the handler runs; see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        owner = _owner(scope) if scope["type"] == "http" else None
        if (
            owner is None
            or scope.get("method") != "POST"
            or scope["path"].startswith("/api/")
            or OWN_KEYS.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        # The form is read once and kept in the scope, where the handler finds it again.
        form = await request.form()
        key = str(form.get(FIELD, "") or "")
        if not key or len(key) > 200:
            await self.app(scope, receive, send)
            return
        key_hash = _hash(owner, key)
        if not await _claim(key_hash, datetime.now(UTC)):
            for value in form.values():  # the handler that would close uploads is not run
                if isinstance(value, UploadFile):
                    await value.close()
            location = await _first_answer(key_hash)
            if location is None:
                await _send_still_running(send)
            else:
                await _send_redirect(send, _unmask(location, scope) or "/")
            return
        await self._first(scope, receive, send, key_hash, request)

    async def _first(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        key_hash: str,
        request: Request[Any, Any, Any],
    ) -> None:
        seen: dict[str, Any] = {"status": 500, "location": ""}

        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                headers = dict(message.get("headers") or [])
                seen["location"] = headers.get(b"location", b"").decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            if int(seen["status"]) < 400:
                await FormSubmission.update(
                    {
                        FormSubmission.done: True,
                        FormSubmission.location: _mask(_back(seen, request), scope),
                    }
                ).where(FormSubmission.key_hash == key_hash)
            else:
                await FormSubmission.delete().where(FormSubmission.key_hash == key_hash)
