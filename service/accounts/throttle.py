"""Throttling of password guesses (OWASP ASVS 2.2.1), shared by every server process
through the database.

Three sliding windows of WINDOW each, counting failed attempts only:
- one account from one address: PER_PAIR failures, then that address waits;
- one account from anywhere (guesses spread over many addresses): PER_ACCOUNT failures,
  except for addresses this account signed in from within TRUSTED_FOR, so that an
  attacker cannot lock a real user out of their usual office;
- one address over any accounts (password spraying): PER_ADDRESS failures.

Attempts refused while waiting are not recorded, so a lockout never lasts longer than
WINDOW after the last counted failure: it is always temporary. Unknown accounts are
throttled exactly like real ones, so the answer tells nothing about which exist.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from piccolo.custom_types import Combinable

from directory.store import writing
from service.accounts.tables import LoginAttempt

WINDOW = timedelta(minutes=15)
PER_PAIR = 5
PER_ACCOUNT = 20
PER_ADDRESS = 50
TRUSTED_FOR = timedelta(days=30)
# Attempts older than this are of no use to any rule and are deleted.
KEEP = TRUSTED_FOR


def _normal(email: str) -> str:
    return email.strip().lower()[:254]


async def _failures(where: Combinable, since: datetime) -> list[datetime]:
    rows = await LoginAttempt.select(LoginAttempt.at).where(
        where
        & (LoginAttempt.succeeded == False)  # noqa: E712
        & (LoginAttempt.at > since)
    )
    return sorted(r["at"] for r in rows)


def _free_at(failures: list[datetime], limit: int) -> datetime | None:
    """When enough failures have left the window for one more attempt, if over the limit."""
    if len(failures) < limit:
        return None
    return failures[len(failures) - limit] + WINDOW


async def _last_success(email: str, address: str) -> datetime | None:
    row = (
        await LoginAttempt.select(LoginAttempt.at)
        .where(
            (LoginAttempt.email == email)
            & (LoginAttempt.address == address)
            & (LoginAttempt.succeeded == True)  # noqa: E712
        )
        .order_by(LoginAttempt.at, ascending=False)
        .first()
    )
    return row["at"] if row else None


async def wait_seconds(email: str, address: str, now: datetime) -> int:
    """How long this address must wait before trying this account again; 0 if it may."""
    email = _normal(email)
    since = now - WINDOW
    success = await _last_success(email, address)
    # A success clears the slate for its own address.
    pair_since = max(since, success) if success else since
    pair = await _failures(
        (LoginAttempt.email == email) & (LoginAttempt.address == address), pair_since
    )
    limits = [_free_at(pair, PER_PAIR)]
    if not (success and success > now - TRUSTED_FOR):
        account = await _failures(LoginAttempt.email == email, since)
        limits.append(_free_at(account, PER_ACCOUNT))
    spray = await _failures(LoginAttempt.address == address, since)
    limits.append(_free_at(spray, PER_ADDRESS))
    until = max((t for t in limits if t is not None), default=None)
    if until is None or until <= now:
        return 0
    return math.ceil((until - now).total_seconds())


async def record(email: str, address: str, succeeded: bool, now: datetime) -> None:
    async with writing():
        await LoginAttempt(
            email=_normal(email), address=address[:64], at=now, succeeded=succeeded
        ).save()
        await LoginAttempt.delete().where(LoginAttempt.at < now - KEEP)


def in_french(seconds: int) -> str:
    """'14 minutes', '1 minute': how long to wait, rounded up to the minute."""
    minutes = max(1, math.ceil(seconds / 60))
    return f"{minutes} minute{'s' if minutes > 1 else ''}"
