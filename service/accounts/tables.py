"""Accounts: who may use Maillage, with which role, for which structure."""

from piccolo.columns import (
    UUID,
    Boolean,
    ForeignKey,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from directory.tables import Structure


class User(Table, tablename="account_user"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True)
    name = Varchar(length=200)
    password_hash = Varchar(length=200, secret=True)
    role = Varchar(length=16, default="advisor")
    structure = ForeignKey(Structure, on_delete=OnDelete.set_null, null=True, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz()


class ApiToken(Table, tablename="account_api_token"):
    """Tokens for scripts; only a hash is stored so a leaked database leaks no token."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    name = Varchar(length=100, default="")
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    revoked = Boolean(default=False)


class LoginSession(Table, tablename="account_session"):
    """Server-side sessions, so logging out or disabling a user ends them at once."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()
