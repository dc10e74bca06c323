"""Referral activity through the API: every figure as JSON, and each table as CSV (cells
a spreadsheet cannot run, directory/csv_cells.py). Coordinators and administrators only."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from directory.csv_cells import rows_to_csv
from directory.errors import NotFound
from service.accounts.store import Actor
from service.referrals.activity_load import Filters, activity
from service.referrals.activity_view import ActivityOut, TerritoryOut, as_json, tables

FILTERS = (
    "`du` and `au`: first and last Paris month, YYYY-MM (default: the last 12 months); "
    "`territoire`: a territory's id (a coordinator may choose their structure's). "
    "Unreadable values get a 400 naming the parameter."
)


def territory_out(filters: Filters) -> TerritoryOut | None:
    if filters.territory_id is None:
        return None
    return TerritoryOut(filters.territory_id, filters.territory_name)


def csv_table(name: str, made: dict[str, Any], filters: Filters) -> Response:
    """One table as CSV, named after it and its period."""
    table = made.get(name.removesuffix(".csv"))
    if table is None or not name.endswith(".csv"):
        raise NotFound(f"Tableau « {name} »")
    # An empty table still says what its columns are.
    text = rows_to_csv(table.rows) or ",".join(c.key for c in table.columns) + "\r\n"
    period = f"{filters.period.first}_{filters.period.last}"
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="activite-{table.name}-{period}.csv"'
        },
    )


class ActivityController(Controller):
    path = "/activite"
    tags = ("Activité des orientations",)

    @get(
        "/",
        summary="Referral activity: per month, domain, partner, sender; outcomes; times",
        description=FILTERS,
    )
    async def read(
        self,
        actor: NamedDependency[Actor],
        du: FromQuery[str] = "",
        au: FromQuery[str] = "",
        territoire: FromQuery[str] = "",
    ) -> ActivityOut:
        filters, result = await activity(actor, du, au, territoire)
        return as_json(result, territory_out(filters))

    @get(
        "/{name:str}",
        summary="One table of the activity as CSV (e.g. mois.csv)",
        description=FILTERS,
    )
    async def table(
        self,
        name: FromPath[str],
        actor: NamedDependency[Actor],
        du: FromQuery[str] = "",
        au: FromQuery[str] = "",
        territoire: FromQuery[str] = "",
    ) -> Response:
        filters, result = await activity(actor, du, au, territoire)
        return csv_table(name, tables(result), filters)
