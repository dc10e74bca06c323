"""Reports of wrong data. An advisor or coordinator says what is wrong with a partner's
entry (a structure, or one of its services, sites or people); the partner gets an email
with a personal link to correct its entry, and the reporter's coordinators an email, in the
transaction that writes the report. A second report of the same record for the same reason
is added to the first instead of duplicating it. A report closes by itself when its record
is changed through the directory's store (the history tells us, see `_on_change`), or when
a coordinator closes it as fixed or dismissed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta, Struct
from piccolo.engine.postgres import PostgresEngine

from directory import history
from directory.errors import Conflict, Forbidden, Invalid, NotFound
from directory.store import writing
from directory.tables import Person, Service, Site, Structure, Territory
from directory.verification import Verifier
from service import entry_links, outbox
from service.accounts.store import Actor, Role
from service.accounts.tables import User
from service.reports.tables import DataReport


class Reason(StrEnum):
    HOURS = "hours"
    ADDRESS = "address"
    PHONE_EMAIL = "phone_email"
    CONTACT_LEFT = "contact_left"
    PUBLIC = "public"
    SERVICE_STOPPED = "service_stopped"
    STRUCTURE_CLOSED = "structure_closed"
    OTHER = "other"


REASONS = {
    "hours": "Horaires faux",
    "address": "Adresse fausse",
    "phone_email": "Téléphone ou courriel faux",
    "contact_left": "Contact parti",
    "public": "N'accueille plus ce public",
    "service_stopped": "Service arrêté",
    "structure_closed": "Structure fermée",
    "other": "Autre",
}
# Which records' changes answer a report, by reason: hours and addresses live on sites,
# phone numbers and emails on the structure and its people, a contact on services,
# conventions and relationships as well as on the person.
_EVERY_KIND = frozenset({"structure", "site", "service", "person", "relationship", "convention"})
FIXED_BY: dict[str, frozenset[str]] = {
    "hours": frozenset({"site", "service"}),
    "address": frozenset({"site", "structure"}),
    "phone_email": frozenset({"structure", "person"}),
    "contact_left": frozenset({"person", "service", "convention", "relationship"}),
    "public": frozenset({"service"}),
    "service_stopped": frozenset({"service"}),
    "structure_closed": frozenset({"structure"}),
    "other": _EVERY_KIND,
}
LINK_DAYS = 60
REPORT_LOCK = 74_726_011  # any number of our own, for pg_advisory_xact_lock
NOTE_MAX = 2000


class Status(StrEnum):
    OPEN = "open"
    FIXED = "fixed"
    DISMISSED = "dismissed"


STATUS_LABELS = {"open": "Ouvert", "fixed": "Corrigé", "dismissed": "Sans suite"}


class ReportIn(Struct, forbid_unknown_fields=True):
    """What is wrong, and where: the structure, and if the report is about one of its
    services, sites or people, which one."""

    structure_id: UUID
    reason: Reason
    note: Annotated[str, Meta(max_length=NOTE_MAX)] = ""
    service_id: UUID | None = None
    site_id: UUID | None = None
    person_id: UUID | None = None


class CloseIn(Struct, forbid_unknown_fields=True):
    outcome: Annotated[str, Meta(pattern="^(fixed|dismissed)$")]
    note: Annotated[str, Meta(max_length=NOTE_MAX)] = ""


class ReportRead(Struct):
    id: UUID
    structure_id: UUID
    structure_name: str
    service_id: UUID | None
    service_name: str
    site_id: UUID | None
    person_id: UUID | None
    person_name: str
    reason: str
    reason_label: str
    note: str
    reported_by: str
    reported_by_id: UUID | None
    created_at: datetime
    status: str
    status_label: str
    closed_at: datetime | None
    closed_by: str
    closing_note: str
    seconded: str


class Filed(Struct):
    """The answer to a report: its id, and whether it joined an open one."""

    id: UUID
    merged: bool
    status: str = "open"


def _now() -> datetime:
    return datetime.now(UTC)


def check_can_report(actor: Actor) -> None:
    if actor.role not in {Role.ADVISOR, Role.COORDINATOR, Role.ADMIN}:
        raise Forbidden("Seuls les conseillers et coordinateurs signalent une erreur.")


def check_can_close(actor: Actor) -> None:
    if not actor.can_edit_directory:
        raise Forbidden("Seuls les coordinateurs et administrateurs clôturent un signalement.")


async def _check(data: ReportIn) -> dict[str, Any]:
    """The report's record, checked to belong to its structure; names for the emails."""
    structure = await Structure.select(Structure.name, Structure.email).where(
        Structure.id == data.structure_id
    )
    if not structure:
        raise Invalid({"structure_id": "Structure introuvable."})
    errors: dict[str, str] = {}
    names = {"structure": structure[0]["name"], "email": structure[0]["email"], "record": ""}
    for field, table in (("service_id", Service), ("site_id", Site), ("person_id", Person)):
        wanted = getattr(data, field)
        if wanted is None:
            continue
        row = await table.select(*_label_columns(table)).where(table._meta.primary_key == wanted)
        if not row or row[0]["structure"] != data.structure_id:
            errors[field] = "Cet élément n'appartient pas à la structure."
        elif not names["record"]:
            names["record"] = _label(table, row[0])
    if data.reason == "other" and not data.note.strip():
        errors["note"] = "Dites en quelques mots ce qui est faux (obligatoire pour « Autre »)."
    if errors:
        raise Invalid(errors)
    return names


async def _with_service_records(data: ReportIn) -> ReportIn:
    """A report about a service is also about what a search result shows of it: its site
    (hours, address) and its contact person, so that correcting those fixes it too."""
    if data.service_id is None:
        return data
    row = (
        await Service.select(Service.site, Service.contact)
        .where(Service.id == data.service_id)
        .first()
    )
    if row is None:
        return data
    return msgspec.structs.replace(
        data, site_id=data.site_id or row["site"], person_id=data.person_id or row["contact"]
    )


def _label_columns(table: Any) -> list[Any]:
    if table is Person:
        return [Person.structure, Person.first_name, Person.last_name]
    return [table.structure, table.name]


def _label(table: Any, row: dict[str, Any]) -> str:
    if table is Person:
        return f"la personne {row['first_name']} {row['last_name']}"
    if table is Service:
        return f"le service « {row['name']} »"
    return f"le lieu « {row['name']} »" if row["name"] else "un lieu d'accueil"


def _same_record(data: ReportIn) -> Any:
    where = (DataReport.structure == data.structure_id) & (DataReport.reason == str(data.reason))
    for column, value in (
        (DataReport.service, data.service_id),
        (DataReport.site, data.site_id),
        (DataReport.person, data.person_id),
    ):
        where = where & (column.is_null() if value is None else column == value)
    return where & (DataReport.status == Status.OPEN)


async def file_report(data: ReportIn, actor: Actor, now: datetime | None = None) -> Filed:
    """Write the report and its emails in one transaction; a report of a record already
    reported for the same reason and still open is added to that one, without new email."""
    check_can_report(actor)
    names = await _check(data)
    data = await _with_service_records(data)
    now = now or _now()
    note = data.note.strip()
    async with writing():
        if isinstance(DataReport._meta.db, PostgresEngine):
            # Two reports of one structure at once must find each other (SQLite writers
            # already queue): they take turns until their transaction ends.
            lock = "SELECT pg_advisory_xact_lock({}, hashtext({}))"
            await DataReport.raw(lock, REPORT_LOCK, str(data.structure_id))
        existing = await DataReport.select(DataReport.id, DataReport.seconded).where(
            _same_record(data)
        )
        if existing:
            line = f"{now:%d/%m/%Y} — {actor.name}" + (f" : {note}" if note else "")
            seconded = "\n".join(filter(None, [existing[0]["seconded"], line]))
            await DataReport.update({DataReport.seconded: seconded}).where(
                DataReport.id == existing[0]["id"]
            )
            return Filed(id=existing[0]["id"], merged=True)
        row = DataReport(
            structure=data.structure_id,
            service=data.service_id,
            site=data.site_id,
            person=data.person_id,
            reason=str(data.reason),
            note=note,
            reported_by=actor.user_id,
            reported_by_label=actor.name,
            created_at=now,
        )
        await row.save()
        await _tell(row, names, actor, now)
    outbox.wake()
    return Filed(id=row.id, merged=False)


async def _partner_addresses(structure_id: UUID, structure_email: str) -> list[str]:
    """The structure's own address, else those of its people in post."""
    if structure_email:
        return [structure_email]
    people = await Person.select(Person.email).where(
        (Person.structure == structure_id) & (Person.active == True) & (Person.email != "")  # noqa: E712
    )
    return sorted({p["email"] for p in people})


async def _coordinators(structure_id: UUID | None) -> list[str]:
    if structure_id is None:
        return []
    rows = await User.select(User.email).where(
        (User.structure == structure_id)
        & (User.role == Role.COORDINATOR.value)
        & (User.active == True)  # noqa: E712
    )
    return sorted({r["email"] for r in rows})


async def _tell(row: DataReport, names: dict[str, Any], actor: Actor, now: datetime) -> None:
    context = {
        "structure_name": names["structure"],
        "record": names["record"],
        "reason": REASONS[row.reason],
        "note": row.note,
        "reporter": actor.name,
        "reported_on": now.strftime("%d/%m/%Y"),
    }
    partners = await _partner_addresses(row.structure, names["email"])
    if partners:
        token = await entry_links.issue(row.structure, "report", days=LINK_DAYS, now=now)
        link = entry_links.url(token)
        for to in partners:
            await outbox.enqueue(
                f"report:{row.id}:partner:{to}",
                "data_report_partner",
                "data_report_partner",
                to=to,
                context={**context, "link": link, "days": LINK_DAYS},
                now=now,
            )
    for to in await _coordinators(actor.structure_id):
        await outbox.enqueue(
            f"report:{row.id}:coordinator:{to}",
            "data_report_coordinator",
            "data_report_coordinator",
            to=to,
            context={**context, "link": "/signalements", "record_link": _record_link(row)},
            now=now,
        )


def _record_link(row: DataReport) -> str:
    return f"/structures/{row.structure}"


# ---- Closing -----------------------------------------------------------------------------


async def close(
    report_id: UUID, outcome: str, note: str, actor: Actor, now: datetime | None = None
) -> None:
    """A coordinator closes a report: fixed ("corrigé") or dismissed ("sans suite")."""
    check_can_close(actor)
    if outcome not in {Status.FIXED, Status.DISMISSED}:
        raise Invalid({"outcome": "Choisissez « corrigé » ou « sans suite »."})
    async with writing():
        row = await DataReport.select(DataReport.status).where(DataReport.id == report_id)
        if not row:
            raise NotFound("Signalement")
        if row[0]["status"] != Status.OPEN:
            raise Conflict("Ce signalement est déjà clôturé.")
        await DataReport.update(
            {
                DataReport.status: outcome,
                DataReport.closed_at: now or _now(),
                DataReport.closed_by: actor.name,
                DataReport.closing_note: note.strip(),
            }
        ).where(DataReport.id == report_id)


async def _on_change(
    kind: str, record_id: UUID, structure_id: UUID, action: str, by: Verifier | None
) -> None:
    """A record was changed through the store: the open reports of its structure that such
    a change answers (FIXED_BY) are fixed, when they name that very record or none of its
    kind (a report about the whole entry)."""
    if action == "confirm":
        return  # vouching for a record as it is fixes nothing
    reasons = [reason for reason, kinds in FIXED_BY.items() if kind in kinds]
    if not reasons:
        return
    touched: Any = DataReport.reason.is_in(reasons)
    columns: dict[str, Any] = {
        "service": DataReport.service,
        "site": DataReport.site,
        "person": DataReport.person,
    }
    if (column := columns.get(kind)) is not None:
        touched = touched & (column.is_null() | (column == record_id))
    who = by.label if by else "modification de la fiche"
    await DataReport.update(
        {
            DataReport.status: Status.FIXED,
            DataReport.closed_at: _now(),
            DataReport.closed_by: who,
            DataReport.closing_note: "Fiche modifiée après le signalement.",
        }
    ).where((DataReport.structure == structure_id) & (DataReport.status == Status.OPEN) & touched)


history.listen(_on_change)


# ---- Reading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    items: list[ReportRead]
    total: int


async def territory_structures(actor: Actor) -> list[UUID] | None:
    """The structures of the territories the actor's structure serves; None if it has none."""
    from service.departures import structures_in

    if actor.structure_id is None:
        return None
    rows = await Territory.select(Territory.communes).where(
        Territory.structure == actor.structure_id
    )
    if not rows:
        return None
    return await structures_in({c for r in rows for c in r["communes"]})


async def list_reports(
    actor: Actor,
    status: str = "open",
    mine: bool = False,
    structure_id: UUID | None = None,
    territory: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> Listing:
    """Newest first. Coordinators and admins read every report; an advisor their own."""
    check_can_report(actor)
    where: Any = DataReport.id.is_not_null()
    if mine or not actor.can_edit_directory:
        where = where & (DataReport.reported_by == actor.user_id)
    if status == "open":
        where = where & (DataReport.status == Status.OPEN)
    elif status == "closed":
        where = where & (DataReport.status != Status.OPEN)
    if structure_id is not None:
        where = where & (DataReport.structure == structure_id)
    if territory and (structures := await territory_structures(actor)) is not None:
        where = where & DataReport.structure.is_in(structures or [UUID(int=0)])
    rows = (
        await _select()
        .where(where)
        .order_by(DataReport.created_at, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    total = await DataReport.count().where(where)
    return Listing([_read(r) for r in rows], total)


def _read(r: dict[str, Any]) -> ReportRead:
    return ReportRead(
        id=r["id"],
        structure_id=r["structure"],
        structure_name=r["structure_name"] or "",
        service_id=r["service"],
        service_name=r["service_name"] or "",
        site_id=r["site"],
        person_id=r["person"],
        person_name=f"{r['first_name']} {r['last_name']}" if r["person"] else "",
        reason=r["reason"],
        reason_label=REASONS.get(r["reason"], r["reason"]),
        note=r["note"],
        reported_by=r["reported_by_label"],
        reported_by_id=r["reported_by"],
        created_at=r["created_at"],
        status=r["status"],
        status_label=STATUS_LABELS.get(r["status"], r["status"]),
        closed_at=r["closed_at"],
        closed_by=r["closed_by"],
        closing_note=r["closing_note"],
        seconded=r["seconded"],
    )


async def read_one(report_id: UUID) -> ReportRead:
    rows = await _select().where(DataReport.id == report_id)
    if not rows:
        raise NotFound("Signalement")
    return _read(rows[0])


def _select() -> Any:
    return DataReport.select(
        *DataReport.all_columns(),
        DataReport.structure.name.as_alias("structure_name"),
        DataReport.service.name.as_alias("service_name"),
        DataReport.person.first_name.as_alias("first_name"),
        DataReport.person.last_name.as_alias("last_name"),
    )


async def open_count(structure_id: UUID) -> int:
    return await DataReport.count().where(
        (DataReport.structure == structure_id) & (DataReport.status == Status.OPEN)
    )
