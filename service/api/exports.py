"""The directory in exchange formats through the API: Open Referral HSDS 3.0, page by page
as the HSDS API itself pages its answers, so that a national directory (100,000
organizations) is read in bounded requests."""

from __future__ import annotations

import math
from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import QueryParameter
from msgspec import Struct

from directory import hsds
from service.params import PageNumber

PerPage = Annotated[
    int,
    QueryParameter(
        ge=1, le=500, description="Organisations par page, de 1 à 500 (100 par défaut)."
    ),
]
WithContacts = Annotated[
    bool,
    QueryParameter(
        description="Inclure les personnes en poste (nom, fonction, courriel et téléphone "
        "professionnels) comme contacts ; false pour un fichier sans données personnelles."
    ),
]


class HsdsPage(Struct):
    """The `Page` of the HSDS 3.0 API (openapi.json), holding fully nested organizations."""

    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool
    contents: list[dict[str, Any]]


class ExportController(Controller):
    path = "/exports"
    tags = ("Exports",)

    @get(
        "/hsds",
        summary="The directory as Open Referral HSDS 3.0 organizations, fully nested, by page",
    )
    async def hsds_organizations(
        self, page: PageNumber = 1, per_page: PerPage = 100, contacts: WithContacts = True
    ) -> HsdsPage:
        total = await hsds.count_organizations()
        contents = await hsds.organizations((page - 1) * per_page, per_page, contacts)
        pages = math.ceil(total / per_page)
        return HsdsPage(
            total_items=total,
            total_pages=pages,
            page_number=page,
            size=len(contents),
            first_page=page == 1,
            last_page=page >= pages,
            empty=not contents,
            contents=contents,
        )
