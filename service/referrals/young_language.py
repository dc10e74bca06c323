"""The young person's language, kept on their referral: the advisor chooses it when
sending, the young person may change it on their page.

Kept on the referral rather than in a cookie: the young person may open their link on a
friend's phone or a Mission Locale computer, a new link comes by email before an
appointment, and the reminder email itself must be in the language they chose. A cookie
would know none of that."""

from __future__ import annotations

from uuid import UUID

from directory.errors import Conflict, Invalid
from directory.store import writing
from service.i18n import LANGUAGES, UNKNOWN_LANGUAGE
from service.referrals.exchange import Who
from service.referrals.machine import Party
from service.referrals.tables import Referral


async def choose(referral_id: UUID, who: Who, language: str) -> None:
    """Only the young person's own link changes it, and only to a language we speak."""
    if who.party != Party.YOUNG_PERSON or who.link_referral != referral_id:
        raise Conflict("Seul le jeune choisit la langue de sa page.")
    if language not in LANGUAGES:
        raise Invalid({"language": UNKNOWN_LANGUAGE})
    async with writing():
        await Referral.update({Referral.language: language}).where(Referral.id == referral_id)
