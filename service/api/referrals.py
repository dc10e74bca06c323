"""Referral endpoints: send, list, read, act, personal links, journeys and alerts."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody
from msgspec import Struct

from service.accounts.store import Actor
from service.referrals import appointments, exchange, inbox
from service.referrals.schemas import Action, AppointmentIn, ReferralCreate, ReferralRead
from service.referrals.stats import ResponseTimes, response_times
from service.settings import Settings

# Said once for both ways a partner gives an appointment (account and personal link).
APPOINTMENT_RULES = (
    "On an accepted referral. `date` and `time` are Paris wall-clock; a past moment "
    "is refused (400, the field named). `bring` may never ask for an identity "
    "document: no paper may be required of the young person (400)."
)


class SentOut(Struct):
    id: UUID
    # The partner's personal link, also emailed; the advisor may pass it on by phone.
    partner_link: str
    young_person_link: str | None


class LinkOut(Struct):
    partner_link: str


RetryKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        description=(
            "A key of your choice (a UUID) to retry safely: the same key with the same body "
            "answers with the first referral instead of sending a second one, for 24 hours; "
            "the same key with another body is refused with 409."
        ),
    ),
]


class ReferralController(Controller):
    path = "/referrals"
    tags = ("Orientations",)

    @post("/", summary="Send a referral, with the young person's consent")
    async def send(
        self,
        data: JSONBody[ReferralCreate],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        idempotency_key: RetryKeyHeader = None,
    ) -> SentOut:
        sent = await exchange.send_once(
            actor, data, settings.referral_rules, idempotency_key, scope="api"
        )
        young = (
            f"{settings.base_url}/j/{sent.young_person_token}" if sent.young_person_token else None
        )
        return SentOut(sent.referral_id, f"{settings.base_url}/p/{sent.partner_token}", young)

    @get("/", summary="Referrals sent (box=out) or received (box=in) by my structure")
    async def list_referrals(
        self,
        actor: NamedDependency[Actor],
        box: FromQuery[str] = "out",
        status: FromQuery[str] = "",
        overdue: FromQuery[bool] = False,
    ) -> list[inbox.ReferralSummary]:
        if box == "in":
            return await inbox.inbox(actor, status)
        return await inbox.outbox(actor, status, overdue_only=overdue)

    @get("/alerts", summary="Young people who seem to wander from office to office")
    async def alerts(self, actor: NamedDependency[Actor]) -> list[inbox.Alert]:
        return await inbox.alerts(actor)

    @get("/journeys/{young_person_id:uuid}", summary="A young person's chain of referrals")
    async def journey(
        self, young_person_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> list[inbox.ReferralSummary]:
        return await inbox.journey(actor, young_person_id)

    @get("/{referral_id:uuid}", summary="A referral and its history, as I may see it")
    async def read(
        self, referral_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> ReferralRead:
        who = await exchange.who_for_user(actor, referral_id)
        return await exchange.read(referral_id, who)

    @post("/{referral_id:uuid}/actions", summary="Make a transition (409 when not allowed)")
    async def act(
        self,
        referral_id: FromPath[UUID],
        data: JSONBody[Action],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
    ) -> ReferralRead:
        who = await exchange.who_for_user(actor, referral_id)
        await exchange.act(referral_id, data, who, settings.referral_rules)
        return await exchange.read(referral_id, who)

    @post(
        "/{referral_id:uuid}/appointment",
        summary="Give or change the young person's appointment (receiving partner)",
        description=APPOINTMENT_RULES,
    )
    async def give_appointment(
        self,
        referral_id: FromPath[UUID],
        data: JSONBody[AppointmentIn],
        actor: NamedDependency[Actor],
    ) -> ReferralRead:
        who = await exchange.who_for_user(actor, referral_id)
        await appointments.give(referral_id, data, who)
        return await exchange.read(referral_id, who)

    @post("/{referral_id:uuid}/partner-link", summary="Send the partner a fresh link")
    async def renew_link(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
    ) -> LinkOut:
        who = await exchange.who_for_user(actor, referral_id)
        token = await exchange.renew_partner_link(referral_id, who, settings.referral_rules)
        return LinkOut(f"{settings.base_url}/p/{token}")


class ResponseTimesController(Controller):
    path = "/structures"
    tags = ("Orientations",)

    @get(
        "/{structure_id:uuid}/response-times",
        summary="How fast a partner usually acknowledges and answers, as plain phrases",
    )
    async def response_times(self, structure_id: FromPath[UUID]) -> ResponseTimes:
        found = await response_times([structure_id])
        return found.get(structure_id) or ResponseTimes(
            acknowledge="Aucune orientation reçue pour l'instant.",
            answer="Aucune orientation reçue pour l'instant.",
            count=0,
        )


class LinkController(Controller):
    """For partners without an account and for young people: the token is the key."""

    path = "/links"
    tags = ("Liens personnels",)

    @get("/{token:str}", summary="The referral a personal link opens")
    async def read(self, token: FromPath[str]) -> ReferralRead:
        who, referral_id = await exchange.who_for_link(token)
        return await exchange.read(referral_id, who)

    @post("/{token:str}/actions", summary="Act through a personal link")
    async def act(
        self,
        token: FromPath[str],
        data: JSONBody[Action],
        settings: NamedDependency[Settings],
    ) -> ReferralRead:
        who, referral_id = await exchange.who_for_link(token)
        await exchange.act(referral_id, data, who, settings.referral_rules)
        return await exchange.read(referral_id, who)

    @post(
        "/{token:str}/appointment",
        summary="Give or change the young person's appointment (partner link)",
        description=APPOINTMENT_RULES,
    )
    async def give_appointment(
        self, token: FromPath[str], data: JSONBody[AppointmentIn]
    ) -> ReferralRead:
        who, referral_id = await exchange.who_for_link(token)
        await appointments.give(referral_id, data, who)
        return await exchange.read(referral_id, who)
