"""What the convention pages show and how their forms are read, apart from HTTP: the form
to record or amend a convention, and the two forms on a convention's page (terminate,
attach the signed PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from litestar.datastructures import UploadFile

from conventions import store
from conventions.schemas import ConventionRead, ConventionWrite, Termination
from directory.errors import Conflict, Invalid
from directory.tables import Person, Structure
from directory.vocabulary import Domain, Level
from service.accounts.store import Actor
from service.forms import french


async def choices() -> dict[str, Any]:
    structures = await Structure.select(Structure.id, Structure.name).order_by(Structure.name)
    people = await Person.select(
        Person.id,
        Person.first_name,
        Person.last_name,
        Person.structure,
        Person.structure.name.as_alias("structure_name"),
        Person.active,
    ).order_by(Person.last_name)
    return {
        "structures": structures,
        "people": people,
        "domains": [(d.value, d.label) for d in Domain],
        "levels": [(lv.value, lv.label) for lv in Level],
    }


async def parse_form(form: Any) -> ConventionWrite:
    """Structures and referents come as two lists: each referent is matched to its own
    structure, and a structure may have one referent."""
    errors: dict[str, str] = {}
    structure_ids = [s for s in form.getall("structures", []) if s]
    referent_ids = [p for p in form.getall("referents", []) if p]
    if len(structure_ids) < 2:
        errors["structures"] = "Une convention lie au moins deux structures."
    works_at: dict[str, str] = {}
    if referent_ids:
        rows = await Person.select(Person.id, Person.structure).where(
            Person.id.is_in([UUID(r) for r in referent_ids])
        )
        works_at = {str(r["id"]): str(r["structure"]) for r in rows}
    referent_of: dict[str, str] = {}
    for person in referent_ids:
        structure = works_at.get(person)
        if structure is None or structure not in structure_ids:
            errors["referents"] = "Chaque référent·e doit travailler dans une structure signataire."
        elif structure in referent_of:
            errors["referents"] = "Un·e seul·e référent·e par structure."
        else:
            referent_of[structure] = person
    raw: dict[str, Any] = {
        "title": str(form.get("title", "")).strip(),
        "level": form.get("level") or "",
        "domains": form.getall("domains", []),
        "parties": [
            {"structure_id": s, **({"referent_id": referent_of[s]} if s in referent_of else {})}
            for s in structure_ids
        ],
    }
    for name in ("starts_on", "signed_on", "ends_on", "acknowledge_days", "answer_days"):
        if str(form.get(name, "")).strip():
            raw[name] = str(form.get(name)).strip()
    raw["commitments"] = str(form.get("commitments", ""))
    if not raw["title"]:
        errors["title"] = "Le titre est obligatoire."
    if not raw["level"]:
        errors["level"] = "Choisissez le niveau."
    if "starts_on" not in raw:
        errors["starts_on"] = "La date de début est obligatoire."
    if errors:
        raise Invalid(errors)
    try:
        return msgspec.convert(raw, ConventionWrite, strict=False)
    except msgspec.ValidationError as error:
        field = str(error).rsplit("$.", 1)[-1].rstrip("`").split("[")[0].split(".")[0]
        raise Invalid({field or "form": french(str(error))}) from error


async def form_context(
    actor: Actor,
    values: dict[str, Any],
    errors: dict[str, str],
    convention: ConventionRead | None,
) -> dict[str, Any]:
    """The form to record a convention (or amend `convention`), with the lists to pick from."""
    return {
        "actor": actor,
        "values": values,
        "errors": errors,
        "convention": convention,
        **await choices(),
    }


async def prefilled_values(
    structures: list[UUID], level: Level | None, title: str
) -> dict[str, Any]:
    """The form's first values from a link (the network page's « Préparer une
    convention »); a structure that does not exist is refused, not silently dropped."""
    names: dict[UUID, str] = {}
    if structures:
        found = await Structure.select(Structure.id, Structure.name).where(
            Structure.id.is_in(structures)
        )
        names = {row["id"]: row["name"] for row in found}
        if len(names) != len(set(structures)):
            raise Invalid({"structures": "Une des structures demandées n'existe pas."})
    return {
        "structures": [str(s) for s in structures],
        # Said above the form: the second party may sit far down the long list.
        "chosen_names": [names[s] for s in structures],
        "level": level.value if level else "",
        "title": title.strip(),
    }


def form_values(form: Any) -> dict[str, Any]:
    """The form as it was typed, its lists kept whole, to show it back with its errors."""
    values = dict(form.items())
    for name in ("structures", "referents", "domains"):
        values[name] = form.getall(name, [])
    return values


def current_values(c: ConventionRead) -> dict[str, Any]:
    """The form filled with a convention as it stands, to amend it."""
    return {
        "title": c.title,
        "level": c.level,
        "domains": [str(d) for d in c.domains],
        "structures": [str(p.structure_id) for p in c.parties],
        "referents": [str(p.referent_id) for p in c.parties if p.referent_id],
        "starts_on": c.starts_on,
        "signed_on": c.signed_on,
        "ends_on": c.ends_on,
        "acknowledge_days": c.acknowledge_days,
        "answer_days": c.answer_days,
        "commitments": c.commitments,
    }


async def page_context(
    actor: Actor, convention_id: UUID, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    return {"actor": actor, "c": await store.read(convention_id), "errors": errors or {}}


async def terminate_from_form(convention_id: UUID, form: Any) -> None:
    """The termination form, applied; raises Invalid naming the `termination` field."""
    try:
        termination = msgspec.convert(
            {"on": form.get("on") or None, "reason": str(form.get("reason", "")).strip()},
            Termination,
            strict=False,
        )
        await store.terminate(convention_id, termination)
    except msgspec.ValidationError:
        raise Invalid({"termination": "Indiquez la date et la raison de la résiliation."}) from None
    except (Invalid, Conflict) as error:
        message = "; ".join(error.errors.values()) if isinstance(error, Invalid) else str(error)
        raise Invalid({"termination": message}) from None


async def attach_upload(convention_id: UUID, upload: UploadFile | None, media_dir: Path) -> None:
    """The signed PDF, attached; raises Invalid naming the `pdf` field."""
    if upload is None or not upload.filename:
        raise Invalid({"pdf": "Choisissez un fichier PDF."})
    await store.attach_pdf(convention_id, upload.filename, await upload.read(), media_dir)
