"""Referral pages: send, outbox, inbox, a referral's page with its actions and history,
the journey of a young person, and the two personal-link pages (partner, young person).
What each page shows is built in service.referrals.pages."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from directory import store
from directory.errors import Invalid
from directory.verification import Verifier
from service.accounts.store import Actor
from service.referrals import appointments, exchange, pages, reorient, send_form, young_language
from service.referrals.machine import Party, Transition
from service.settings import Settings

# The young person's second steps, each a page of its own so that it works without script.
YOUNG_STEPS = {"pas-pu": Transition.COULD_NOT_GO, "changer-d-avis": Transition.WITHDRAW}


class ReferralPages(Controller):
    include_in_schema = False

    # ---- sending -------------------------------------------------------------------------

    @get("/orientations/nouvelle")
    async def new(
        self,
        actor: NamedDependency[Actor],
        structure: FromQuery[UUID],
        service: FromQuery[UUID | None] = None,
        domain: FromQuery[str] = "",
    ) -> Template:
        context = await send_form.blank_context(actor, structure, service, domain)
        return Template("referral_new.html", context=context, status_code=_status(context))

    @post("/orientations/nouvelle")
    async def send(
        self,
        request: Request,
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        structure: FromQuery[UUID],
    ) -> Template | Redirect:
        form = await request.form()
        sent, context = await send_form.submit(actor, structure, form, settings.referral_rules)
        if sent is None:
            return Template("referral_new.html", context=context, status_code=400)
        once = context["values"]["_once"]
        return Redirect(f"/orientations/{sent.referral_id}?envoyee={once}", status_code=303)

    # ---- re-orienting after a referral that led nowhere -----------------------------------

    @get("/orientations/{referral_id:uuid}/reorienter")
    async def reorient_page(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        structure: FromQuery[UUID | None] = None,
    ) -> Template:
        context = await reorient.page_context(actor, referral_id, structure)
        return Template("referral_reorient.html", context=context)

    @post("/orientations/{referral_id:uuid}/reorienter")
    async def reorient_send(
        self,
        referral_id: FromPath[UUID],
        request: Request,
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        form = await request.form()
        sent, context = await reorient.submit(actor, referral_id, form, settings.referral_rules)
        if sent is None:
            return Template("referral_reorient.html", context=context, status_code=400)
        once = form.get("_once", "")
        return Redirect(f"/orientations/{sent.referral_id}?envoyee={once}", status_code=303)

    # ---- lists ---------------------------------------------------------------------------

    @get("/orientations")
    async def outbox(
        self,
        actor: NamedDependency[Actor],
        statut: FromQuery[str] = "",
        en_retard: FromQuery[bool] = False,
        vers: FromQuery[UUID | None] = None,
    ) -> Template:
        context = await pages.outbox_context(actor, statut, en_retard, to_structure=vers)
        return Template("referrals.html", context=context)

    @get("/orientations/recues")
    async def inbox_page(
        self, actor: NamedDependency[Actor], statut: FromQuery[str] = ""
    ) -> Template:
        return Template("referrals.html", context=await pages.inbox_context(actor, statut))

    @get("/parcours/{young_person_id:uuid}")
    async def journey(
        self, young_person_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Template:
        context = await pages.journey_context(actor, young_person_id)
        return Template("journey.html", context=context)

    # ---- one referral, for account holders -----------------------------------------------

    @get("/orientations/{referral_id:uuid}")
    async def show(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
        envoyee: FromQuery[str] = "",
    ) -> Template:
        who = await exchange.who_for_user(actor, referral_id)
        links = await pages.links_just_sent(actor, referral_id, envoyee, settings.base_url)
        return await self._referral_page(
            referral_id, who, actor, f"/orientations/{referral_id}", **links
        )

    @post("/orientations/{referral_id:uuid}/actions")
    async def act(
        self,
        referral_id: FromPath[UUID],
        request: Request,
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        who = await exchange.who_for_user(actor, referral_id)
        base = f"/orientations/{referral_id}"
        return await self._act(referral_id, who, request, settings, base, actor)

    @post("/orientations/{referral_id:uuid}/lien")
    async def renew_link(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        settings: NamedDependency[Settings],
    ) -> Template:
        who = await exchange.who_for_user(actor, referral_id)
        token = await exchange.renew_partner_link(referral_id, who, settings.referral_rules)
        link = f"{settings.base_url}/p/{token}"
        base = f"/orientations/{referral_id}"
        notice = pages.LINK_RENEWED
        return await self._referral_page(
            referral_id, who, actor, base, notice=notice, partner_link=link
        )

    @post("/orientations/{referral_id:uuid}/rendez-vous")
    async def give_appointment(
        self, referral_id: FromPath[UUID], request: Request, actor: NamedDependency[Actor]
    ) -> Template | Redirect:
        who = await exchange.who_for_user(actor, referral_id)
        base = f"/orientations/{referral_id}"
        return await self._give_appointment(referral_id, who, request, base, actor)

    # ---- personal links --------------------------------------------------------------------

    # Partners (/p/) and young people (/j/) follow their personal link: the token, not
    # the path, says who they are.
    @get(["/p/{token:str}", "/j/{token:str}"])
    async def personal_link(self, token: FromPath[str], request: Request) -> Template:
        who, referral_id = await exchange.who_for_link(token)
        return await self._referral_page(referral_id, who, None, _link_base(request, token))

    @get("/j/{token:str}/{step:str}")
    async def young_person_step(
        self, token: FromPath[str], step: FromPath[str], request: Request
    ) -> Template:
        """The reasons for "Je n'ai pas pu y aller", or the confirmation of a withdrawal."""
        if step not in YOUNG_STEPS:
            raise NotFoundException("Page introuvable.")
        who, referral_id = await exchange.who_for_link(token)
        return await self._referral_page(
            referral_id, who, None, _link_base(request, token), open_action=YOUNG_STEPS[step]
        )

    @post(["/p/{token:str}/actions", "/j/{token:str}/actions"])
    async def personal_link_act(
        self,
        token: FromPath[str],
        request: Request,
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        who, referral_id = await exchange.who_for_link(token)
        base = _link_base(request, token)
        return await self._act(referral_id, who, request, settings, base, None)

    @post("/p/{token:str}/fiche-a-jour")
    async def partner_confirms_record(self, token: FromPath[str]) -> Redirect:
        """The partner says, from its personal link, that its record is right as it is."""
        who, referral_id = await exchange.who_for_link(token)
        if who.party != Party.PARTNER:
            raise NotFoundException("Page introuvable.")
        referral = await exchange.read(referral_id, who)
        by = Verifier("partner_link", f"{referral.to_structure_name} (par son lien personnel)")
        await store.confirm_structure(referral.to_structure_id, by=by)
        return Redirect(f"/p/{token}?fiche=confirmee")

    @post("/p/{token:str}/rendez-vous")
    async def link_give_appointment(
        self, token: FromPath[str], request: Request
    ) -> Template | Redirect:
        who, referral_id = await exchange.who_for_link(token)
        return await self._give_appointment(referral_id, who, request, f"/p/{token}", None)

    @post("/j/{token:str}/langue")
    async def young_person_language(
        self, token: FromPath[str], request: Request
    ) -> Template | Redirect:
        """The young person chooses the language of their page and of the emails to come."""
        who, referral_id = await exchange.who_for_link(token)
        language = str((await request.form()).get("language", ""))
        try:
            await young_language.choose(referral_id, who, language)
        except Invalid as error:
            base = _link_base(request, token)
            return await self._referral_page(
                referral_id, who, None, base, errors=error.errors, status=400
            )
        return Redirect(f"/j/{token}", status_code=303)

    @get("/j/{token:str}/rendez-vous.ics")
    async def appointment_ics(self, token: FromPath[str]) -> Response[bytes]:
        """The young person's appointment, to add to their phone's calendar."""
        who, referral_id = await exchange.who_for_link(token)
        referral = await exchange.read(referral_id, who)
        if referral.appointment is None or not referral.status.is_open:
            raise NotFoundException("Aucun rendez-vous n'est fixé pour cette orientation.")
        body = appointments.ics(
            referral.appointment, referral_id, referral.to_structure_name, referral.language
        )
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="rendez-vous.ics"'},
        )

    # ---- shared ----------------------------------------------------------------------------

    async def _give_appointment(
        self, referral_id: UUID, who: exchange.Who, request: Request, base: str, actor: Actor | None
    ) -> Template | Redirect:
        """The partner's appointment form: POST, then redirect to the page (a reload does
        not post again, and the same form sent twice changes nothing the second time)."""
        try:
            await pages.appointment_from_form(referral_id, who, await request.form())
        except pages.Refused as refused:
            return await self._referral_page(
                referral_id, who, actor, base, status=refused.status, **refused.page
            )
        return Redirect(f"{base}?fait=rendez-vous", status_code=303)

    async def _act(
        self,
        referral_id: UUID,
        who: exchange.Who,
        request: Request,
        settings: Settings,
        base: str,
        actor: Actor | None,
    ) -> Template | Redirect:
        form = await request.form()
        try:
            done = await pages.act_from_form(referral_id, who, form, settings.referral_rules)
        except pages.Refused as refused:
            return await self._referral_page(
                referral_id, who, actor, base, status=refused.status, **refused.page
            )
        return Redirect(f"{base}?fait={done.value}")

    async def _referral_page(
        self,
        referral_id: UUID,
        who: exchange.Who,
        actor: Actor | None,
        base: str,
        status: int = 200,
        **page: Any,
    ) -> Template:
        """One referral's page as `who` sees it; `page` as in pages.referral_context."""
        template, context = await pages.referral_context(referral_id, who, actor, base, **page)
        return Template(template, context=context, status_code=status)


def _status(context: dict[str, Any]) -> int:
    return 400 if context["errors"] else 200


def _link_base(request: Request, token: str) -> str:
    return f"/{request.url.path.split('/')[1]}/{token}"
