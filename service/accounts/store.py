"""Users, passwords (argon2id), login sessions and API tokens. Secrets handed to browsers
and scripts are random tokens; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from directory.errors import Invalid
from directory.tables import Structure
from service.accounts.tables import ApiToken, LoginSession, User

SESSION_LIFETIME = timedelta(hours=12)
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
    if len(password) < 10:
        errors["password"] = "Le mot de passe doit compter au moins 10 caractères."
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


async def session_actor(token: str) -> Actor | None:
    row = (
        await LoginSession.select(
            LoginSession.expires_at, *LoginSession.user.all_columns(exclude=["password_hash"])
        )
        .where(LoginSession.token_hash == _digest(token))
        .first()
    )
    return _joined_actor(row, "user.", row and row["expires_at"] < datetime.now(UTC))


async def create_api_token(user_id: UUID, name: str = "") -> str:
    token = "mlg_" + secrets.token_urlsafe(32)
    await ApiToken(user=user_id, name=name, token_hash=_digest(token)).save()
    return token


async def token_actor(token: str) -> Actor | None:
    row = (
        await ApiToken.select(
            ApiToken.revoked, *ApiToken.user.all_columns(exclude=["password_hash"])
        )
        .where(ApiToken.token_hash == _digest(token))
        .first()
    )
    return _joined_actor(row, "user.", row and row["revoked"])


def _joined_actor(row: dict | None, prefix: str, refused: object) -> Actor | None:
    if row is None or refused or not row[f"{prefix}active"]:
        return None
    return _actor({k[len(prefix) :]: v for k, v in row.items() if k.startswith(prefix)})
