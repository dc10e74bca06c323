"""Verification campaigns through the API, for coordinators' tokens: start one, read its
progress and targets, send the reminders, close it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from msgspec import Struct

from service.accounts.store import Actor
from service.campaigns import forms, progress, start
from service.departures import LostContact
from service.permissions import check_can_run_campaigns


class TargetOut(Struct):
    structure_id: UUID
    name: str
    email: str
    phone: str
    state: str
    outcome: str
    bounced: bool
    reminder_count: int
    sent_at: datetime | None
    answered_at: datetime | None
    to_call: bool
    # When the structure last opened one of the campaign's links.
    opened_at: datetime | None = None


class CampaignOut(Struct):
    id: UUID
    name: str
    scope: str
    status: str
    older_than_months: int
    created_at: datetime
    closes_at: datetime | None
    # targets, sent, confirmed, corrected, no_answer, bounced, no_email, to_call
    counts: dict[str, int]
    targets: list[TargetOut] | None = None
    # With the targets: their services and conventions whose named person has left.
    lost_contacts: list[LostContact] | None = None


class Reminded(Struct):
    reminders_sent: int


class Closed(Struct):
    links_revoked: int


def _out(found: progress.Progress, with_targets: bool = False) -> CampaignOut:
    targets = [
        TargetOut(
            t.structure_id,
            t.name,
            t.email,
            t.phone,
            t.state,
            t.outcome,
            t.bounced,
            t.reminder_count,
            t.sent_at,
            t.answered_at,
            t.to_call,
            t.opened_at,
        )
        for t in found.targets
    ]
    return CampaignOut(
        found.id,
        found.name,
        found.scope,
        found.status,
        found.older_than_months,
        found.created_at,
        found.closes_at,
        found.counts,
        targets if with_targets else None,
        found.lost if with_targets else None,
    )


class CampaignController(Controller):
    path = "/campaigns"
    tags = ("Campagnes de vérification",)

    @post(
        "/",
        summary="Start a verification campaign (coordinators)",
        description="For a territory (territory_id) or a selection (structure_ids), not both: "
        "every active structure whose entry is older than older_than_months gets an email with "
        "a personal link to its entry. Starting the same open campaign again (same name, scope "
        "and months) mails only structures it does not hold yet, and answers 200 instead of 201.",
    )
    async def create(
        self, data: JSONBody[forms.CampaignIn], actor: NamedDependency[Actor]
    ) -> Response[CampaignOut]:
        check_can_run_campaigns(actor)
        campaign_id, created = await start.start(forms.from_json(data), actor)
        body = _out(await progress.progress(campaign_id), with_targets=True)
        return Response(body, status_code=201 if created else 200)

    @get("/", summary="Verification campaigns, latest first (coordinators)")
    async def list(self, actor: NamedDependency[Actor]) -> list[CampaignOut]:
        check_can_run_campaigns(actor)
        return [_out(found) for found in await progress.list_campaigns()]

    @get("/{campaign_id:uuid}", summary="A campaign's progress and targets (coordinators)")
    async def read(self, campaign_id: FromPath[UUID], actor: NamedDependency[Actor]) -> CampaignOut:
        check_can_run_campaigns(actor)
        return _out(await progress.progress(campaign_id), with_targets=True)

    @post(
        "/{campaign_id:uuid}/reminders",
        summary="Remind who has not answered (7 days after the last mail, 2 at most)",
        status_code=200,
    )
    async def remind(self, campaign_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Reminded:
        check_can_run_campaigns(actor)
        return Reminded(await progress.remind(campaign_id))

    @post(
        "/{campaign_id:uuid}/close",
        summary="Close a campaign: its links stop working",
        status_code=200,
    )
    async def close(self, campaign_id: FromPath[UUID], actor: NamedDependency[Actor]) -> Closed:
        check_can_run_campaigns(actor)
        return Closed(await progress.close(campaign_id))
