"""What the report pages show and read, apart from HTTP: the form's subject, the form
read into a ReportIn, the list's filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from directory.errors import Invalid, NotFound
from directory.gazetteer import load_gazetteer
from directory.tables import Person, Service, Site, Structure
from service.accounts.store import Actor
from service.forms import parse_form
from service.reports import store
from service.reports.store import ReportIn

REASON_CHOICES = list(store.REASONS.items())
THANKS = "Merci, la structure et la coordination sont prévenues."
ALREADY = (
    "Merci : cette erreur était déjà signalée ; votre remarque est ajoutée au signalement "
    "ouvert, la structure et la coordination en sont déjà prévenues."
)


def safe_return(path: str) -> str:
    """Where to go back after reporting: a path of this site only."""
    if path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path[:1000]
    return ""


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


async def subject(params: Any) -> dict[str, Any]:
    """The structure and, if any, the service, site or person the report is about."""
    ids = {name: _uuid(params.get(name)) for name in ("structure", "service", "site", "person")}
    if ids["structure"] is None:
        raise NotFound("Structure")
    structure = await Structure.select(Structure.id, Structure.name).where(
        Structure.id == ids["structure"]
    )
    if not structure:
        raise NotFound("Structure")
    found: dict[str, Any] = {"structure": structure[0], "ids": ids, "what": ""}
    if ids["service"]:
        row = await Service.select(Service.name).where(Service.id == ids["service"]).first()
        found["what"] = f"le service « {row['name']} »" if row else ""
    elif ids["site"]:
        row = await Site.select(Site.name, Site.commune).where(Site.id == ids["site"]).first()
        if row is not None:
            commune = load_gazetteer().get(row["commune"])
            place = commune.name if commune else row["commune"]
            found["what"] = f"le lieu « {row['name'] or place} »"
    elif ids["person"]:
        person = (
            await Person.select(Person.first_name, Person.last_name)
            .where(Person.id == ids["person"])
            .first()
        )
        found["what"] = f"{person['first_name']} {person['last_name']}" if person else ""
    found["return_to"] = safe_return(str(params.get("retour", "")))
    return found


def read_form(form: Any) -> ReportIn:
    """The form as the API's ReportIn; every error at once, each naming its field."""
    values = {
        "structure_id": form.get("structure", ""),
        "service_id": form.get("service", ""),
        "site_id": form.get("site", ""),
        "person_id": form.get("person", ""),
        "reason": form.get("reason", ""),
        "note": form.get("note", ""),
    }
    try:
        return parse_form(values, ReportIn)
    except Invalid as error:
        if "reason" in error.errors:
            error.errors["reason"] = "Choisissez ce qui est faux."
        raise


async def file_from_form(form: Any, actor: Actor) -> str:
    """Files the report; returns where the browser goes next (the thanks page)."""
    filed = await store.file_report(read_form(form), actor)
    query = {"fusion": "1" if filed.merged else "0"}
    if back := safe_return(str(form.get("retour", ""))):
        query["retour"] = back
    return f"/signalements/merci?{urlencode(query)}"


def list_filters(params: Any) -> dict[str, Any]:
    status = str(params.get("statut", "open"))
    return {
        "status": status if status in {"open", "closed", "all"} else "open",
        "mine": params.get("miens") == "1",
        "structure_id": _uuid(params.get("structure")),
        "territory": params.get("territoire") == "1",
    }
