"""Login, logout and the account page (where a user makes API tokens for scripts)."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from service.accounts.store import (
    Actor,
    authenticate,
    close_session,
    create_api_token,
    open_session,
)
from service.auth import SESSION_COOKIE
from service.settings import Settings


def _safe_next(target: str) -> str:
    # Only same-site paths, so the login form cannot be used to redirect elsewhere.
    return target if target.startswith("/") and not target.startswith("//") else "/recherche"


class AccountController(Controller):
    include_in_schema = False

    @get("/login")
    async def login_page(self, suivant: FromQuery[str] = "/recherche") -> Template:
        return Template("login.html", context={"next": _safe_next(suivant), "error": ""})

    @post("/login")
    async def login(
        self, request: Request, settings: NamedDependency[Settings]
    ) -> Template | Redirect:
        form = await request.form()
        email = str(form.get("email", ""))
        target = _safe_next(str(form.get("next", "/recherche")))
        actor = await authenticate(email, str(form.get("password", "")))
        if actor is None:
            return Template(
                "login.html",
                context={
                    "next": target,
                    "email": email,
                    "error": "Adresse ou mot de passe incorrect.",
                },
                status_code=400,
            )
        token = await open_session(actor.user_id)
        response = Redirect(target)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=settings.cookies_secure,
            max_age=12 * 3600,
        )
        return response

    @post("/logout")
    async def logout(self, request: Request) -> Redirect:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await close_session(cookie)
        response = Redirect("/login")
        response.delete_cookie(SESSION_COOKIE)
        return response

    @get("/compte")
    async def account(self, actor: NamedDependency[Actor]) -> Template:
        return Template("account.html", context={"actor": actor, "token": ""})

    @post("/compte/jetons")
    async def new_token(self, request: Request, actor: NamedDependency[Actor]) -> Template:
        form = await request.form()
        name = str(form.get("name", "")).strip()[:100] or "script"
        token = await create_api_token(actor.user_id, name)
        return Template("account.html", context={"actor": actor, "token": token})
