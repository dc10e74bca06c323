"""Referral pages: send, outbox, inbox, a referral's page with its actions and history,
the journey of a young person, and the two personal-link pages (partner, young person)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from directory import store
from directory.errors import Conflict, Invalid
from directory.hours import LOCAL_TIME
from directory.tables import Structure
from service import i18n
from service.accounts.store import Actor
from service.audit import store as audit
from service.forms import french
from service.referrals import (
    appointments,
    exchange,
    inbox,
    reorient,
    send_form,
    young_language,
)
from service.referrals.idempotency import Once
from service.referrals.machine import (
    CANCEL_REASONS,
    COULD_NOT_GO_REASONS,
    DECLINE_REASONS,
    FAILURE_REASONS,
    HOLD_REASONS,
    OUTCOMES,
    REASON_LABELS,
    YOUNG_PERSON_SAYS,
    Party,
    Transition,
)
from service.referrals.schemas import Action, AppointmentIn
from service.referrals.tables import Referral
from service.settings import Settings

# What the audit trail's change codes mean, in the words of the history above it.
TRANSITION_LABELS = {
    **{t.value: t.label for t in Transition},
    "partner_link": "Envoyer un nouveau lien au partenaire",
    "purge": "Effacement des données personnelles (purge)",
}
REASONS = {
    Transition.DECLINE: DECLINE_REASONS,
    Transition.CLOSE: OUTCOMES,
    Transition.CLOSE_FAILED: FAILURE_REASONS,
    Transition.NO_SHOW: FAILURE_REASONS,
    Transition.HOLD: HOLD_REASONS,
    Transition.CANCEL: CANCEL_REASONS,
    Transition.COULD_NOT_GO: COULD_NOT_GO_REASONS,
}
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
    ) -> Template:
        items = await inbox.outbox(actor, statut, overdue_only=en_retard)
        alerts = await inbox.alerts(actor)
        return Template(
            "referrals.html",
            context={
                "actor": actor,
                "items": items,
                "alerts": alerts,
                "box": "out",
                "status": statut,
                "overdue": en_retard,
            },
        )

    @get("/orientations/recues")
    async def inbox_page(
        self, actor: NamedDependency[Actor], statut: FromQuery[str] = ""
    ) -> Template:
        items = await inbox.inbox(actor, statut)
        return Template(
            "referrals.html",
            context={
                "actor": actor,
                "items": items,
                "alerts": [],
                "box": "in",
                "status": statut,
                "overdue": False,
            },
        )

    @get("/parcours/{young_person_id:uuid}")
    async def journey(
        self, young_person_id: FromPath[UUID], actor: NamedDependency[Actor]
    ) -> Template:
        items = await inbox.journey(actor, young_person_id)
        _kinds, messages = inbox.wandering(items, datetime.now(UTC))
        return Template(
            "journey.html",
            context={"actor": actor, "items": items, "messages": messages},
        )

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
        links = await _links_just_sent(actor, referral_id, envoyee, settings.base_url)
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
        return await self._referral_page(
            referral_id,
            who,
            actor,
            f"/orientations/{referral_id}",
            notice="Un nouveau lien a été envoyé au partenaire ; l'ancien ne fonctionne plus.",
            partner_link=f"{settings.base_url}/p/{token}",
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
        form = await request.form()
        values = {
            k: str(form.get(k, "")).strip() for k in ("date", "time", "place", "ask_for", "bring")
        }
        try:
            data = msgspec.convert(values, AppointmentIn, strict=False)
            await appointments.give(referral_id, data, who)
        except msgspec.ValidationError as error:
            field = str(error).rsplit("$.", 1)[-1].rstrip("`")
            errors = {field: _APPOINTMENT_FIELDS.get(field, french(str(error)))}
            return await self._referral_page(
                referral_id, who, actor, base, errors=errors, status=400, appointment_form=values
            )
        except Invalid as error:
            return await self._referral_page(
                referral_id,
                who,
                actor,
                base,
                errors=error.errors,
                status=400,
                appointment_form=values,
            )
        except Conflict as error:
            return await self._referral_page(
                referral_id, who, actor, base, errors={"form": str(error)}, status=409
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
        raw = {
            k: v
            for k, v in form.items()
            if k not in ("_csrf_token", "_once") and str(v).strip() != ""
        }
        try:
            action = msgspec.convert(raw, Action, strict=False)
            done = await exchange.act(referral_id, action, who, settings.referral_rules)
        except msgspec.ValidationError as error:
            return await self._referral_page(
                referral_id, who, actor, base, errors={"form": french(str(error))}, status=400
            )
        except Invalid as error:
            return await self._referral_page(
                referral_id,
                who,
                actor,
                base,
                errors=error.errors,
                status=400,
                open_action=raw.get("transition", ""),
            )
        except Conflict as error:
            message = str(error)
            if who.party == Party.YOUNG_PERSON and not isinstance(error, exchange.AlreadyAnswered):
                message = i18n.YOUNG_PERSON_CONFLICT
            return await self._referral_page(
                referral_id, who, actor, base, errors={"form": message}, status=409
            )
        return Redirect(f"{base}?fait={done.transition.value}")

    async def _referral_page(
        self,
        referral_id: UUID,
        who: exchange.Who,
        actor: Actor | None,
        base: str,
        errors: dict[str, str] | None = None,
        status: int = 200,
        notice: str = "",
        partner_link: str = "",
        open_action: str = "",
        just_sent: bool = False,
        young_link: str = "",
        appointment_form: dict[str, str] | None = None,
    ) -> Template:
        referral = await exchange.read(referral_id, who)
        structures: list[dict[str, Any]] = []
        if Transition.REDIRECT in referral.allowed:
            structures = (
                await Structure.select(Structure.id, Structure.name)
                .where(
                    (Structure.status == "active")
                    & (Structure.id.not_in([referral.to_structure_id, referral.from_structure_id]))
                )
                .order_by(Structure.name)
            )
        where = home = None
        if who.party == Party.YOUNG_PERSON:
            where = await _where_to_go(referral.to_structure_id, referral.to_service_id)
            home = await _home(referral.from_structure_id, referral.referent_email)
        template = "young_person_link.html" if who.party == Party.YOUNG_PERSON else "referral.html"
        # The young person's page speaks their language; staff pages stay French.
        speech = i18n.jinja_context(referral.language) if who.party == Party.YOUNG_PERSON else {}
        # The referent side sees who opened the referral: the trail names actors only.
        trail = (
            await audit.of_subject("referral", referral_id, limit=50)
            if who.party == Party.ADVISOR and actor
            else []
        )
        return Template(
            template,
            context={
                "actor": actor,
                "r": referral,
                "party": who.party.value,
                "base": base,
                "errors": errors or {},
                "reasons": {t.value: r for t, r in REASONS.items()},
                "structures": structures,
                "notice": notice,
                "partner_link": partner_link,
                "just_sent": just_sent,
                "young_link": young_link,
                "where": where,
                "home": home,
                "young_person_says": YOUNG_PERSON_SAYS,
                "reason_labels": REASON_LABELS,
                "open_action": open_action,
                "trail": trail,
                "transition_labels": TRANSITION_LABELS,
                "appointment_form": appointment_form or _appointment_values(referral),
                "no_papers": appointments.NO_PAPERS,
                **speech,
            },
            status_code=status,
        )


async def _links_just_sent(
    actor: Actor, referral_id: UUID, key: str, base_url: str
) -> dict[str, Any]:
    """The personal links of a referral this advisor has just sent from the form, found
    again with the form's one-time key (they are not stored in clear)."""
    if not key:
        return {}
    try:
        remembered = await Once.of(actor.user_id, "form", key, b"").recall(datetime.now(UTC))
    except Invalid:
        return {}
    if remembered is None or remembered.referral_id != referral_id:
        return {}
    row = (
        await Referral.select(Referral.young_person.channel.as_alias("channel"))
        .where(Referral.id == referral_id)
        .first()
    )
    by_sms = row is not None and row["channel"] == "sms"
    return {
        "just_sent": True,
        "partner_link": f"{base_url}/p/{remembered.partner_token}",
        "young_link": (
            f"{base_url}/j/{remembered.young_person_token}"
            if by_sms and remembered.young_person_token
            else ""
        ),
    }


# What each appointment field needs, when its shape is wrong (msgspec says it in English).
_APPOINTMENT_FIELDS = {
    "date": "Indiquez la date du rendez-vous (jour, mois, année).",
    "time": "Indiquez l'heure du rendez-vous, par exemple 14:30.",
    "place": "Indiquez le lieu du rendez-vous (300 caractères au plus).",
    "ask_for": "« Qui demander » tient en 120 caractères au plus.",
    "bring": "« À apporter » tient en 1 000 caractères au plus.",
}


def _appointment_values(referral: Any) -> dict[str, str]:
    """The appointment form, filled with the current appointment to change it."""
    found = referral.appointment
    if found is None:
        return {}
    local = found.starts_at.astimezone(LOCAL_TIME)
    return {
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "place": found.place,
        "ask_for": found.ask_for,
        "bring": found.bring,
    }


def _status(context: dict[str, Any]) -> int:
    return 400 if context["errors"] else 200


def _link_base(request: Request, token: str) -> str:
    return f"/{request.url.path.split('/')[1]}/{token}"


async def _home(structure_id: UUID, referent_email: str) -> dict[str, Any]:
    """Whom the young person calls and where they go back to: their advisor's phone when
    the directory lists them among their Mission Locale's people, else its front desk."""
    structure = await store.get_structure(structure_id)
    person = next(
        (
            p
            for p in structure.people
            if p.active and referent_email and p.email.lower() == referent_email.lower()
        ),
        None,
    )
    phone = (person.phone if person else "") or structure.phone
    site = structure.sites[0] if structure.sites else None
    return {"structure": structure, "site": site, "phone": phone}


async def _where_to_go(structure_id: UUID, service_id: UUID | None) -> dict[str, Any]:
    """Where the young person goes: the service's site or the structure's first one, and
    whom to ask for."""
    structure = await store.get_structure(structure_id)
    site_id = None
    contact_id = None
    for service in structure.services:
        if service.id == service_id:
            site_id, contact_id = service.site_id, service.contact_id
    sites = structure.sites
    site = next((s for s in sites if s.id == site_id), sites[0] if sites else None)
    people = {p.id: p for p in structure.people if p.active}
    contact = people.get(contact_id) if contact_id else None
    return {"structure": structure, "site": site, "contact": contact}
