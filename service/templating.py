"""Filters and globals the templates use to show stored values in plain French."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jinja2
from jinja2 import pass_context
from jinja2.runtime import Context
from litestar.plugins.jinja import JinjaTemplateEngine
from markupsafe import Markup

from directory.gazetteer import load_gazetteer
from directory.history import FIELD_LABELS
from directory.hours import LOCAL_TIME, status_now, week_table
from directory.hours import describe as describe_hours
from directory.schemas import STRUCTURE_KINDS
from directory.validation import display_phone
from directory.verification import KINDS as VERIFIER_KINDS
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
from service import i18n
from service.once import once_input
from service.referrals.machine import Status
from service.referrals.schemas import AGE_RANGES
from service.static_urls import static_url


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


def age(moment: datetime | None) -> str:
    """How long ago, in days, as people say it: "aujourd'hui", "hier", "il y a 12 jours"."""
    if moment is None:
        return ""
    days = (datetime.now(LOCAL_TIME).date() - moment.astimezone(LOCAL_TIME).date()).days
    if days <= 0:
        return "aujourd'hui"
    return "hier" if days == 1 else f"il y a {days} jours"


def _change_labels() -> dict[str, dict[str, str]]:
    """Codes the history shows by their French label, per field."""
    return {
        # A structure's kind or a relationship's: their codes do not overlap.
        "kind": {**{k.value: k.label for k in RelationshipKind}, **STRUCTURE_KINDS},
        "network": NETWORKS,
        "status": {s.value: s.label for s in StructureStatus},
        "domains": {d.value: lbl for d, lbl in DOMAIN_LABELS.items()},
        "thematiques": THEMATIQUES,
        "publics": PUBLICS,
        "preferred_channel": {c.value: c.label for c in Channel},
        "level": {lv.value: lbl for lv, lbl in LEVEL_LABELS.items()},
    }


def change_value(value: object, field: str = "") -> str:
    """A value of the directory's history, as a reader says it: codes by their label."""
    if value is None or value == "" or value == []:
        return "(vide)"
    if isinstance(value, bool):
        return "oui" if value else "non"
    labels = _change_labels().get(field, {})
    if field == "commune" and isinstance(value, str):
        return commune_name(value)
    if field == "phone" and isinstance(value, str):
        return display_phone(value)  # stored as +33…, read as on the record's page
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def commune_name(insee: str) -> str:
    commune = load_gazetteer().get(insee)
    return commune.label if commune else insee


def km(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}".replace(".", ",") + " km"


@pass_context
def week_in(context: Context, expression: str) -> list[tuple[str, str]]:
    """The week's opening hours in the page's language (French on staff pages)."""
    return week_table(expression, words=i18n.hours_words(context.get("lang", i18n.DEFAULT)))


@pass_context
def open_now_in(context: Context, expression: str) -> str:
    """« Ouvert jusqu'à 12 h 00 » in the page's language."""
    return status_now(expression, words=i18n.hours_words(context.get("lang", i18n.DEFAULT)))


def install_i18n(env: jinja2.Environment) -> None:
    """Jinja's i18n extension, speaking French unless a page passes its language's
    callables (service.i18n.jinja_context): staff pages never do."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True
    # New style: `_("Bonjour %(name)s", name=…)` and variables escaped in HTML.
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(i18n.jinja_context(i18n.DEFAULT))
    env.globals["LANGUAGES"] = i18n.LANGUAGES
    env.globals["LANGUAGE_NAMES_FR"] = i18n.LANGUAGE_NAMES_FR
    env.filters.update(
        {
            "when": i18n.when_filter,
            "day": i18n.day_filter,
            "t": i18n.translate_filter,
            "week_in": week_in,
            # A name or an address inside a sentence keeps its own direction (Arabic pages).
            "bdi": lambda value: Markup("<bdi>%s</bdi>") % value,
            "open_now_in": open_now_in,
        }
    )


def register_template_helpers(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    install_i18n(env)
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
            "age": age,
            "commune": commune_name,
            "lookup": lambda value, mapping: mapping.get(value, value),
            "change_value": change_value,
        }
    )
    env.globals["static"] = static_url
    env.globals.update(
        {
            "once_input": once_input,
            "FIELD_LABELS": FIELD_LABELS,
            "VERIFIER_KINDS": VERIFIER_KINDS,
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
