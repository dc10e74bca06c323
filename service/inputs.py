"""One gate for what every request carries, before any handler or database sees it: no
NUL character in the address, the query, a form or a JSON body (PostgreSQL cannot store
one and SQLite silently cuts the text there), and JSON bodies of bounded size and depth
(a deeply nested body would exhaust the decoder's recursion)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.enums import ScopeType
from litestar.exceptions import ClientException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from directory.errors import Invalid

NUL = "\x00"
NUL_MESSAGE = "Le caractère nul (U+0000) n'est pas accepté."
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_FORMS = {"application/x-www-form-urlencoded", "multipart/form-data"}


class PayloadTooLarge(ClientException):
    status_code = 413


def json_depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value: 0 for a scalar, 1 for [] or {}."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in _children(item))
    return deepest


def _children(value: list[Any] | dict[str, Any]) -> list[Any]:
    return list(value.values()) if isinstance(value, dict) else value


def _nul_path(value: Any, path: str) -> str | None:
    """Where a decoded JSON value holds a NUL, as `field.sub[2]`; None when it holds none."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, list):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    elif isinstance(value, dict):
        items = ((f"{path}.{key}" if path else str(key), item) for key, item in value.items())
    else:
        return None
    for where, item in items:
        if NUL in where:
            return path or "corps"
        if found := _nul_path(item, where):
            return found
    return None


def check_query(query_string: bytes) -> None:
    if b"\x00" not in query_string and b"%00" not in query_string:
        return
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    errors = {
        (key if NUL not in key else "paramètre"): NUL_MESSAGE
        for key, value in pairs
        if NUL in key or NUL in value
    }
    if errors:
        raise Invalid(errors)


def check_json(body: bytes) -> None:
    if len(body) > MAX_JSON_BYTES:
        raise PayloadTooLarge(
            detail=f"Le corps JSON dépasse {MAX_JSON_BYTES // 1024} Kio : envoyez-en moins."
        )
    if not body.strip():
        return  # no body: the handler says whether it needs one
    too_deep = ClientException(
        detail=f"Le JSON est imbriqué sur plus de {MAX_JSON_DEPTH} niveaux : "
        "cette API n'en attend pas autant."
    )
    try:
        decoded = msgspec.json.decode(body)
    except RecursionError:  # the decoder's own limit, far above ours
        raise too_deep from None
    except msgspec.DecodeError as error:
        raise ClientException(
            detail=f"Le corps n'est pas un JSON valide : {_where(error)}."
        ) from None
    if json_depth(decoded) > MAX_JSON_DEPTH:
        raise too_deep
    if where := _nul_path(decoded, ""):
        raise Invalid({where: NUL_MESSAGE})


def _where(error: msgspec.DecodeError) -> str:
    message = str(error)
    if "truncated" in message:
        return "il s'arrête avant la fin"
    if "trailing characters" in message:
        return "du texte suit la fin du JSON"
    if position := re.search(r"byte (\d+)", message):
        return f"caractère inattendu à l'octet {position.group(1)}"
    return "syntaxe incorrecte"


async def check_form(request: Request) -> None:
    try:
        form = await request.form()  # cached for the handler: the body is read once
    except UnicodeDecodeError:
        # Litestar decodes every part that is not a file as UTF-8 text.
        raise ClientException(
            detail="Un champ du formulaire n'est pas du texte UTF-8 (envoyez un fichier "
            "comme fichier, avec un nom de fichier)."
        ) from None
    errors = {
        (key if NUL not in key else "champ"): NUL_MESSAGE
        for key, value in form.multi_items()
        if NUL in key or (not isinstance(value, UploadFile) and NUL in str(value))
    }
    if errors:
        raise Invalid(errors)


class InputGuard(ASGIMiddleware):
    """Runs after authentication, so an anonymous request is never read further."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if NUL in scope["path"]:
            raise ClientException(detail="L'adresse contient un caractère nul (U+0000).")
        check_query(scope["query_string"])
        if scope.get("method") in _BODY_METHODS:
            request: Request = Request(scope, receive)
            content_type, _ = request.content_type
            if content_type in _FORMS:
                await check_form(request)
            elif content_type.endswith("json") or _takes_data(scope):
                check_json(await request.body())
        await next_app(scope, receive, send)


def _takes_data(scope: Scope) -> bool:
    """Handlers with a `data` body decode it as JSON whatever the Content-Type says."""
    return "data" in scope["route_handler"].parsed_fn_signature.parameters
