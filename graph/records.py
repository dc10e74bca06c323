"""The plain records `graph/` is built from. `service/` reads them from the database; tests
and the benchmark write them by hand. Ids are strings (UUIDs in the database) so that the
graph, its exports and the analyses' results carry the same identifiers as the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# The charter's three levels of partnership, in the order pages show them.
LEVELS: tuple[str, ...] = ("operational", "organisational", "political")

CONVENTION_STATUSES: tuple[str, ...] = ("draft", "active", "expiring", "expired", "terminated")
# A convention in force binds its parties today; one being drafted still names the people
# who will hold it, so both count when asking who a partnership rests on.
IN_FORCE: frozenset[str] = frozenset({"active", "expiring"})
LIVE: frozenset[str] = frozenset({"draft", "active", "expiring"})


@dataclass(frozen=True, slots=True)
class StructureNode:
    """A structure of the mesh. `domains` are the charter's domains its services cover,
    `communes` the INSEE codes of the communes where it has a site."""

    id: str
    name: str
    kind: str
    network: str
    domains: frozenset[str]
    communes: frozenset[str]
    status: str


@dataclass(frozen=True, slots=True)
class PersonNode:
    """A person who works at a structure; `active` is False once they have left it."""

    id: str
    structure_id: str
    name: str
    active: bool


@dataclass(frozen=True, slots=True)
class RelationshipEdge:
    """A relationship from a structure to another structure, or to a person of another
    structure (`target_is_person`). `level` is one of LEVELS."""

    id: str
    source: str
    target: str
    target_is_person: bool
    level: str
    kind: str


@dataclass(frozen=True, slots=True)
class ConventionEdge:
    """A convention between two or more structures. `referents` are the ids of the people
    it names, on any side; `status` is one of CONVENTION_STATUSES."""

    id: str
    structures: tuple[str, ...]
    level: str
    domains: frozenset[str]
    status: str
    end: date | None
    referents: tuple[str, ...]
    title: str = ""


@dataclass(frozen=True, slots=True)
class ReferralFlow:
    """Referrals sent from one structure to another over the period the caller chose, and
    how many of them never got an answer (unanswered and expired referrals both count)."""

    source: str
    target: str
    count: int
    unanswered: int


@dataclass(frozen=True, slots=True)
class ServiceCoverage:
    """The communes (INSEE codes) a structure serves for one domain."""

    structure_id: str
    domain: str
    communes: frozenset[str]
