"""Login (throttled), logout, the account page (password, API tokens) and the forgotten
password pages."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from directory.errors import Invalid
from service.accounts import throttle
from service.accounts.store import (
    DEFAULT_TOKEN_DAYS,
    TOKEN_DAYS,
    Actor,
    api_tokens,
    authenticate,
    change_password,
    close_session,
    create_api_token,
    open_session,
    reset_link_is_valid,
    reset_password,
    revoke_api_token,
    start_password_reset,
)
from service.auth import SESSION_COOKIE
from service.mail import TemplatedMail
from service.settings import Settings

log = logging.getLogger(__name__)
_mail = TemplatedMail()
# Pages whose address holds a secret: never kept in a cache.
_NO_STORE = {"Cache-Control": "no-store"}
NOTICES = {
    "mot-de-passe": "Votre mot de passe a été changé. Vos autres sessions et vos jetons "
    "d'API ont été fermés : créez-en de nouveaux si un script en a besoin.",
    "jeton-revoque": "Le jeton a été révoqué : il ne donne plus accès à l'API.",
}


def _safe_next(target: str) -> str:
    # Only same-site paths, so the login form cannot be used to redirect elsewhere.
    return target if target.startswith("/") and not target.startswith("//") else "/recherche"


def _address(request: Request) -> str:
    return request.client.host if request.client else "inconnue"


def _login_page(
    status: int = 200, headers: dict[str, str] | None = None, **context: str
) -> Template:
    values = {"next": "/recherche", "email": "", "error": "", "notice": "", **context}
    return Template("login.html", context=values, status_code=status, headers=headers)


def _too_many(target: str, email: str, seconds: int) -> Template:
    return _login_page(
        429,
        {"Retry-After": str(seconds)},
        next=target,
        email=email,
        error=(
            "Trop de tentatives de connexion ont échoué. Par sécurité, attendez "
            f"{throttle.in_french(seconds)} avant de réessayer, ou choisissez "
            "« Mot de passe oublié »."
        ),
    )


def _signed_in(
    target: str, token: str, settings: Settings, background: BackgroundTask | None = None
) -> Redirect:
    response = Redirect(target, background=background)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookies_secure,
        max_age=12 * 3600,
    )
    return response


class AccountController(Controller):
    include_in_schema = False

    @get("/login")
    async def login_page(
        self, suivant: FromQuery[str] = "/recherche", fait: FromQuery[str] = ""
    ) -> Template:
        notice = "Votre mot de passe a été changé. Connectez-vous avec le nouveau." if fait else ""
        return _login_page(next=_safe_next(suivant), notice=notice)

    @post("/login")
    async def login(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        form = await request.form()
        email, address, now = str(form.get("email", "")), _address(request), datetime.now(UTC)
        target = _safe_next(str(form.get("next", "/recherche")))
        if wait := await throttle.wait_seconds(email, address, now):
            return _too_many(target, email, wait)
        actor = await authenticate(email, str(form.get("password", "")))
        await throttle.record(email, address, actor is not None, now)
        if actor is None:
            error = "Adresse ou mot de passe incorrect."
            return _login_page(400, next=target, email=email, error=error)
        return _signed_in(target, await open_session(actor.user_id), settings)

    @post("/logout")
    async def logout(self, request: Request) -> Redirect:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await close_session(cookie)
        response = Redirect("/login")
        response.delete_cookie(SESSION_COOKIE)
        return response


async def _account_page(
    actor: Actor,
    token: str = "",
    errors: dict[str, str] | None = None,
    notice: str = "",
    status: int = 200,
) -> Template:
    context = {
        "actor": actor,
        "token": token,
        "tokens": await api_tokens(actor.user_id),
        "token_days": [(d, "un an" if d == 365 else f"{d} jours") for d in TOKEN_DAYS],
        "default_days": DEFAULT_TOKEN_DAYS,
        "errors": errors or {},
        "notice": notice,
    }
    return Template("account.html", context=context, status_code=status, headers=_NO_STORE)


class AccountPages(Controller):
    path = "/compte"
    include_in_schema = False

    @get("/")
    async def account(self, actor: NamedDependency[Actor], fait: FromQuery[str] = "") -> Template:
        return await _account_page(actor, notice=NOTICES.get(fait, ""))

    @post("/jetons")
    async def new_token(self, request: Request, actor: NamedDependency[Actor]) -> Template:
        form = await request.form()
        name = str(form.get("name", "")).strip()[:100] or "script"
        days = str(form.get("days", DEFAULT_TOKEN_DAYS))
        if days not in {str(d) for d in TOKEN_DAYS}:
            errors = {"days": "Choisissez une durée de validité dans la liste."}
            return await _account_page(actor, errors=errors, status=400)
        token = await create_api_token(actor.user_id, name, int(days))
        return await _account_page(actor, token=token)

    @post("/jetons/{token_id:uuid}/revoquer")
    async def revoke_token(
        self, token_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Redirect:
        if not await revoke_api_token(actor.user_id, token_id):
            raise NotFoundException("Jeton introuvable.")
        return Redirect("/compte?fait=jeton-revoque")

    @post("/mot-de-passe")
    async def change_password(
        self, request: Request, actor: NamedDependency[Actor], settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        form = await request.form()
        address, now = _address(request), datetime.now(UTC)
        if wait := await throttle.wait_seconds(actor.email, address, now):
            raise TooManyAttempts(wait)
        try:
            await change_password(actor, *(str(form.get(k, "")) for k in _PASSWORD_FIELDS))
        except Invalid as error:
            if "current_password" in error.errors:
                await throttle.record(actor.email, address, False, now)
            return await _account_page(actor, errors=error.errors, status=400)
        session = await open_session(actor.user_id)
        return _signed_in("/compte?fait=mot-de-passe", session, settings)


_PASSWORD_FIELDS = ("current_password", "new_password", "confirmation")


class TooManyAttempts(Exception):
    """Too many wrong passwords; answered with 429 and Retry-After by `too_many_attempts`."""

    def __init__(self, seconds: int) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def too_many_attempts(request: Request, exc: TooManyAttempts) -> Response:
    message = (
        "Trop de mots de passe incorrects. Par sécurité, attendez "
        f"{throttle.in_french(exc.seconds)} avant de réessayer."
    )
    headers = {"Retry-After": str(exc.seconds)}
    if request.url.path.startswith("/api/"):
        return Response({"status_code": 429, "detail": message}, status_code=429, headers=headers)
    return Template(
        "error.html", context={"status": 429, "message": message}, status_code=429, headers=headers
    )


async def _start_reset(email: str) -> None:
    """Runs after the answer has left, so that its timing does not tell whether the
    account exists (only then is there a database write and a mail)."""
    await start_password_reset(email)


class PasswordResetPages(Controller):
    include_in_schema = False

    @get("/mot-de-passe-oublie")
    async def forgotten_page(self, envoye: FromQuery[bool] = False) -> Template:
        return Template("password_forgotten.html", context={"sent": envoye, "errors": {}})

    @post("/mot-de-passe-oublie")
    async def forgotten(self, request: Request, settings: NamedDependency[Settings]) -> Redirect:
        email = str((await request.form()).get("email", "")).strip()[:254]
        # The same answer whether or not the address has an account.
        task = BackgroundTask(_start_reset, email) if email else None
        return Redirect("/mot-de-passe-oublie?envoye=1", background=task)

    @get("/mot-de-passe/{token:str}")
    async def reset_page(self, token: FromPath[str]) -> Template:
        valid = await reset_link_is_valid(token)
        return _reset_page(token, valid, {}, 200 if valid else 400)

    @post("/mot-de-passe/{token:str}")
    async def reset(self, token: FromPath[str], request: Request) -> Template | Redirect:
        if not await reset_link_is_valid(token):
            return _reset_page(token, False, {}, 400)
        form = await request.form()
        try:
            actor = await reset_password(
                token, str(form.get("new_password", "")), str(form.get("confirmation", ""))
            )
        except Invalid as error:
            return _reset_page(token, True, error.errors, 400)
        if actor is None:
            return _reset_page(token, False, {}, 400)
        # Having read the mailbox, this address is the user's own: it may sign in again.
        await throttle.record(actor.email, _address(request), True, datetime.now(UTC))
        return Redirect("/login?fait=mot-de-passe")


def _reset_page(token: str, valid: bool, errors: dict[str, str], status: int) -> Template:
    return Template(
        "password_reset.html",
        context={"token": token, "valid": valid, "errors": errors},
        status_code=status,
        headers=_NO_STORE,
    )
