"""Conventions: record, amend, terminate, attach the signed PDF, and find the one whose
commitments apply to a referral between two structures."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from conventions.lifecycle import can_terminate, status
from conventions.schemas import ConventionRead, ConventionWrite, PartyRead, Termination
from conventions.tables import Convention, ConventionParty
from directory.errors import Conflict, Invalid, NotFound
from directory.hours import local_date
from directory.store import writing
from directory.tables import Person, Structure

MAX_PDF_BYTES = 10 * 1024 * 1024


def _today() -> date:
    return local_date()


async def _check(data: ConventionWrite) -> dict[str, str]:
    errors: dict[str, str] = {}
    structure_ids = [p.structure_id for p in data.parties]
    if len(set(structure_ids)) != len(structure_ids):
        errors["parties"] = "Une même structure figure deux fois parmi les signataires."
    found = {
        row["id"]
        for row in await Structure.select(Structure.id).where(Structure.id.is_in(structure_ids))
    }
    if missing := [str(s) for s in structure_ids if s not in found]:
        errors["parties"] = "Structures introuvables : " + ", ".join(missing)
    referents = [p.referent_id for p in data.parties if p.referent_id is not None]
    if referents:
        people = {
            row["id"]: row["structure"]
            for row in await Person.select(Person.id, Person.structure).where(
                Person.id.is_in(referents)
            )
        }
        for party in data.parties:
            if (
                party.referent_id is not None
                and people.get(party.referent_id) != party.structure_id
            ):
                errors["parties"] = (
                    "Le ou la référent·e de chaque signataire doit travailler dans cette structure."
                )
    if data.ends_on is not None and data.ends_on <= data.starts_on:
        errors["ends_on"] = "La fin doit venir après le début."
    if data.signed_on is not None and data.signed_on > _today():
        errors["signed_on"] = "La date de signature ne peut pas être dans le futur."
    if (
        data.acknowledge_days is not None
        and data.answer_days is not None
        and data.answer_days < data.acknowledge_days
    ):
        errors["answer_days"] = "Le délai de réponse ne peut pas être plus court que l'accusé."
    return errors


def _values(data: ConventionWrite) -> dict[Any, Any]:
    return {
        Convention.title: data.title.strip(),
        Convention.level: data.level.value,
        Convention.domains: sorted({d.value for d in data.domains}),
        Convention.signed_on: data.signed_on,
        Convention.starts_on: data.starts_on,
        Convention.ends_on: data.ends_on,
        Convention.acknowledge_days: data.acknowledge_days,
        Convention.answer_days: data.answer_days,
        Convention.commitments: data.commitments.strip(),
    }


async def create(data: ConventionWrite) -> UUID:
    if errors := await _check(data):
        raise Invalid(errors)
    now = datetime.now(UTC)
    async with writing():
        row = Convention(created_at=now, updated_at=now)
        for column, value in _values(data).items():
            setattr(row, column._meta.name, value)
        await row.save()
        await _write_parties(row.id, data)
    return row.id


async def update(convention_id: UUID, data: ConventionWrite) -> None:
    await _row(convention_id)
    if errors := await _check(data):
        raise Invalid(errors)
    async with writing():
        await Convention.update({**_values(data), Convention.updated_at: datetime.now(UTC)}).where(
            Convention.id == convention_id
        )
        await ConventionParty.delete().where(ConventionParty.convention == convention_id)
        await _write_parties(convention_id, data)


async def _write_parties(convention_id: UUID, data: ConventionWrite) -> None:
    await ConventionParty.insert(
        *[
            ConventionParty(
                convention=convention_id, structure=p.structure_id, referent=p.referent_id
            )
            for p in data.parties
        ]
    )


async def terminate(convention_id: UUID, termination: Termination) -> None:
    """End a convention early, with its reason; an expired or already ended one cannot be."""
    row = await _row(convention_id)
    current = status(
        row["signed_on"], row["starts_on"], row["ends_on"], row["terminated_on"], _today()
    )
    if not can_terminate(current):
        raise Conflict(f"Une convention « {current.label.lower()} » ne peut pas être résiliée.")
    if termination.on < row["starts_on"]:
        raise Invalid({"on": "La résiliation ne peut pas précéder le début de la convention."})
    await Convention.update(
        {
            Convention.terminated_on: termination.on,
            Convention.termination_reason: termination.reason.strip(),
            Convention.updated_at: datetime.now(UTC),
        }
    ).where(Convention.id == convention_id)


async def attach_pdf(convention_id: UUID, filename: str, content: bytes, media: Path) -> None:
    """Keep the signed PDF in the media folder; checked for size and for being a PDF."""
    row = await _row(convention_id)
    if len(content) > MAX_PDF_BYTES:
        raise Invalid({"pdf": "Le fichier dépasse 10 Mo."})
    if not content.startswith(b"%PDF-"):
        raise Invalid({"pdf": "Ce fichier n'est pas un PDF."})
    folder = media / "conventions"
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{convention_id}-{secrets.token_hex(8)}.pdf"
    temporary = folder / f".{stored}.part"
    temporary.write_bytes(content)
    temporary.rename(folder / stored)
    await Convention.update(
        {
            Convention.pdf_file: stored,
            Convention.pdf_name: Path(filename).name[:200] or "convention.pdf",
        }
    ).where(Convention.id == convention_id)
    if row["pdf_file"]:
        (folder / row["pdf_file"]).unlink(missing_ok=True)


async def pdf_path(convention_id: UUID, media: Path) -> tuple[Path, str]:
    row = await _row(convention_id)
    if not row["pdf_file"]:
        raise NotFound("PDF de la convention")
    return media / "conventions" / row["pdf_file"], row["pdf_name"]


async def _row(convention_id: UUID) -> dict[str, Any]:
    row = await Convention.select().where(Convention.id == convention_id).first()
    if row is None:
        raise NotFound("Convention")
    return row


async def read_many(
    convention_ids: list[UUID] | None = None,
    structure_id: UUID | None = None,
    today: date | None = None,
) -> list[ConventionRead]:
    today = today or _today()
    query = Convention.select()
    if convention_ids is not None:
        query = query.where(Convention.id.is_in(convention_ids or [UUID(int=0)]))
    if structure_id is not None:
        query = query.where(
            Convention.id.is_in(
                ConventionParty.select(ConventionParty.convention).where(
                    ConventionParty.structure == structure_id
                )
            )
        )
    rows = await query.order_by(Convention.starts_on, ascending=False)
    if not rows:
        return []
    parties = await ConventionParty.select(
        ConventionParty.convention,
        ConventionParty.structure,
        ConventionParty.referent,
        ConventionParty.structure.name.as_alias("structure_name"),
        ConventionParty.referent.first_name.as_alias("first_name"),
        ConventionParty.referent.last_name.as_alias("last_name"),
        ConventionParty.referent.email.as_alias("email"),
        ConventionParty.referent.active.as_alias("active"),
    ).where(ConventionParty.convention.is_in([r["id"] for r in rows]))
    by_convention: dict[UUID, list[PartyRead]] = {}
    for p in parties:
        by_convention.setdefault(p["convention"], []).append(
            PartyRead(
                structure_id=p["structure"],
                structure_name=p["structure_name"],
                referent_id=p["referent"],
                referent_name=f"{p['first_name']} {p['last_name']}" if p["referent"] else "",
                referent_email=p["email"] or "",
                referent_active=bool(p["active"]) if p["referent"] else False,
            )
        )
    result = []
    for r in rows:
        current = status(r["signed_on"], r["starts_on"], r["ends_on"], r["terminated_on"], today)
        result.append(
            ConventionRead(
                id=r["id"],
                title=r["title"],
                level=r["level"],
                domains=list(r["domains"]),
                status=current,
                status_label=current.label,
                signed_on=r["signed_on"],
                starts_on=r["starts_on"],
                ends_on=r["ends_on"],
                terminated_on=r["terminated_on"],
                termination_reason=r["termination_reason"],
                acknowledge_days=r["acknowledge_days"],
                answer_days=r["answer_days"],
                commitments=r["commitments"],
                has_pdf=bool(r["pdf_file"]),
                pdf_name=r["pdf_name"],
                parties=sorted(by_convention.get(r["id"], []), key=lambda p: p.structure_name),
            )
        )
    return result


async def read(convention_id: UUID) -> ConventionRead:
    found = await read_many([convention_id])
    if not found:
        raise NotFound("Convention")
    return found[0]


async def applying_to(
    from_structure: UUID, to_structure: UUID, today: date | None = None
) -> ConventionRead | None:
    """The convention in force that binds both structures and commits to referral delays;
    when several do, the one with the shortest answer delay (the strongest commitment)."""
    today = today or _today()
    shared = await ConventionParty.select(ConventionParty.convention).where(
        ConventionParty.structure == from_structure
    )
    ids = [r["convention"] for r in shared]
    if not ids:
        return None
    both = await ConventionParty.select(ConventionParty.convention).where(
        (ConventionParty.structure == to_structure) & ConventionParty.convention.is_in(ids)
    )
    candidates = [
        c
        for c in await read_many([r["convention"] for r in both], today=today)
        if c.status.in_force and (c.acknowledge_days or c.answer_days)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda c: (c.answer_days or 10_000, c.acknowledge_days or 10_000))
