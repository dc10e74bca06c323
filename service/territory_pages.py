"""What the territory pages and the coverage API show, built apart from HTTP: the list with
its creation form, and one territory's coverage (the same figures for the page and the API)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar.datastructures import UploadFile

from directory.errors import Invalid
from directory.territories import all_territories, codes_from_text, save
from directory.text import fold
from directory.vocabulary import Domain
from graph.coverage import CoverageCell
from service import coverage as cov
from service import coverage_map as cmap
from service.accounts.store import Actor


def parse_reach(text: str) -> dict[str, float]:
    """« santé=30 mobilité=20 » (French labels or codes) -> {"health": 30.0, ...}."""
    by_name = {fold(d.label): d.value for d in Domain} | {d.value: d.value for d in Domain}
    reach: dict[str, float] = {}
    for part in text.replace(",", " ").replace(";", " ").split():
        name, _, km = part.partition("=")
        domain = by_name.get(fold(name))
        if domain is None or not km:
            raise Invalid({"reach": f"Portée illisible : « {part} » (exemple : santé=30)."})
        try:
            reach[domain] = float(km.replace(",", "."))
        except ValueError:
            raise Invalid({"reach": f"Distance illisible : « {km} »."}) from None
    return reach


def domain_or_housing(value: str, field: str = "domain") -> str:
    """A domain code (or French label) from a link; empty shows housing, the first gap
    people ask about; anything else is a 400 naming it."""
    return cmap.parse_domain(value, field)


async def list_context(
    actor: Actor, errors: dict[str, str] | None = None, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The territories, with the form to define one (back with its errors when refused)."""
    return {
        "actor": actor,
        "items": await all_territories(),
        "errors": errors or {},
        "values": values or {},
    }


async def create_from_form(form: Mapping[str, Any], actor: Actor) -> UUID:
    """A territory from the page's form: codes typed and/or a CSV file; raises Invalid."""
    text = str(form.get("codes", ""))
    upload = form.get("csv")
    if isinstance(upload, UploadFile) and upload.filename:
        text += "\n" + (await upload.read()).decode("utf-8-sig", errors="replace")
    return await save(
        str(form.get("name", "")),
        codes_from_text(text),
        parse_reach(str(form.get("reach", ""))),
        actor.structure_id,
    )


@dataclass
class Overview:
    """A territory's coverage and what both the page and the API say of it."""

    inputs: cov.Inputs
    cells: list[CoverageCell]
    summary: dict[str, dict[str, int]]
    holes: list[CoverageCell]
    unmet: list[dict[str, Any]]


async def overview(territory_id: UUID, domains: list[str] | None = None) -> Overview:
    inputs = await cov.load_inputs(territory_id)
    cells = cov.compute(inputs, domains)
    unmet = await cov.unmet_searches(inputs.territory)
    return Overview(inputs, cells, cov.summary(cells), cov.holes(cells), unmet)


async def coverage_page_context(
    actor: Actor, territory_id: UUID, domain: str, without: str
) -> dict[str, Any]:
    """The gap map of one domain, the tables, and what changes without one partner or one
    person of that domain."""
    domain = cmap.parse_domain(domain)
    seen = await overview(territory_id)
    inputs, cells = seen.inputs, seen.cells
    structures, people = await cmap.what_if_choices(inputs, cells, domain)
    return {
        "actor": actor,
        "t": inputs.territory,
        "domain": domain,
        "domain_label": cmap.domain_label(domain),
        "reach": cmap.number(inputs.territory.reach_km.get(domain, 15.0)),
        "population": cmap.number(inputs.territory.population),
        "communes_count": cmap.number(len(inputs.territory.communes)),
        "rows": _commune_rows(inputs, cells, domain),
        "summary": _summary_rows(seen.summary),
        "holes": _hole_rows(inputs, cov.holes(cells, domain=domain)),
        "unmet": [u for u in seen.unmet if u["domain"] in (domain, "*")][:20],
        "changes": await cmap.changes(inputs, cells, domain, without) if without else [],
        "without": without,
        "without_label": cmap.choice_label(without, structures + people),
        "structures": structures,
        "people": people,
        "legend": cov.LEGEND,
    }


def _commune_rows(
    inputs: cov.Inputs, cells: list[CoverageCell], domain: str
) -> list[dict[str, Any]]:
    """The accessible table beside the map: the same communes, classes, reasons and
    partners (with links), the worst and most populated first."""
    names = {c.insee: c.name for c in inputs.communes}
    reach = float(inputs.territory.reach_km.get(domain, 15.0))
    mine = [c for c in cells if c.domain == domain]
    mine.sort(key=lambda c: (cmap.CLASS_ORDER[c.klass], -c.population, names.get(c.insee, "")))
    return [
        {
            "insee": c.insee,
            "name": names.get(c.insee, c.insee),
            "population": cmap.number(c.population),
            "klass": c.klass,
            "class_label": cov.CLASS_LABELS[c.klass],
            "why": cmap.why(c, reach),
            "partners": cmap.partner_links(inputs, c.providers),
            "remote": cmap.number(len(c.remote)),
        }
        for c in mine
    ]


def _summary_rows(summary: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """Inhabitants per class and domain, each with its share of the territory."""
    rows = []
    for domain, per_class in summary.items():
        whole = sum(per_class.values())
        rows.append(
            {
                "domain": domain,
                "cells": {
                    k: (cmap.number(v), cmap.percent(v, whole)) for k, v in per_class.items()
                },
            }
        )
    return rows


def _hole_rows(inputs: cov.Inputs, holes: list[CoverageCell]) -> list[dict[str, Any]]:
    names = {c.insee: c.name for c in inputs.communes}
    return [
        {
            "insee": c.insee,
            "name": names.get(c.insee, c.insee),
            "class_label": cov.CLASS_LABELS[c.klass],
            "reasons": [cov.REASON_LABELS[r] for r in c.reasons],
            "population": cmap.number(c.population),
        }
        for c in holes
    ]


async def coverage_body(
    territory_id: UUID, domain: str, without: str, without_person: UUID | None
) -> dict[str, Any]:
    """The API's coverage: every cell (or one domain's), and what-if a partner or a person
    leaves."""
    domains = [domain_or_housing(domain)] if domain else None
    seen = await overview(territory_id, domains)
    body: dict[str, Any] = {
        "cells": seen.cells,
        "population_summary": seen.summary,
        "worst_holes": cov.holes(seen.cells, domain=domains[0] if domains else None),
        "unmet_searches": seen.unmet,
    }
    if without or without_person:
        after = (
            await cov.fragility_if_person_leaves(seen.inputs, without_person)
            if without_person
            else None
        )
        pairs = cov.worsened(seen.inputs, {without} if without else set(), domains, after)
        body["what_if"] = [{"before": before, "after": changed} for before, changed in pairs]
    return body
