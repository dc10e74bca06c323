"""The appointment a partner gives the young person on an accepted referral: when, where,
whom to ask for, what to bring. Times are Paris wall-clock; what to bring never includes an
identity document (unconditional welcome). The young person is reminded the day before;
once the time has passed, the partner is asked whether the young person came."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from icalendar import Calendar, Event
from piccolo.columns import Column

from directory.errors import Conflict, Forbidden, Invalid
from directory.hours import LOCAL_TIME
from directory.store import writing
from service import i18n, outbox
from service.referrals import exchange
from service.referrals.exchange import Rules, Who
from service.referrals.machine import Party, Status, Transition
from service.referrals.notify import french_date
from service.referrals.schemas import AppointmentIn, AppointmentRead
from service.referrals.tables import Appointment, Referral

NO_PAPERS = (
    "Aucun papier ne peut être exigé du jeune : ni pièce d'identité, ni titre de séjour, "
    "ni numéro de sécurité sociale (accueil inconditionnel)."
)
# Identity documents and numbers a "what to bring" must not ask for.
_IDENTITY = re.compile(
    r"identit|passeport|titre de s[ée]jour|carte vitale|s[ée]curit[ée] sociale|"
    r"\bcni\b|\bnir\b|acte de naissance|livret de famille|r[ée]c[ée]piss[ée]",
    re.IGNORECASE,
)


def _now() -> datetime:
    return datetime.now(UTC)


def when_label(moment: datetime) -> str:
    """« lundi 7 décembre 2026 à 14 h 30 », in Paris time."""
    local = moment.astimezone(LOCAL_TIME)
    return f"{french_date(moment)} à {local.hour} h {local.minute:02d}"


def _starts_at(data: AppointmentIn, now: datetime, errors: dict[str, str]) -> datetime | None:
    """The Paris wall-clock date and time as a moment; a past one is refused."""
    try:
        day = date.fromisoformat(data.date)
    except ValueError:
        errors["date"] = "La date du rendez-vous n'existe pas (format attendu : AAAA-MM-JJ)."
        return None
    hour, minute = (int(part) for part in data.time.split(":"))
    starts_at = datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TIME).astimezone(UTC)
    if starts_at <= now:
        field = "date" if day < now.astimezone(LOCAL_TIME).date() else "time"
        errors[field] = (
            "La date du rendez-vous est passée : choisissez un jour à venir."
            if field == "date"
            else "L'heure du rendez-vous est passée : choisissez une heure à venir."
        )
        return None
    return starts_at


def check(data: AppointmentIn, now: datetime) -> datetime:
    """Every problem of the form at once, in French, named by field."""
    errors: dict[str, str] = {}
    starts_at = _starts_at(data, now, errors)
    if not data.place.strip():
        errors["place"] = "Indiquez le lieu du rendez-vous (adresse, bureau…)."
    if _IDENTITY.search(data.bring):
        errors["bring"] = f"{NO_PAPERS} Retirez-le de « À apporter »."
    if errors or starts_at is None:
        raise Invalid(errors)
    return starts_at


async def give(
    referral_id: UUID, data: AppointmentIn, who: Who, now: datetime | None = None
) -> bool:
    """The partner gives or changes the appointment of an accepted referral. Returns False
    when nothing changed (a form sent twice), so that a retry logs nothing twice."""
    now = now or _now()
    if who.link_referral is not None and who.link_referral != referral_id:
        raise Forbidden("Ce lien ne concerne pas cette orientation.")
    if who.party != Party.PARTNER:
        raise Conflict("Seul le partenaire qui reçoit le jeune peut lui donner un rendez-vous.")
    starts_at = check(data, now)
    values: dict[str, Any] = {
        "starts_at": starts_at,
        "place": data.place.strip(),
        "ask_for": data.ask_for.strip(),
        "bring": data.bring.strip(),
    }
    async with writing():
        row = await Referral.select(Referral.status).where(Referral.id == referral_id).first()
        if row is None or row["status"] != Status.ACCEPTED.value:
            raise Conflict(
                "Un rendez-vous se donne sur une orientation acceptée, avant la prise en charge."
            )
        current = await Appointment.select().where(Appointment.referral == referral_id).first()
        if current is not None and all(current[k] == v for k, v in values.items()):
            return False
        if current is None:
            await Appointment(referral=referral_id, set_at=now, **values).save()
        else:
            changes: dict[Column | str, Any] = {"set_at": now}
            changes.update(values)
            await Appointment.update(changes).where(Appointment.referral == referral_id)
        status = Status.ACCEPTED
        await exchange._event(
            referral_id,
            now,
            who,
            Transition.APPOINTMENT,
            status,
            status,
            note="Rendez-vous modifié" if current else "",
        )
        await exchange._audit(who, exchange.CHANGE, referral_id, "appointment", now)
        await outbox.enqueue(
            f"{referral_id}:appointment:{starts_at.isoformat()}:{now.isoformat()}",
            "appointment_given",
            "appointment_given",
            audience="referent",
            referral_id=referral_id,
            context={"link": f"/orientations/{referral_id}", "changed": current is not None},
            now=now,
        )
    outbox.wake()
    return True


async def of(referral_id: UUID, now: datetime | None = None) -> AppointmentRead | None:
    now = now or _now()
    row = await Appointment.select().where(Appointment.referral == referral_id).first()
    return None if row is None else view(row, now)


def view(row: dict[str, Any], now: datetime) -> AppointmentRead:
    """An appointment row as the referral shows it."""
    return AppointmentRead(
        starts_at=row["starts_at"],
        when=when_label(row["starts_at"]),
        place=row["place"],
        ask_for=row["ask_for"],
        bring=row["bring"],
        passed=row["starts_at"] <= now,
    )


async def erase(referral_ids: list[UUID]) -> None:
    """Withdrawal, cancellation and purge erase the appointment with the rest."""
    if referral_ids:
        await Appointment.delete().where(Appointment.referral.is_in(referral_ids))


def ics(
    appointment: AppointmentRead, referral_id: UUID, structure_name: str, lang: str = "fr"
) -> bytes:
    """An .ics file for the young person's calendar, in Europe/Paris time and in their
    language."""

    def say(message: str, **values: str) -> str:
        return i18n.gettext(lang, message).format(**values)

    calendar = Calendar()
    calendar.add("prodid", "-//Maillage//Rendez-vous//FR")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{referral_id}@maillage")
    event.add("dtstamp", datetime.now(UTC))
    start = appointment.starts_at.astimezone(LOCAL_TIME)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=1))
    event.add("summary", say(i18n.ICS_TITLE, structure=structure_name))
    event.add("location", appointment.place)
    lines = []
    if appointment.ask_for:
        lines.append(say(i18n.ICS_ASK_FOR, name=appointment.ask_for))
    if appointment.bring:
        lines.append(say(i18n.ICS_BRING, things=appointment.bring))
    lines.append(say(i18n.ICS_NO_PAPERS))
    event.add("description", "\n".join(lines))
    calendar.add_component(event)
    return calendar.to_ical()


# ---- Reminders (maillage remind) -----------------------------------------------------------


async def remind(rules: Rules, now: datetime) -> tuple[int, int]:
    """The young person's reminder the day before (when they chose email), and the
    partner's question once the time has passed. Each exactly once: the outbox key names
    the appointment's time, so a changed appointment gets its own."""
    rows = await Appointment.select(Appointment.referral, Appointment.starts_at).where(
        Appointment.referral.status == Status.ACCEPTED.value
    )
    if not rows:
        return 0, 0
    contacts = {
        c["id"]: c
        for c in await Referral.select(
            Referral.id,
            Referral.young_person.channel.as_alias("channel"),
            Referral.young_person.email.as_alias("email"),
        ).where(Referral.id.is_in([r["referral"] for r in rows]))
    }
    reminders = questions = 0
    today = now.astimezone(LOCAL_TIME).date()
    for row in rows:
        contact = contacts.get(row["referral"], {})
        row["channel"], row["email"] = contact.get("channel", ""), contact.get("email", "")
        starts_at = row["starts_at"]
        if starts_at <= now:
            questions += await _ask_partner(row, rules, now)
        elif (
            starts_at.astimezone(LOCAL_TIME).date() - today <= timedelta(days=1)
            and row["channel"] == "email"
            and row["email"]
        ):
            reminders += await _remind_young_person(row, rules, now)
    return reminders, questions


async def _remind_young_person(row: dict[str, Any], rules: Rules, now: datetime) -> int:
    return await _mail_with_fresh_link(
        row, "remind", "appointment_reminder", Party.YOUNG_PERSON, rules.young_person_link_days, now
    )


async def _ask_partner(row: dict[str, Any], rules: Rules, now: datetime) -> int:
    return await _mail_with_fresh_link(
        row, "came", "appointment_came", Party.PARTNER, rules.partner_link_days, now
    )


async def _mail_with_fresh_link(
    row: dict[str, Any], step: str, kind: str, party: Party, link_days: int, now: datetime
) -> int:
    """One message per appointment time and step, carrying a fresh personal link: the
    earlier one may be lost or near its end. The link and its message commit together."""
    key = f"{row['referral']}:appointment:{step}:{row['starts_at'].isoformat()}"
    if await outbox.exists(key):
        return 0
    audience, path = ("partner", "p") if party == Party.PARTNER else ("young_person", "j")
    async with writing():
        token = await exchange._new_link(row["referral"], party, link_days, now)
        written = await outbox.enqueue(
            key,
            kind,
            kind,
            audience=audience,
            referral_id=row["referral"],
            context={"link": f"/{path}/{token}"},
            now=now,
        )
    return int(written)


def context(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the emails show of the appointment, from its columns read with the referral
    (`appointment_*`) at delivery."""
    if row["appointment_starts_at"] is None:
        return {"appointment": None}
    return {
        "appointment": {
            "starts_at": row["appointment_starts_at"],
            "when": when_label(row["appointment_starts_at"]),
            "place": row["appointment_place"],
            "ask_for": row["appointment_ask_for"],
            "bring": row["appointment_bring"],
        }
    }
