"""The Litestar application: pages in French under /, the JSON API under /api/v1, the
OpenAPI schema and its offline documentation page under /api/schema."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from litestar import Litestar, Request, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.di import Provide
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from piccolo.engine.postgres import PostgresEngine

from directory import demand, search_index
from directory.errors import Conflict, Forbidden, Invalid, NotFound
from directory.gazetteer import AmbiguousPlace, UnknownPlace, load_gazetteer
from directory.geo import AddressGeocoder
from graph.coverage import CoverageCell
from service import db, i18n, memory
from service.audit.middleware import AuditMiddleware
from service.auth import PUBLIC_PATHS, AuthenticationMiddleware, provide_actor
from service.forms import validation_errors
from service.headers import SwaggerWithoutInlineScript, add_security_headers
from service.inputs import InputGuard
from service.once import OnceMiddleware
from service.openapi import DocumentedErrors, StrictStructSchemaPlugin
from service.outbox import MailWorker, courier_from_settings, wake
from service.settings import ROOT, Settings
from service.static_urls import static_url
from service.templating import register_template_helpers
from service.web.account import TooManyAttempts, too_many_attempts

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/v1/") or request.url.path.endswith((".json", ".yaml"))


def _error(request: Request, status: int, message: str, **extra: object) -> Response:
    if _wants_json(request):
        return Response({"status_code": status, "detail": message, **extra}, status_code=status)
    # A young person's link shows a plain page: no way into the staff side from there.
    young = request.url.path.startswith("/j/")
    # A link that opens nothing says so in the browser's language: no referral is known
    # to tell the young person's own.
    speech = i18n.jinja_context(i18n.from_browser(request.headers.get("accept-language", "")))
    if request.url.path.startswith("/fiche/"):
        # A partner's entry link: a plain page too, that does not point to the staff login.
        return Template(
            "entry_error.html",
            context={"status": status, "message": message, **extra},
            status_code=status,
        )
    return Template(
        "young_person_error.html" if young else "error.html",
        context={"status": status, "message": message, **extra, **(speech if young else {})},
        status_code=status,
    )


def _invalid(request: Request, exc: Invalid) -> Response:
    return _error(request, 400, "Des champs sont invalides.", errors=exc.errors)


def _not_found(request: Request, exc: Exception) -> Response:
    message = str(exc) if isinstance(exc, NotFound) else "Page introuvable."
    return _error(request, 404, message)


def _forbidden(request: Request, exc: Exception) -> Response:
    detail = getattr(exc, "detail", "") or str(exc)
    return _error(request, 403, detail or "Accès refusé.")


def _conflict(request: Request, exc: Conflict) -> Response:
    # A conflict may carry what it is about (e.g. what a departure would leave without contact).
    return _error(request, 409, str(exc), **getattr(exc, "extra", {}))


def _unauthorized(request: Request, exc: NotAuthorizedException) -> Response:
    if _wants_json(request):
        return Response(
            {"status_code": 401, "detail": exc.detail},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/login?suivant={quote(target)}")


def _place(request: Request, exc: AmbiguousPlace | UnknownPlace) -> Response:
    if isinstance(exc, AmbiguousPlace):
        candidates = [{"insee": c.insee, "label": c.label} for c in exc.candidates]
        return _error(request, 400, str(exc), candidates=candidates)
    if exc.suggestions:
        suggestions = [{"insee": c.insee, "label": c.label} for c in exc.suggestions]
        return _error(request, 400, str(exc), candidates=suggestions)
    return _error(request, 400, str(exc))


def _validation(request: Request, exc: ValidationException) -> Response:
    errors = validation_errors(exc.extra)
    if errors:
        return _error(request, 400, "Des paramètres ou des champs sont invalides.", errors=errors)
    # No field to name: the body could not be read at all (malformed JSON, bad multipart).
    return _error(
        request, 400, "Le corps de la requête est illisible (JSON ou formulaire mal formé)."
    )


def _server_error(request: Request, exc: Exception) -> Response:
    # A 500 must say why in the server's log, whatever the debug setting.
    logging.getLogger("maillage").error(
        "%s %s failed", request.method, request.url.path, exc_info=exc
    )
    detail = repr(exc) if request.app.debug else "Erreur interne : elle a été consignée."
    return _error(request, 500, detail)


def _http(request: Request, exc: HTTPException) -> Response:
    response = _error(request, exc.status_code, _french_detail(exc))
    # A 405 lists the allowed methods (Allow), a 429 when to come back (Retry-After).
    response.headers.update(exc.headers or {})
    return response


# Litestar's own exceptions speak English; ours already speak French.
_ENGLISH_DETAILS = {
    "Method Not Allowed": "Cette méthode n'est pas acceptée à cette adresse.",
    "Request Entity Too Large": "Le corps de la requête est trop volumineux.",
}


def _french_detail(exc: HTTPException) -> str:
    return _ENGLISH_DETAILS.get(exc.detail, exc.detail)


@get("/", include_in_schema=False)
async def home() -> Redirect:
    return Redirect("/recherche")


@get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _warm_search_index() -> None:
    try:
        await search_index.warm()
    except Exception:  # the first search will build it and say why it cannot
        log.exception("could not build the search index at start-up")


async def _remind_forever(settings: Settings, stop: asyncio.Event) -> None:
    """The reminders inside the server, for installations without cron. Stopping waits for
    the current round: cancelling it mid-query would leave a database connection open."""
    from service.referrals.reminders import run_reminders

    while not stop.is_set():
        try:
            await run_reminders(settings.referral_rules, settings.expire_after_days)
        except Exception:  # one failed round must not stop the next ones
            log.exception("reminders failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.remind_every_minutes * 60)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    engine = db.use_database(settings.database_url)
    geocoder = (
        AddressGeocoder(
            settings.geocoder_domain, settings.geocoder_scheme, settings.geocoder_timeout
        )
        if settings.geocoder == "ban"
        else None
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db.bind(engine)
        memory.few_malloc_arenas()
        search_index.freeze_after_build = settings.gc_freeze
        load_gazetteer()  # pay the loading cost at start-up, not on the first search
        if settings.sqlite_wal and isinstance(engine, db.PooledSQLiteEngine):
            await engine.use_wal()
        pooled = engine if settings.database_pool else None
        if isinstance(pooled, PostgresEngine):
            await pooled.start_connection_pool(min_size=1, max_size=20, reset=db.keep_session)
        elif isinstance(pooled, db.PooledSQLiteEngine):
            await pooled.start_connection_pool()
        # The search index is built now rather than by the first search (seconds at
        # national scale); searches arriving meanwhile wait for this same build.
        warming = asyncio.create_task(_warm_search_index())
        stop = asyncio.Event()
        trimming = (
            asyncio.create_task(memory.trim_forever(settings.memory_trim_seconds, stop))
            if settings.memory_trim_seconds > 0
            else None
        )
        scheduler = (
            asyncio.create_task(_remind_forever(settings, stop))
            if settings.remind_every_minutes > 0
            else None
        )
        # Mail leaves from the outbox, never from a request: see service/outbox.py.
        worker = MailWorker(courier_from_settings(settings)) if settings.mail_worker else None
        if worker is not None:
            worker.start()
            wake()  # deliver what was left waiting when the server last stopped
        try:
            yield
        finally:
            # A build cut in the middle of a query leaves its connection open: let a short
            # one end (a test's database, a small territory), cancel a long one.
            await asyncio.wait([warming], timeout=5)
            warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warming
            await search_index.stop_building()
            await demand.flush()
            stop.set()
            if scheduler is not None:
                await scheduler
            if trimming is not None:
                await trimming
            if worker is not None:
                await worker.stop()
            if pooled is not None:
                await pooled.close_connection_pool()

    from service.api import api_router
    from service.web import web_handlers

    template_config = TemplateConfig(
        directory=ROOT / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=register_template_helpers,
    )
    return Litestar(
        route_handlers=[
            home,
            healthz,
            api_router,
            *web_handlers,
            create_static_files_router(path="/static", directories=[STATIC_DIR]),
        ],
        dependencies={
            "actor": Provide(provide_actor),
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "geocoder": Provide(lambda: geocoder, use_cache=True, sync_to_thread=False),
        },
        middleware=[
            DefineMiddleware(AuthenticationMiddleware, exclude=PUBLIC_PATHS),
            AuditMiddleware,
            InputGuard(),
            OnceMiddleware,
        ],
        plugins=[DocumentedErrors(), StrictStructSchemaPlugin()],
        # Coverage cells name their providers only when read (see graph.coverage).
        type_encoders={CoverageCell: CoverageCell.as_dict},
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.cookies_secure,
            cookie_httponly=True,
            exclude=["/api/"],
        ),
        template_config=template_config,
        openapi_config=OpenAPIConfig(
            title="Maillage API",
            version="1",
            description="Annuaire des partenaires des Missions Locales et recherche.",
            path="/api/schema",
            render_plugins=[
                SwaggerWithoutInlineScript(
                    path="/",
                    js_url=static_url("vendor/swagger-ui/swagger-ui-bundle.js"),
                    css_url=static_url("vendor/swagger-ui/swagger-ui.css"),
                    standalone_preset_js_url=(
                        static_url("vendor/swagger-ui/swagger-ui-standalone-preset.js")
                    ),
                    favicon=f"<link rel='icon' href='{static_url('favicon.svg')}'>",
                )
            ],
        ),
        exception_handlers={
            Invalid: _invalid,
            NotFound: _not_found,
            NotFoundException: _not_found,
            Forbidden: _forbidden,
            PermissionDeniedException: _forbidden,
            Conflict: _conflict,
            NotAuthorizedException: _unauthorized,
            AmbiguousPlace: _place,
            UnknownPlace: _place,
            ValidationException: _validation,
            TooManyAttempts: too_many_attempts,
            HTTPException: _http,
            Exception: _server_error,
        },
        before_send=[add_security_headers(settings.https)],
        lifespan=[lifespan],
        debug=settings.debug,
    )
