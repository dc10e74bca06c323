"""Security headers on every response (pages, API, static files, errors), and the API
documentation page rebuilt without inline script so that the Content-Security-Policy can
forbid inline script everywhere."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.types import Message, Scope

from service.static_urls import cache_control, static_url

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Two years, the HSTS preload list's threshold.
HSTS = "max-age=63072000; includeSubDomains"


def security_headers(https: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        # Personal link pages carry their token in the URL: never send it elsewhere.
        "Referrer-Policy": "no-referrer",
        # For browsers older than CSP's frame-ancestors.
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def add_security_headers(https: bool) -> Callable[[Message, Scope], Awaitable[None]]:
    """A before_send hook: it sees every response start, whatever produced it."""
    headers = security_headers(https)

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            mutable = MutableScopeHeaders.from_message(message)
            for name, value in headers.items():
                mutable[name] = value
            if message["status"] == 200 and (
                caching := cache_control(scope.get("path", ""), scope.get("query_string", b""))
            ):
                mutable["Cache-Control"] = caching

    return hook


class SwaggerWithoutInlineScript(SwaggerRenderPlugin):
    """Litestar's Swagger page starts Swagger UI from an inline <script>; this one loads the
    same start-up code from /static/swagger-init.js, which reads the schema's address from
    a data attribute."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(openapi_schema["info"]["title"])
        schema_url = html.escape(request.url.path.rstrip("/") + "/openapi.json")
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <title>{title}</title>
  {self.favicon}
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link href="{self.css_url}" rel="stylesheet">
  <link href="{static_url("swagger-page.css")}" rel="stylesheet">
  <script src="{self.js_url}"></script>
  <script src="{self.standalone_preset_js_url}"></script>
  <script src="{static_url("swagger-init.js")}" defer></script>
</head>
<body>
  <div id="swagger-container" data-schema-url="{schema_url}"></div>
</body>
</html>""".encode()
