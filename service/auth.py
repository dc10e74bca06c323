"""Every request is authenticated except the login page and static assets: a page or an
endpoint cannot be left public by forgetting a guard. Browsers use a session cookie; scripts
send `Authorization: Bearer <token>`. A session cookie only authorises the API's read
methods, so cross-site form posts cannot reach it (the API is outside CSRF checks)."""

from __future__ import annotations

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from service.accounts.store import Actor, Role, session_actor, token_actor

SESSION_COOKIE = "maillage_session"
# Personal links of the referral exchange open without an account: the token is the key.
PUBLIC_PATHS = [
    "^/login$",
    "^/mot-de-passe-oublie$",
    "^/mot-de-passe/",
    "^/static/",
    "^/favicon.ico$",
    "^/healthz$",
    "^/p/",
    "^/j/",
    "^/fiche/",
    "^/api/v1/links/",
]
_SAFE = {"GET", "HEAD", "OPTIONS"}


class AuthenticationMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            actor = await token_actor(header[7:].strip())
            if actor is None:
                raise NotAuthorizedException("Jeton d'API invalide, expiré ou révoqué.")
            return AuthenticationResult(user=actor, auth="token")
        cookie = connection.cookies.get(SESSION_COOKIE)
        actor = await session_actor(cookie) if cookie else None
        if actor is None:
            raise NotAuthorizedException("Connexion requise.")
        is_api = connection.scope["path"].startswith("/api/")
        if is_api and connection.scope.get("method", "GET") not in _SAFE:
            raise NotAuthorizedException(
                "L'API n'accepte les modifications qu'avec un jeton (Authorization: Bearer)."
            )
        return AuthenticationResult(user=actor, auth="session")


async def provide_actor(request: Request) -> Actor:
    return request.user


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        raise PermissionDeniedException("Votre rôle ne permet pas cette action.")
