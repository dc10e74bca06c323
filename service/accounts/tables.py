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
    # No date means no expiry: only tokens made before expiry dates existed.
    expires_at = Timestamptz(null=True, default=None)


class LoginSession(Table, tablename="account_session"):
    """Server-side sessions, so logging out or disabling a user ends them at once."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    expires_at = Timestamptz()


class LoginAttempt(Table, tablename="account_login_attempt"):
    """Recent sign-in attempts, kept in the database so that every server process sharing
    it throttles the same guesses. The email is stored as typed (lowercased), even for
    accounts that do not exist, so that throttling reveals nothing about which exist."""

    id = UUID(primary_key=True)
    email = Varchar(length=254, index=True)
    address = Varchar(length=64, index=True)
    at = Timestamptz(index=True)
    succeeded = Boolean(default=False)


class PasswordReset(Table, tablename="account_password_reset"):
    """A "forgotten password" link: single use, short-lived, only its hash stored."""

    id = UUID(primary_key=True)
    user = ForeignKey(User, on_delete=OnDelete.cascade, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class FormSubmission(Table, tablename="account_form_submission"):
    """A page form's one-time key, claimed by its first submission: a reload or a double
    click finds the claim and is sent where the first one went, instead of acting twice.
    Only a hash of the key is kept; claims are forgotten after a day."""

    id = UUID(primary_key=True)
    key_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(index=True)
    done = Boolean(default=False)
    location = Varchar(length=2000, default="")
