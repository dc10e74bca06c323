"""Query parameters shared by the pages and the API, bounded once here: the OpenAPI schema
documents the bounds, and what lies beyond them (a page number past any database integer,
a 60 KB search phrase) is refused with a 400 naming the parameter."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

# 10,000 pages of 100 rows: far beyond any directory, far below a 64-bit offset.
MAX_PAGE = 10_000
# A need, a place or a few words; SQLite refuses LIKE patterns past 50,000 bytes.
MAX_QUERY_TEXT = 200

PageNumber = Annotated[
    int, QueryParameter(ge=1, le=MAX_PAGE, description="Numéro de page, de 1 à 10 000.")
]
QueryText = Annotated[
    str,
    QueryParameter(max_length=MAX_QUERY_TEXT, description="Texte libre, 200 caractères au plus."),
]

# Litestar reserves the name `scope`: the handlers call it `area`.
DuplicateScope = Annotated[
    str,
    QueryParameter(
        name="scope",
        max_length=60,
        description="d:<département>, t:<territory id> or france (admins).",
    ),
]
