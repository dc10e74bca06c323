"""The coordinator's page of referral activity (the same figures as /api/v1/activite)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from service.accounts.store import Actor
from service.referrals.activity import Period, month_label
from service.referrals.activity_load import activity, territory_choices
from service.referrals.activity_view import CENSORED, charts, number, response_sentence, tables


def period_label(period: Period) -> str:
    """ "en mai 2026", "de janvier 2026 à mars 2026"."""
    if period.first == period.last:
        return f"en {month_label(period.first)}"
    return f"de {month_label(period.first)} à {month_label(period.last)}"


async def page_context(actor: Actor, du: str, au: str, territoire: str) -> dict[str, Any]:
    """The page's figures, with its filters filled in and the query its CSV links keep."""
    filters, result = await activity(actor, du, au, territoire)
    made = tables(result)
    return {
        "actor": actor,
        "filters": filters,
        "period_label": period_label(filters.period),
        "territories": await territory_choices(actor),
        "result": result,
        "tables": made,
        "charts": charts(result, made),
        "number": number,
        "answer_sentence": response_sentence(result.total.answer, "répondre"),
        "acknowledge_sentence": response_sentence(result.total.acknowledge, "accuser réception"),
        "censored": CENSORED,
        "csv_query": urlencode(
            {"du": filters.period.first, "au": filters.period.last}
            | ({"territoire": str(filters.territory_id)} if filters.territory_id else {})
        ),
    }


class ActivityPage(Controller):
    path = "/activite"
    include_in_schema = False

    @get("/")
    async def page(
        self,
        actor: NamedDependency[Actor],
        du: FromQuery[str] = "",
        au: FromQuery[str] = "",
        territoire: FromQuery[str] = "",
    ) -> Template:
        context = await page_context(actor, du, au, territoire)
        return Template("activity.html", context=context)
