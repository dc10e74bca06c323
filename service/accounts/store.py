"""Users, passwords (argon2id), login sessions and API tokens. Secrets handed to browsers
and scripts are random tokens; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from piccolo.custom_types import Combinable

from directory.errors import Invalid
from directory.raw import fetch
from directory.store import writing
from directory.tables import Structure
from service import outbox
from service.accounts.tables import ApiToken, LoginSession, PasswordReset, User

SESSION_LIFETIME = timedelta(hours=12)
RESET_LIFETIME = timedelta(hours=1)
# At most this many reset links per account and per hour: no mailbox flooding.
RESETS_PER_HOUR = 3
TOKEN_DAYS = (30, 90, 365)
DEFAULT_TOKEN_DAYS = 90
PASSWORD_MIN, PASSWORD_MAX = 10, 256
# The test suite sets MAILLAGE_PASSWORD_HASHING=cheapest: the same argon2id code path with
# minimal cost parameters, so hundreds of test accounts do not cost minutes.
_hasher = (
    PasswordHasher.from_parameters(profiles.CHEAPEST)
    if os.environ.get("MAILLAGE_PASSWORD_HASHING") == "cheapest"
    else PasswordHasher()
)
# Verifying against a dummy hash when the email is unknown keeps timing identical.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Role(StrEnum):
    ADVISOR = "advisor"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {
            "advisor": "Conseiller·ère",
            "coordinator": "Coordinateur·rice",
            "admin": "Administrateur·rice",
        }[self.value]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is making a request: what access rules look at."""

    user_id: UUID
    name: str
    email: str
    role: Role
    structure_id: UUID | None

    @property
    def can_edit_directory(self) -> bool:
        return self.role in {Role.COORDINATOR, Role.ADMIN}

    def can_edit_structure(self, structure_id: UUID) -> bool:
        """Coordinators and admins keep the directory; advisors keep their own structure."""
        return self.can_edit_directory or self.structure_id == structure_id


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _actor(row: dict) -> Actor:
    return Actor(
        user_id=row["id"],
        name=row["name"],
        email=row["email"],
        role=Role(row["role"]),
        structure_id=row["structure"],
    )


def password_problem(password: str) -> str:
    """What is wrong with a new password, in French; empty when it is acceptable."""
    if len(password) < PASSWORD_MIN:
        return f"Le mot de passe doit compter au moins {PASSWORD_MIN} caractères."
    if len(password) > PASSWORD_MAX:
        return f"Le mot de passe doit compter au plus {PASSWORD_MAX} caractères."
    return ""


async def create_user(
    email: str,
    name: str,
    password: str,
    role: Role = Role.ADVISOR,
    structure_id: UUID | None = None,
) -> UUID:
    email = email.strip().lower()
    errors: dict[str, str] = {}
    if not _EMAIL.match(email):
        errors["email"] = "Adresse électronique invalide."
    elif await User.exists().where(User.email == email):
        errors["email"] = "Un compte existe déjà avec cette adresse."
    if not name.strip():
        errors["name"] = "Le nom est obligatoire."
    if problem := password_problem(password):
        errors["password"] = problem
    if structure_id is not None and not await Structure.exists().where(
        Structure.id == structure_id
    ):
        errors["structure"] = "Structure introuvable."
    if errors:
        raise Invalid(errors)
    user = User(
        email=email,
        name=name.strip(),
        password_hash=_hasher.hash(password),
        role=role.value,
        structure=structure_id,
    )
    await user.save()
    return user.id


async def authenticate(email: str, password: str) -> Actor | None:
    row = (
        await User.select()
        .where(
            (User.email == email.strip().lower()) & (User.active == True)  # noqa: E712
        )
        .first()
    )
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return _actor(row) if row else None


async def open_session(user_id: UUID) -> str:
    token = secrets.token_urlsafe(32)
    await LoginSession(
        user=user_id, token_hash=_digest(token), expires_at=datetime.now(UTC) + SESSION_LIFETIME
    ).save()
    return token


async def close_session(token: str) -> None:
    await LoginSession.delete().where(LoginSession.token_hash == _digest(token))


# Every authenticated request runs one of these two lookups. Written once as SQL: building
# the same joined Piccolo select per request (copying the user's columns, composing the join)
# cost more than the query itself — over half of a trivial page's time.
_ACTOR_COLUMNS = (
    'u.id AS "user.id", u.name AS "user.name", u.email AS "user.email", '
    'u.role AS "user.role", u.structure AS "user.structure", u.active AS "user.active"'
)
_SESSION_ACTOR_SQL = (
    f"SELECT s.expires_at AS expires_at, {_ACTOR_COLUMNS} "
    f'FROM {LoginSession._meta.tablename} s JOIN {User._meta.tablename} u ON u.id = s."user" '
    "WHERE s.token_hash = {} LIMIT 1"
)
_TOKEN_ACTOR_SQL = (
    f"SELECT t.revoked AS revoked, t.expires_at AS expires_at, {_ACTOR_COLUMNS} "
    f'FROM {ApiToken._meta.tablename} t JOIN {User._meta.tablename} u ON u.id = t."user" '
    "WHERE t.token_hash = {} LIMIT 1"
)


async def session_actor(token: str) -> Actor | None:
    rows = await fetch(LoginSession, _SESSION_ACTOR_SQL, _digest(token))
    row = rows[0] if rows else None
    return _joined_actor(row, "user.", row and row["expires_at"] < datetime.now(UTC))


async def create_api_token(
    user_id: UUID, name: str = "", days: int = DEFAULT_TOKEN_DAYS, now: datetime | None = None
) -> str:
    now = now or datetime.now(UTC)
    token = "mlg_" + secrets.token_urlsafe(32)
    await ApiToken(
        user=user_id,
        name=name,
        token_hash=_digest(token),
        created_at=now,
        expires_at=now + timedelta(days=days),
    ).save()
    return token


async def token_actor(token: str, now: datetime | None = None) -> Actor | None:
    now = now or datetime.now(UTC)
    rows = await fetch(ApiToken, _TOKEN_ACTOR_SQL, _digest(token))
    row = rows[0] if rows else None
    refused = row and (row["revoked"] or (row["expires_at"] and row["expires_at"] <= now))
    return _joined_actor(row, "user.", refused)


@dataclass(frozen=True, slots=True)
class TokenView:
    id: UUID
    name: str
    created_at: datetime
    expires_at: datetime | None
    state: str  # "active", "expired" or "revoked"

    @property
    def state_label(self) -> str:
        return {"active": "Actif", "expired": "Expiré", "revoked": "Révoqué"}[self.state]


async def api_tokens(user_id: UUID, now: datetime | None = None) -> list[TokenView]:
    """A user's tokens, newest first, with their state at `now`."""
    now = now or datetime.now(UTC)
    rows = (
        await ApiToken.select(
            ApiToken.id, ApiToken.name, ApiToken.created_at, ApiToken.expires_at, ApiToken.revoked
        )
        .where(ApiToken.user == user_id)
        .order_by(ApiToken.created_at, ascending=False)
    )
    return [
        TokenView(
            id=r["id"],
            name=r["name"],
            created_at=r["created_at"],
            expires_at=r["expires_at"],
            state="revoked"
            if r["revoked"]
            else "expired"
            if r["expires_at"] and r["expires_at"] <= now
            else "active",
        )
        for r in rows
    ]


async def revoke_api_token(user_id: UUID, token_id: UUID) -> bool:
    """Revoke one of this user's own tokens; False when it is not theirs (or not there)."""
    owned = (ApiToken.id == token_id) & (ApiToken.user == user_id)
    async with writing():
        if not await ApiToken.exists().where(owned):
            return False
        await ApiToken.update({ApiToken.revoked: True}).where(owned)
    return True


async def _set_password(user_id: UUID, password: str, now: datetime) -> None:
    """The new password, and the end of every session and token opened with the old one.
    The owner is told by mail, so that a change they did not make does not go unseen
    (ASVS 2.2.3); the message commits with the change."""
    async with writing():
        await User.update({User.password_hash: _hasher.hash(password)}).where(User.id == user_id)
        await LoginSession.delete().where(LoginSession.user == user_id)
        await ApiToken.update({ApiToken.revoked: True}).where(ApiToken.user == user_id)
        user = await User.select(User.email, User.name).where(User.id == user_id).first()
        if user is not None:
            await outbox.enqueue(
                f"password_changed:{user_id}:{now.isoformat()}",
                "password_changed",
                "password_changed",
                to=user["email"],
                context={"name": user["name"], "link": "/mot-de-passe-oublie"},
                now=now,
            )


def _new_password_errors(new: str, confirmation: str, field: str = "new_password") -> dict:
    if problem := password_problem(new):
        return {field: problem}
    if new != confirmation:
        return {"confirmation": "Les deux mots de passe ne sont pas identiques."}
    return {}


async def change_password(actor: Actor, current: str, new: str, confirmation: str) -> None:
    """Raises Invalid naming each faulty field; on success every session and API token of
    the user ends (the caller opens a fresh session for the browser that asked)."""
    errors = {}
    if await authenticate(actor.email, current) is None:
        errors["current_password"] = "Le mot de passe actuel est incorrect."
    errors |= _new_password_errors(new, confirmation)
    if errors:
        raise Invalid(errors)
    await _set_password(actor.user_id, new, datetime.now(UTC))
    outbox.wake()


async def start_password_reset(email: str, now: datetime | None = None) -> tuple[str, str] | None:
    """A reset token for an active account, and its name; None for an unknown or disabled
    address, or one that asked too often (the caller answers the same in every case). The
    mail with the link commits with the token, in the outbox."""
    now = now or datetime.now(UTC)
    row = (
        await User.select(User.id, User.name)
        .where((User.email == email.strip().lower()) & (User.active == True))  # noqa: E712
        .first()
    )
    if row is None:
        return None
    recent = await PasswordReset.count().where(
        (PasswordReset.user == row["id"]) & (PasswordReset.created_at > now - timedelta(hours=1))
    )
    if recent >= RESETS_PER_HOUR:
        return None
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(
        user=row["id"],
        token_hash=_digest(token),
        created_at=now,
        expires_at=now + RESET_LIFETIME,
    )
    async with writing():
        await reset.save()
        await outbox.enqueue(
            f"password_reset:{reset.id}",
            "password_reset",
            "password_reset",
            to=email.strip().lower(),
            context={
                "name": row["name"],
                "link": f"/mot-de-passe/{token}",
                "minutes": int(RESET_LIFETIME.total_seconds() // 60),
            },
            now=now,
        )
    outbox.wake()
    return token, row["name"]


def _usable_reset(token: str, now: datetime) -> Combinable:
    return (
        (PasswordReset.token_hash == _digest(token))
        & (PasswordReset.used_at.is_null())
        & (PasswordReset.expires_at > now)
    )


async def reset_link_is_valid(token: str, now: datetime | None = None) -> bool:
    return await PasswordReset.exists().where(_usable_reset(token, now or datetime.now(UTC)))


async def reset_password(
    token: str, new: str, confirmation: str, now: datetime | None = None
) -> Actor | None:
    """Use a reset link once. Returns the account, or None when the link is
    unknown, used or expired; raises Invalid for an unacceptable password (the link then
    stays usable)."""
    now = now or datetime.now(UTC)
    if errors := _new_password_errors(new, confirmation):
        raise Invalid(errors)
    async with writing():
        # The conditional update is the claim: of two uses at once, only one finds the
        # link still unused.
        claimed = (
            await PasswordReset.update({PasswordReset.used_at: now})
            .where(_usable_reset(token, now))
            .returning(PasswordReset.user)
        )
        if not claimed:
            return None
        user_id = claimed[0]["user"]
        # Every other link of this account dies too: only the newest password counts.
        await PasswordReset.update({PasswordReset.used_at: now}).where(
            (PasswordReset.user == user_id) & (PasswordReset.used_at.is_null())
        )
        await _set_password(user_id, new, now)
        row = await User.select(exclude_secrets=True).where(User.id == user_id).first()
    outbox.wake()
    return _actor(row) if row else None


def _joined_actor(row: Mapping[str, Any] | None, prefix: str, refused: object) -> Actor | None:
    if row is None or refused or not row[f"{prefix}active"]:
        return None
    return _actor({k[len(prefix) :]: v for k, v in row.items() if k.startswith(prefix)})
