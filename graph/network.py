"""The partner network as one networkx MultiDiGraph, built from plain records.

Nodes are structures and people (attribute `type`: "structure" | "person"). Edges carry
`type`:

- "relationship": structure -> structure or structure -> person, with `level`, `kind`;
- "membership": person -> the structure they work at, with `active`;
- "convention": one edge per pair of the convention's structures, in the order the record
  lists them, with `level`, `status`, `domains`, `end`, the named `referents` and, for
  each end of the pair, the referents who work there (`source_referents`,
  `target_referents`);
- "flow": referrals source -> target, with `count`, `unanswered` and `weight` = count.

Edge keys are unique in the whole graph, not only per pair, because GraphML and GEXF use
them as edge ids."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import combinations
from typing import Any

import networkx as nx

from graph.records import (
    CONVENTION_STATUSES,
    LEVELS,
    LIVE,
    ConventionEdge,
    PersonNode,
    ReferralFlow,
    RelationshipEdge,
    StructureNode,
)

STRUCTURE = "structure"
PERSON = "person"
RELATIONSHIP = "relationship"
MEMBERSHIP = "membership"
CONVENTION = "convention"
FLOW = "flow"
EDGE_TYPES: tuple[str, ...] = (RELATIONSHIP, MEMBERSHIP, CONVENTION, FLOW)


class GraphInputError(ValueError):
    """A record refers to something the other records do not contain, or holds a value
    outside its vocabulary. The message names the record and the field."""


def build_graph(
    structures: Iterable[StructureNode],
    people: Iterable[PersonNode],
    relationships: Iterable[RelationshipEdge] = (),
    conventions: Iterable[ConventionEdge] = (),
    flows: Iterable[ReferralFlow] = (),
) -> nx.MultiDiGraph:
    """Build the partner network. Every analysis reads this one graph, so that the
    picture, the tables and the exports all describe the same mesh.

    Raises GraphInputError on a dangling reference or an unknown level or status: a
    half-built graph would give silently wrong answers (a missing node would be created
    by networkx without its attributes)."""
    g = nx.MultiDiGraph()
    known_structures: set[str] = set()
    for s in structures:
        if s.id in known_structures:
            raise GraphInputError(f"structure {s.id}: id appears twice")
        known_structures.add(s.id)
        g.add_node(
            s.id,
            type=STRUCTURE,
            name=s.name,
            kind=s.kind,
            network=s.network,
            domains=frozenset(s.domains),
            communes=frozenset(s.communes),
            status=s.status,
        )

    person_structure: dict[str, str] = {}
    for p in people:
        if p.id in person_structure or p.id in known_structures:
            raise GraphInputError(f"person {p.id}: id appears twice")
        if p.structure_id not in known_structures:
            raise GraphInputError(f"person {p.id}: structure_id {p.structure_id!r} is unknown")
        person_structure[p.id] = p.structure_id
        g.add_node(p.id, type=PERSON, name=p.name, structure_id=p.structure_id, active=p.active)
        g.add_edge(
            p.id,
            p.structure_id,
            key=f"membership:{p.id}",
            type=MEMBERSHIP,
            active=p.active,
            weight=1,
        )

    # One add_edge per edge: add_edges_from copies each attribute dict and then reaches it
    # again through three layers of views, which doubles the cost of the national graph.
    add_edge = g.add_edge
    for edges in (
        _relationship_edges(relationships, known_structures, person_structure),
        _convention_edges(conventions, known_structures, person_structure),
        _flow_edges(flows, known_structures),
    ):
        for u, v, key, attributes in edges:
            add_edge(u, v, key, **attributes)
    return g


def _relationship_edges(
    relationships: Iterable[RelationshipEdge],
    known_structures: set[str],
    person_structure: dict[str, str],
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for r in relationships:
        if r.source not in known_structures:
            raise GraphInputError(f"relationship {r.id}: source {r.source!r} is not a structure")
        if r.target_is_person:
            if r.target not in person_structure:
                raise GraphInputError(f"relationship {r.id}: target {r.target!r} is not a person")
        elif r.target not in known_structures:
            raise GraphInputError(f"relationship {r.id}: target {r.target!r} is not a structure")
        elif r.target == r.source:
            raise GraphInputError(f"relationship {r.id}: target is its own source")
        if r.level not in LEVELS:
            raise GraphInputError(f"relationship {r.id}: level {r.level!r} is not one of {LEVELS}")
        attributes = {
            "type": RELATIONSHIP,
            "id": r.id,
            "level": r.level,
            "kind": r.kind,
            "target_is_person": r.target_is_person,
            "weight": 1,
        }
        yield r.source, r.target, r.id, attributes


def _convention_edges(
    conventions: Iterable[ConventionEdge],
    known_structures: set[str],
    person_structure: dict[str, str],
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for c in conventions:
        parties = tuple(dict.fromkeys(c.structures))
        if len(parties) < 2:
            raise GraphInputError(f"convention {c.id}: structures must name at least two")
        for s in parties:
            if s not in known_structures:
                raise GraphInputError(f"convention {c.id}: structure {s!r} is unknown")
        if c.level not in LEVELS:
            raise GraphInputError(f"convention {c.id}: level {c.level!r} is not one of {LEVELS}")
        if c.status not in CONVENTION_STATUSES:
            raise GraphInputError(
                f"convention {c.id}: status {c.status!r} is not one of {CONVENTION_STATUSES}"
            )
        by_structure: dict[str, list[str]] = {}
        for person in c.referents:
            if person not in person_structure:
                raise GraphInputError(f"convention {c.id}: referent {person!r} is unknown")
            by_structure.setdefault(person_structure[person], []).append(person)
        for n, (a, b) in enumerate(combinations(parties, 2)):
            attributes = {
                "type": CONVENTION,
                "id": c.id,
                "title": c.title,
                "level": c.level,
                "domains": frozenset(c.domains),
                "status": c.status,
                "end": c.end,
                "referents": tuple(c.referents),
                "source_referents": tuple(by_structure.get(a, ())),
                "target_referents": tuple(by_structure.get(b, ())),
                "weight": 1,
            }
            yield a, b, f"{c.id}/{n}", attributes


def _flow_edges(
    flows: Iterable[ReferralFlow], known_structures: set[str]
) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    # Several records for one ordered pair (per service, per month) become one arrow.
    totals: dict[tuple[str, str], list[int]] = {}
    for f in flows:
        for end, value in (("source", f.source), ("target", f.target)):
            if value not in known_structures:
                raise GraphInputError(f"flow {f.source}->{f.target}: {end} {value!r} is unknown")
        if f.count < 0 or not 0 <= f.unanswered <= f.count:
            raise GraphInputError(
                f"flow {f.source}->{f.target}: needs 0 <= unanswered <= count, "
                f"got count={f.count} unanswered={f.unanswered}"
            )
        if f.source == f.target:
            continue  # referrals inside one structure are not part of the mesh
        total = totals.setdefault((f.source, f.target), [0, 0])
        total[0] += f.count
        total[1] += f.unanswered
    for (source, target), (count, unanswered) in totals.items():
        attributes = {"type": FLOW, "count": count, "unanswered": unanswered, "weight": count}
        yield source, target, f"flow:{source}:{target}", attributes


def structure_ids(g: nx.MultiDiGraph) -> list[str]:
    """The structure nodes of the graph, in insertion order."""
    return [n for n, kind in g.nodes(data="type") if kind == STRUCTURE]


def structure_network(g: nx.MultiDiGraph) -> nx.Graph:
    """Structures only, undirected, one edge per linked pair: the mesh as coordinators see
    it. A relationship to a person links the source to that person's structure;
    conventions drafted or in force link each pair of their parties (an expired or
    terminated one no longer holds anyone together); referral flows and memberships are
    not partnerships and are left out."""
    h = nx.Graph()
    h.add_nodes_from(structure_ids(g))
    nodes = g.nodes
    for u, v, d in g.edges(data=True):
        kind = d["type"]
        if kind == RELATIONSHIP:
            w = nodes[v]["structure_id"] if nodes[v]["type"] == PERSON else v
            if w != u:
                h.add_edge(u, w)
        elif kind == CONVENTION and d["status"] in LIVE:
            h.add_edge(u, v)
    return h


def structure_links(g: nx.MultiDiGraph) -> tuple[list[str], list[list[int]]]:
    """The same mesh as `structure_network`, as plain lists: the structure ids in the
    graph's order and, for each, the positions of its partners in that list. The national
    analyses read this form, which costs a fraction of a networkx graph to build and to
    walk."""
    ids = structure_ids(g)
    index = {structure_id: i for i, structure_id in enumerate(ids)}
    partners: list[set[int]] = [set() for _ in ids]
    nodes = g.nodes
    for u, v, d in g.edges(data=True):
        kind = d["type"]
        if kind == RELATIONSHIP:
            node = nodes[v]
            w = node["structure_id"] if node["type"] == PERSON else v
        elif kind == CONVENTION and d["status"] in LIVE:
            w = v
        else:
            continue
        if w != u:
            a, b = index[u], index[w]
            partners[a].add(b)
            partners[b].add(a)
    return ids, [sorted(p) for p in partners]
