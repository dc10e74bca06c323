"""Filters and globals the templates use to show stored values in plain French."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar.plugins.jinja import JinjaTemplateEngine

from directory.gazetteer import load_gazetteer
from directory.hours import LOCAL_TIME, status_now, week_table
from directory.hours import describe as describe_hours
from directory.schemas import STRUCTURE_KINDS
from directory.validation import display_phone
from directory.vocabulary import (
    DOMAIN_LABELS,
    LEVEL_LABELS,
    NETWORKS,
    PUBLICS,
    THEMATIQUES,
    Channel,
    Domain,
    Level,
    RelationshipKind,
    StructureStatus,
)
from service.once import once_input
from service.referrals.machine import Status
from service.referrals.schemas import AGE_RANGES


def _label(table: dict[Any, str], value: Any) -> str:
    return table.get(value, str(value) if value is not None else "")


def zone_label(code: str) -> str:
    """'26' -> 'Drôme (26)', an EPCI SIREN -> its name, 'france' -> 'toute la France'."""
    gazetteer = load_gazetteer()
    kind = gazetteer.zone_kind(code)
    if kind == "france":
        return "toute la France"
    if kind == "commune":
        commune = gazetteer.get(code)
        return commune.label if commune else code
    name = gazetteer.name_of(kind, code) if kind else ""
    return f"{name} ({code})" if name and kind == "departement" else name or code


def date_fr(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%d/%m/%Y") if moment else ""


def datetime_fr(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%d/%m/%Y à %H:%M") if moment else ""


def commune_name(insee: str) -> str:
    commune = load_gazetteer().get(insee)
    return commune.label if commune else insee


def km(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}".replace(".", ",") + " km"


def register_template_helpers(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.filters.update(
        {
            "phone": display_phone,
            "domain": lambda v: _label({d.value: lbl for d, lbl in DOMAIN_LABELS.items()}, v),
            "level": lambda v: _label({lv.value: lbl for lv, lbl in LEVEL_LABELS.items()}, v),
            "thematique": lambda v: _label(THEMATIQUES, v),
            "public": lambda v: _label(PUBLICS, v),
            "network": lambda v: _label(NETWORKS, v),
            "kind": lambda v: _label(STRUCTURE_KINDS, v),
            "channel": lambda v: Channel(v).label if v else "",
            "relationship_kind": lambda v: RelationshipKind(v).label if v else "",
            "status": lambda v: StructureStatus(v).label if v else "",
            "week": week_table,
            "hours_text": describe_hours,
            "open_now": status_now,
            "km": km,
            "zone": zone_label,
            "date_fr": date_fr,
            "datetime_fr": datetime_fr,
            "commune": commune_name,
            "lookup": lambda value, mapping: mapping.get(value, value),
        }
    )
    env.globals.update(
        {
            "once_input": once_input,
            "DOMAINS": [(d.value, d.label) for d in Domain],
            "LEVELS": [(lv.value, lv.label) for lv in Level],
            "THEMATIQUES": THEMATIQUES,
            "PUBLICS": PUBLICS,
            "NETWORKS": NETWORKS,
            "KINDS": STRUCTURE_KINDS,
            "CHANNELS": [(c.value, c.label) for c in Channel],
            "RELATIONSHIP_KINDS": [(k.value, k.label) for k in RelationshipKind],
            "STATUSES": [(s.value, s.label) for s in StructureStatus],
            "STATUS_CHOICES": [(s.value, s.label) for s in Status],
            "AGE_RANGES": AGE_RANGES,
        }
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
