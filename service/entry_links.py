"""Personal links to a structure's own directory entry (`/fiche/{token}`): a partner reviews
and corrects its entry without an account. The guarantees are the referral links': the token
is random (secrets.token_urlsafe, 256 bits), only its sha256 hash is stored, it opens one
structure only, it expires, and it can be revoked."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from directory.store import writing
from directory.tables import Structure
from service.campaigns.tables import EntryLink

PURPOSES = ("campaign", "report")


@dataclass(frozen=True)
class EntryAccess:
    """What a valid link opens: one structure, for one purpose (and campaign, if any)."""

    link_id: UUID
    structure_id: UUID
    purpose: str
    campaign_id: UUID | None


def _now() -> datetime:
    return datetime.now(UTC)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(
    structure_id: UUID,
    purpose: str,
    *,
    days: int = 60,
    campaign_id: UUID | None = None,
    now: datetime | None = None,
) -> str:
    """A new link to the structure's entry; returns the raw token, which is not stored."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown entry link purpose: {purpose!r}")
    now = now or _now()
    token = secrets.token_urlsafe(32)
    async with writing():
        await EntryLink(
            structure=structure_id,
            token_hash=digest(token),
            purpose=purpose,
            campaign=campaign_id,
            created_at=now,
            expires_at=now + timedelta(days=days),
        ).save()
    return token


async def resolve(token: str, now: datetime | None = None) -> EntryAccess | None:
    """What the token opens; None when it is unknown, expired, revoked, or its structure is
    gone (deleted or closed), so that every refusal looks the same to the holder."""
    if not token or len(token) > 200:
        return None
    now = now or _now()
    link = await EntryLink.select().where(EntryLink.token_hash == digest(token)).first()
    if link is None or link["revoked_at"] is not None or link["expires_at"] <= now:
        return None
    structure = (
        await Structure.select(Structure.status).where(Structure.id == link["structure"]).first()
    )
    if structure is None or structure["status"] == "closed":
        return None
    return EntryAccess(
        link_id=link["id"],
        structure_id=link["structure"],
        purpose=link["purpose"],
        campaign_id=link["campaign"],
    )


async def touch(link_id: UUID, now: datetime | None = None) -> None:
    """Remembers that the link was used (shown to coordinators), nothing more."""
    await EntryLink.update({EntryLink.last_used_at: now or _now()}).where(EntryLink.id == link_id)


async def revoke(link_id: UUID, now: datetime | None = None) -> None:
    """The link stops working at once; revoking twice keeps the first date."""
    async with writing():
        await EntryLink.update({EntryLink.revoked_at: now or _now()}).where(
            (EntryLink.id == link_id) & EntryLink.revoked_at.is_null()
        )


def url(token: str) -> str:
    return f"/fiche/{token}"
