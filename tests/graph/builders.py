"""Small constructors for hand-made graphs: a test names only what its answer depends on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from graph.records import (
    ConventionEdge,
    PersonNode,
    RelationshipEdge,
    StructureNode,
)


def structure(
    id: str, name: str | None = None, domains: Iterable[str] = (), communes: Iterable[str] = ()
) -> StructureNode:
    return StructureNode(
        id=id,
        name=name or id,
        kind="association",
        network="",
        domains=frozenset(domains),
        communes=frozenset(communes),
        status="active",
    )


def person(id: str, structure_id: str, active: bool = True) -> PersonNode:
    return PersonNode(id=id, structure_id=structure_id, name=f"Personne {id}", active=active)


def link(
    id: str, source: str, target: str, level: str = "operational", to_person: bool = False
) -> RelationshipEdge:
    return RelationshipEdge(
        id=id,
        source=source,
        target=target,
        target_is_person=to_person,
        level=level,
        kind="partnership",
    )


def convention(
    id: str,
    structures: Iterable[str],
    referents: Iterable[str] = (),
    status: str = "active",
    level: str = "operational",
    domains: Iterable[str] = (),
    end: date | None = None,
) -> ConventionEdge:
    return ConventionEdge(
        id=id,
        structures=tuple(structures),
        level=level,
        domains=frozenset(domains),
        status=status,
        end=end,
        referents=tuple(referents),
        title=f"Convention {id}",
    )
