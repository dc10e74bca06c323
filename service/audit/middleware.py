"""Audit of the directory: every page or endpoint that shows or changes one record of the
directory (a structure and its sites, services, people, relationships) leaves an entry.
Done once here, from the path, so a new handler cannot forget it; the referral exchange
records its own, since personal links do not name the referral in their path."""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from uuid import UUID

from litestar.middleware import MiddlewareProtocol
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.accounts.store import Actor
from service.audit.store import Action, ActorKind, record

log = logging.getLogger(__name__)

KINDS = {
    "structures": "structure",
    "sites": "site",
    "services": "service",
    "people": "person",
    "personnes": "person",
    "relationships": "relationship",
    "relations": "relationship",
}
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_RECORD = re.compile(rf"/({'|'.join(KINDS)})/({_UUID})")
_DIRECTORY = re.compile(r"^(/api/v1)?/(structures|sites|services|people|relationships)/")
_CREATE = re.compile(r"^(/api/v1/structures/?|/structures/nouvelle)$")


def _subject(path: str, location: str, body: bytes) -> tuple[str, UUID] | None:
    """The record a request is about: the last one its path names, or for a new
    structure, the one the response points to."""
    found = _RECORD.findall(path) or _RECORD.findall(location)
    if found:
        kind, value = found[-1]
        return KINDS[kind], UUID(value)
    if _CREATE.match(path) and body:
        try:
            return "structure", UUID(json.loads(body)["id"])
        except (ValueError, KeyError, TypeError):
            return None
    return None


class AuditMiddleware(MiddlewareProtocol):
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (_DIRECTORY.match(path) or _CREATE.match(path)):
            await self.app(scope, receive, send)
            return
        seen: dict[str, Any] = {"status": 0, "location": "", "body": b""}
        creating = bool(_CREATE.match(path))

        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                headers = dict(message.get("headers") or [])
                seen["location"] = headers.get(b"location", b"").decode("latin-1")
            elif message["type"] == "http.response.body" and creating:
                seen["body"] += message.get("body", b"")
            await send(message)

        await self.app(scope, receive, watching)
        if 200 <= seen["status"] < 400:
            await _record(scope, path, seen)


async def _record(scope: Scope, path: str, seen: dict[str, Any]) -> None:
    actor = scope.get("user")
    subject = _subject(path, seen["location"], seen["body"])
    if not isinstance(actor, Actor) or subject is None:
        return
    method = scope.get("method", "GET")
    action = Action.READ if method in {"GET", "HEAD"} else Action.CHANGE
    try:
        await record(
            action,
            subject[0],
            subject[1],
            actor_kind=ActorKind.ACCOUNT,
            actor_label=actor.name,
            actor_user=actor.user_id,
            detail=f"{method} {re.sub(_UUID, '{id}', path)}",
        )
    except Exception:
        # The answer has gone out already; a lost entry must at least be seen in the logs.
        log.exception("could not write the audit entry for %s %s", method, path)
