"""Who verified a record of the directory, and when: every save and every import stamps
the structures and services it writes, so that nobody types a verification date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

VERIFICATION_COLUMNS = ("verified_at", "verified_by_kind", "verified_by")

# verified_by_kind values, with how the structure page names them.
KINDS = {
    "coordinator": "coordination",
    "admin": "administration",
    "advisor": "conseiller·ère",
    "partner_link": "le partenaire, par son lien",
    "import": "import",
    "legacy": "date saisie à la main avant l'historique",
}


@dataclass(frozen=True)
class Verifier:
    """Who vouches for a record as it is written: an account (its role is the kind), a
    partner through its personal link, or an import and its source."""

    kind: str
    label: str
    at: datetime | None = None  # None: the moment of the write

    def stamp(self) -> dict[str, Any]:
        return {
            "verified_at": self.at or datetime.now(UTC),
            "verified_by_kind": self.kind,
            "verified_by": self.label[:300],
        }


def csv_import(file_name: str) -> Verifier:
    return Verifier("import", f"import CSV ({file_name})")


def data_inclusion_import(source: str, date_maj: date) -> Verifier:
    """A data·inclusion record vouches for itself as of its own update date."""
    return Verifier(
        "import",
        f"import data·inclusion ({source}, {date_maj.strftime('%d/%m/%Y')})",
        datetime.combine(date_maj, time(), UTC),
    )
