"""A partner's answer to a campaign, as its link records it: "confirmed" when it says
nothing changed, "corrected" as soon as it saves a correction (a correction is never
turned back into a mere confirmation)."""

from __future__ import annotations

from datetime import UTC, datetime

from service.campaigns.tables import CampaignTarget
from service.entry_links import EntryAccess

CONFIRMED = "confirmed"
CORRECTED = "corrected"


async def record(access: EntryAccess, outcome: str, now: datetime | None = None) -> None:
    """Sets the outcome of the campaign target the link was sent for, if any. Called in
    the transaction of the confirmation or correction itself."""
    if access.campaign_id is None:
        return
    now = now or datetime.now(UTC)
    target = (
        await CampaignTarget.select(CampaignTarget.id, CampaignTarget.outcome)
        .where(
            (CampaignTarget.campaign == access.campaign_id)
            & (CampaignTarget.structure == access.structure_id)
        )
        .first()
    )
    if target is None:
        return
    if target["outcome"] == CORRECTED:
        outcome = CORRECTED
    await CampaignTarget.update(
        {CampaignTarget.outcome: outcome, CampaignTarget.answered_at: now}
    ).where(CampaignTarget.id == target["id"])
