"""Referral activity as tables (the same for the page, the JSON API and the CSV exports),
French numbers for the page, and bar charts drawn on the server as SVG: no script, and the
table with the same figures stands beside each chart.

Partners and sending structures get a table and no chart: a bar per partner would read as
a league table, which the charter rules out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from babel.numbers import format_decimal, format_percent
from markupsafe import Markup, escape
from msgspec import Struct

from service.referrals.activity import OUTCOMES, Activity, Line
from service.referrals.figures import MINIMUM_COUNT, ResponseFigure, describe


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str = "int"  # text | int | days | share


@dataclass(frozen=True)
class Table:
    name: str  # in links: /api/v1/activite/<name>.csv
    title: str
    columns: tuple[Column, ...]
    rows: list[dict[str, Any]]
    # Rows name a structure: the page links each to its record (rows carry structure_id).
    links: bool = False


_COUNTS = (
    Column("orientations", "Orientations"),
    Column("acceptees", "Acceptées"),
    Column("refusees", "Refusées"),
    Column("reorientees", "Réorientées"),
    Column("expirees", "Expirées sans réponse"),
    Column("sans_reponse", "Sans réponse à ce jour"),
)


def _counts(line: Line) -> dict[str, Any]:
    return {
        "orientations": line.sent,
        "acceptees": line.accepted,
        "refusees": line.outcomes["declined"],
        "reorientees": line.outcomes["redirected"],
        "expirees": line.outcomes["expired"],
        "sans_reponse": line.outcomes["waiting"],
    }


def _median(figure: ResponseFigure | None) -> float | None:
    """The censored median, None when unknown or drawn from too few referrals."""
    if figure is None or figure.median is None or figure.count < MINIMUM_COUNT:
        return None
    return round(figure.median, 1)


def _months(activity: Activity) -> Table:
    return Table(
        "mois",
        "Orientations par mois",
        (
            Column("mois", "Mois", "text"),
            *_COUNTS,
            Column("delai_median_reponse", "Délai médian de réponse (jours ouvrés)", "days"),
            Column("jeunes_en_errance", "Jeunes signalés en errance"),
        ),
        [
            {
                "mois": line.label,
                **_counts(line),
                "delai_median_reponse": _median(line.answer),
                "jeunes_en_errance": line.wandering,
            }
            for line in activity.months
        ],
    )


def _outcomes(activity: Activity) -> Table:
    total = activity.total
    return Table(
        "resultats",
        "Ce que sont devenues les orientations",
        (
            Column("resultat", "Résultat", "text"),
            Column("orientations", "Orientations"),
            Column("part", "Part", "share"),
        ),
        [
            {
                "resultat": label,
                "orientations": total.outcomes[key],
                "part": total.outcomes[key] / total.sent if total.sent else None,
            }
            for key, label in OUTCOMES.items()
        ],
    )


def _wandering(activity: Activity) -> Table:
    return Table(
        "errance",
        "Jeunes signalés en errance, par mois",
        (Column("mois", "Mois", "text"), Column("jeunes_en_errance", "Jeunes signalés")),
        [{"mois": line.label, "jeunes_en_errance": line.wandering} for line in activity.months],
    )


def _reasons(activity: Activity) -> Table:
    return Table(
        "motifs",
        "Motifs des refus",
        (Column("motif", "Motif", "text"), Column("refus", "Refus")),
        [{"motif": label, "refus": count} for _code, label, count in activity.decline_reasons],
    )


def _grouped(
    name: str, title: str, first: Column, lines: list[Line], times: bool, links: bool = False
) -> Table:
    columns: tuple[Column, ...] = (first, *_COUNTS)
    if times:
        columns += (Column("delai_reponse", "Délai habituel de réponse", "text"),)
    rows = []
    for line in lines:
        row = {first.key: line.label, **_counts(line)}
        if times and line.answer is not None:
            row["delai_reponse"] = describe(line.answer, "répondre")
        rows.append({**row, **({"structure_id": line.key} if links else {})})
    return Table(name, title, columns, rows, links)


def tables(activity: Activity) -> dict[str, Table]:
    """Every table of the page, by the name its CSV export is reached at."""
    made = [
        _months(activity),
        _outcomes(activity),
        _reasons(activity),
        _wandering(activity),
        _grouped(
            "domaines",
            "Orientations par domaine",
            Column("domaine", "Domaine", "text"),
            activity.domains,
            False,
        ),
        _grouped(
            "partenaires",
            "Orientations par partenaire qui les reçoit (par ordre alphabétique)",
            Column("partenaire", "Partenaire", "text"),
            activity.receivers,
            True,
            links=True,
        ),
        _grouped(
            "structures",
            "Orientations par structure qui les envoie (par ordre alphabétique)",
            Column("structure", "Structure", "text"),
            activity.senders,
            False,
            links=True,
        ),
    ]
    return {table.name: table for table in made}


def number(value: Any, kind: str = "int") -> str:
    """A cell as French readers write it: 64 458 ; 12,5 % ; 2,5."""
    if value is None:
        return "—"
    if kind == "share":
        return format_percent(value, format="#,##0.# %", locale="fr_FR")
    if kind in {"int", "days"}:
        return format_decimal(value, format="#,##0.#", locale="fr_FR")
    return str(value)


def days(value: float) -> str:
    """A median in working days, as people say it."""
    if value < 1:
        return "moins d'un jour ouvré"
    unit = "jours ouvrés" if value >= 2 else "jour ouvré"
    return f"{number(round(value, 1), 'days')} {unit}"


def plural(count: int, one: str, many: str) -> str:
    """ "1 orientation", "0 orientation", "64 458 orientations" (French: 0 is singular)."""
    return f"{number(count)} {one if count < 2 else many}"


def response_sentence(figure: ResponseFigure | None, what: str) -> str:
    """Plain French for the whole period's censored median; silent below MINIMUM_COUNT
    referrals, where a median would say more about chance than about partners."""
    if figure is None or figure.count < MINIMUM_COUNT:
        observed = figure.count if figure else 0
        return (
            f"Trop peu d'orientations suivies sur la période ({number(observed)}) pour donner "
            f"un délai médian pour {what}."
        )
    if figure.median is None:
        return (
            f"Plus de la moitié des {number(figure.count)} orientations attendent encore de "
            f"{what}, ou n'ont jamais eu de réponse : le délai médian n'est pas encore connu."
        )
    unanswered = figure.count - figure.answered
    return (
        f"Délai médian pour {what} : {days(figure.median)} "
        f"({plural(figure.count, 'orientation', 'orientations')} suivies, dont "
        f"{number(unanswered)} sans réponse à ce jour)."
    )


_BAR_HEIGHT = 18
_ROW = 58
_WIDTH = 600


def bar_chart(caption: str, bars: list[tuple[str, int]], chart_id: str) -> Markup:
    """Horizontal bars, each with its label above it and its value at its end. The SVG is
    one image for assistive technology, named by the caption and the values it shows."""
    top = max((value for _label, value in bars), default=0) or 1
    parts = []
    for index, (label, value) in enumerate(bars):
        y = index * _ROW
        length = round((_WIDTH - 80) * value / top)
        parts.append(
            f'<text class="chart-label" x="0" y="{y + 20}">{escape(label)}</text>'
            f'<rect class="chart-bar" x="0" y="{y + 28}" width="{max(length, 1)}" '
            f'height="{_BAR_HEIGHT}"></rect>'
            f'<text class="chart-value" x="{length + 8}" y="{y + 44}">{number(value)}</text>'
        )
    described = ", ".join(f"{label} : {number(value)}" for label, value in bars) or "aucune"
    height = max(len(bars), 1) * _ROW
    return Markup(
        f'<figure class="chart" id="{escape(chart_id)}">'
        f"<figcaption>{escape(caption)}</figcaption>"
        f'<svg role="img" viewBox="0 0 {_WIDTH} {height}" width="{_WIDTH}" height="{height}" '
        f'aria-label="{escape(caption)} — {escape(described)}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg></figure>'
    )


def charts(activity: Activity, made: dict[str, Table]) -> dict[str, Markup]:
    """The charts beside the tables that have one."""
    months = made["mois"].rows
    return {
        "mois": bar_chart(
            "Orientations envoyées par mois",
            [(row["mois"], row["orientations"]) for row in months],
            "graphique-mois",
        ),
        "resultats": bar_chart(
            "Ce que sont devenues les orientations de la période",
            [(row["resultat"], row["orientations"]) for row in made["resultats"].rows],
            "graphique-resultats",
        ),
        "motifs": bar_chart(
            "Refus par motif",
            [(row["motif"], row["refus"]) for row in made["motifs"].rows],
            "graphique-motifs",
        ),
        "domaines": bar_chart(
            "Orientations par domaine",
            [(row["domaine"], row["orientations"]) for row in made["domaines"].rows],
            "graphique-domaines",
        ),
        "errance": bar_chart(
            "Jeunes signalés en errance, par mois",
            [(row["mois"], row["jeunes_en_errance"]) for row in made["errance"].rows],
            "graphique-errance",
        ),
    }


class FigureOut(Struct):
    """A censored figure: referrals followed, events seen, median in working days (None
    when unknown or drawn from fewer than three referrals)."""

    orientations: int
    evenements: int
    mediane_jours_ouvres: float | None


class DelaysOut(Struct):
    explication: str
    accuse_reception: FigureOut
    reponse: FigureOut


class TableOut(Struct):
    titre: str
    colonnes: list[str]
    lignes: list[dict[str, Any]]


class TerritoryOut(Struct):
    id: UUID
    nom: str


class ActivityOut(Struct):
    """The API's answer: the filters applied, totals, censored medians, every table."""

    du: str
    au: str
    territoire: TerritoryOut | None
    totaux: dict[str, int]
    jeunes_en_errance: int
    delais: DelaysOut
    tableaux: dict[str, TableOut]


def _figure_out(figure: ResponseFigure | None) -> FigureOut:
    if figure is None:
        return FigureOut(0, 0, None)
    return FigureOut(figure.count, figure.answered, _median(figure))


def as_json(activity: Activity, territory: TerritoryOut | None) -> ActivityOut:
    """What the API answers, from the same tables as the page."""
    return ActivityOut(
        du=activity.period.first,
        au=activity.period.last,
        territoire=territory,
        totaux=_counts(activity.total),
        jeunes_en_errance=activity.wandering_young,
        delais=DelaysOut(
            CENSORED, _figure_out(activity.total.acknowledge), _figure_out(activity.total.answer)
        ),
        tableaux={
            name: TableOut(table.title, [c.key for c in table.columns], table.rows)
            for name, table in tables(activity).items()
        },
    )


CENSORED = (
    "Délais en jours ouvrés, en comptant les demandes encore sans réponse, expirées ou "
    "annulées avant toute réponse : chacune compte pour « au moins » le temps déjà attendu "
    "(médiane dite « censurée », estimée par la méthode de Kaplan-Meier). Un délai calculé "
    "sur les seules réponses reçues serait trop flatteur."
)
