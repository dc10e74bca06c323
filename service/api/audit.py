"""The audit trail through the API: for coordinators and admins, and for the referent side
of one referral."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from directory.errors import Forbidden, Invalid
from service.accounts.store import Actor, Role
from service.audit import store as audit
from service.audit.middleware import KINDS
from service.auth import require_role
from service.referrals import exchange
from service.referrals.machine import Party

# "import": the purge of an import report (service.import_jobs.purge).
SUBJECT_KINDS = {"referral", "import", *KINDS.values()}


class AuditController(Controller):
    path = "/audit"
    tags = ("Journal des accès",)

    @get("/", summary="Who read or changed referrals and directory records (coordinators, admins)")
    async def trail(
        self,
        actor: NamedDependency[Actor],
        subject_kind: FromQuery[str] = "",
        subject_id: FromQuery[UUID | None] = None,
        actor_user_id: FromQuery[UUID | None] = None,
        limit: FromQuery[int] = 200,
    ) -> list[audit.AuditRead]:
        require_role(actor, Role.COORDINATOR, Role.ADMIN)
        if subject_kind and subject_kind not in SUBJECT_KINDS:
            choices = ", ".join(sorted(SUBJECT_KINDS))
            raise Invalid({"subject_kind": f"Type d'élément inconnu ; possibles : {choices}."})
        size = max(1, min(limit, 1000))
        return await audit.trail(actor, subject_kind, subject_id, actor_user_id, size)

    @get("/referrals/{referral_id:uuid}", summary="Who read or changed one referral")
    async def referral(
        self, referral_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> list[audit.AuditRead]:
        who = await exchange.who_for_user(actor, referral_id)
        if who.party != Party.ADVISOR:
            raise Forbidden(
                "Seul le côté du conseiller référent lit le journal de cette orientation."
            )
        return await audit.of_subject("referral", referral_id)
