"""What a coordinator needs to see in the partner network, as plain results.

Every function takes the graph from `graph.network.build_graph` (or plain records) and
returns frozen dataclasses, sorted so that the same input always gives the same output.
A "partnership" below is a pair of structures linked by at least one relationship (to the
structure itself or to one of its people) or by a convention that is drafted or in force."""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import networkx as nx

from graph.network import (
    CONVENTION,
    MEMBERSHIP,
    PERSON,
    RELATIONSHIP,
    STRUCTURE,
    structure_links,
)
from graph.records import (
    IN_FORCE,
    LEVELS,
    LIVE,
    ConventionEdge,
    ReferralFlow,
    ServiceCoverage,
    StructureNode,
)

# Exact betweenness costs O(structures × links): about 2 s at 2,000 structures. Above, it
# is estimated from DEFAULT_SAMPLES sources: about a minute for the national graph
# (100,000 structures) on two cores, and enough for the top brokers to stand out.
EXACT_MAX_STRUCTURES = 2_000
DEFAULT_SAMPLES = 200

ONLY_ACTIVE_PERSON = "only_active_person"
ONLY_REFERENT = "only_referent"
ONLY_CONTACT = "only_contact"


@dataclass(frozen=True, slots=True)
class StructureRef:
    id: str
    name: str


def _ref(g: nx.MultiDiGraph, structure_id: str) -> StructureRef:
    return StructureRef(structure_id, g.nodes[structure_id]["name"])


def _by_name(ref: StructureRef) -> tuple[str, str]:
    return (ref.name.casefold(), ref.id)


# --- silos -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Silos:
    """`isolated`: structures with no relationship and no live convention. `groups`: the
    connected groups of two or more structures, largest first; more than one group means
    the mesh is split into parts that never talk to each other (`fragmented`)."""

    isolated: tuple[StructureRef, ...]
    groups: tuple[tuple[StructureRef, ...], ...]

    @property
    def fragmented(self) -> bool:
        return len(self.groups) > 1


def silos(g: nx.MultiDiGraph) -> Silos:
    """Structures outside the mesh and groups cut off from each other, over relationships
    and conventions (people and referral flows ignored). A coordinator cares because a
    young person sent to an isolated structure, or across two groups, has nobody on the
    other side who knows the sender."""
    ids, partners = structure_links(g)
    isolated = sorted((_ref(g, ids[i]) for i, p in enumerate(partners) if not p), key=_by_name)
    components = [{ids[i] for i in c} for c in _components(partners) if len(c) > 1]
    components.sort(key=lambda c: (-len(c), min(c)))
    groups = tuple(tuple(sorted((_ref(g, n) for n in c), key=_by_name)) for c in components)
    return Silos(isolated=tuple(isolated), groups=groups)


def _components(partners: list[list[int]]) -> Iterator[list[int]]:
    """Connected components of the nodes 0..n-1, breadth first."""
    seen = [False] * len(partners)
    for start in range(len(partners)):
        if seen[start]:
            continue
        seen[start] = True
        component = [start]
        for v in component:
            for w in partners[v]:
                if not seen[w]:
                    seen[w] = True
                    component.append(w)
        yield component


# --- brokers -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Broker:
    structure: StructureRef
    betweenness: float


@dataclass(frozen=True)
class Brokers:
    """Structures ranked by betweenness (normalised, 0–1). When `approximate` is True the
    figures are estimated from `k` source structures drawn at random with `seed`, and the
    page must say so (`method` gives the sentence)."""

    ranking: tuple[Broker, ...]
    structures: int
    approximate: bool
    k: int | None
    seed: int | None

    @property
    def method(self) -> str:
        if self.approximate:
            return (
                f"Valeurs approchées : intermédiarité estimée à partir de {self.k} structures "
                f"de départ tirées au hasard (graine {self.seed}) parmi {self.structures}."
            )
        return f"Valeurs exactes, calculées sur les {self.structures} structures."


def brokers(
    g: nx.MultiDiGraph, k: int | None = None, seed: int = 0, top: int | None = None
) -> Brokers:
    """Betweenness centrality of structures over the undirected structure–structure mesh:
    the share of shortest paths between two structures that pass through each one. The
    coordinator involves these brokers first, and knows the mesh is fragile where
    everything passes through one of them.

    Exact up to EXACT_MAX_STRUCTURES structures. Above, or when `k` is given and smaller
    than the number of structures, it is networkx's sampled estimate from `k` sources
    (DEFAULT_SAMPLES if k is None) drawn with `seed`. Only structures with a betweenness
    above zero are ranked; `top` cuts the list."""
    if k is not None and k < 2:
        raise ValueError("k must be at least 2")  # networkx's estimate is undefined for 1
    ids, partners = structure_links(g)
    n = len(ids)
    sample = k if k is not None else (DEFAULT_SAMPLES if n > EXACT_MAX_STRUCTURES else None)
    if sample is not None and sample >= n:
        sample = None
    scores = _betweenness(partners, sample, seed)
    ranked = sorted(
        (Broker(_ref(g, s), value) for s, value in zip(ids, scores, strict=True) if value > 0),
        key=lambda b: (-b.betweenness, *_by_name(b.structure)),
    )
    return Brokers(
        ranking=tuple(ranked[:top] if top is not None else ranked),
        structures=n,
        approximate=sample is not None,
        k=sample,
        seed=seed if sample is not None else None,
    )


def betweenness(h: nx.Graph, k: int | None = None, seed: int = 0) -> dict[Any, float]:
    """Normalised betweenness of an undirected, unweighted graph: the same figures as
    `nx.betweenness_centrality(h, k=k, seed=seed)` — same sources drawn for a seed, same
    normalisation — computed by Brandes' algorithm on integer lists, which is about seven
    times faster than networkx's dict-based version on the national graph (tests compare
    the two)."""
    nodes = list(h)
    index = {node: i for i, node in enumerate(nodes)}
    adjacency = [[index[m] for m in h[node] if m != node] for node in nodes]
    return dict(zip(nodes, _betweenness(adjacency, k, seed), strict=True))


def _betweenness(adjacency: list[list[int]], k: int | None, seed: int) -> list[float]:
    """Betweenness of nodes 0..n-1 given as adjacency lists without self-loops; with `k`,
    estimated from k sources drawn as networkx draws them from the nodes in this order
    (random.sample picks positions, whatever the items)."""
    n = len(adjacency)
    if k is None:
        sources: list[int] = list(range(n))
    else:
        sources = random.Random(seed).sample(range(n), k)
    scores = [0.0] * n
    for s in sources:
        # Breadth-first search counting shortest paths (sigma) ...
        sigma = [0] * n
        distance = [-1] * n
        sigma[s], distance[s] = 1, 0
        order = [s]
        i = 0
        while i < len(order):
            v = order[i]
            i += 1
            next_distance, paths = distance[v] + 1, sigma[v]
            for w in adjacency[v]:
                if distance[w] < 0:
                    distance[w] = next_distance
                    sigma[w] = paths
                    order.append(w)
                elif distance[w] == next_distance:
                    sigma[w] += paths
        # ... then each node's dependency, from the farthest back to the source.
        delta = [0.0] * n
        for w in reversed(order):
            previous = distance[w] - 1
            share = (1.0 + delta[w]) / sigma[w]
            for v in adjacency[w]:
                if distance[v] == previous:
                    delta[v] += sigma[v] * share
            if w != s:
                scores[w] += delta[w]
    # networkx's rescaling without endpoints: ordered pairs of other nodes, and with
    # sampling, one pair fewer per source for the sampled nodes themselves.
    if n > 2:
        if k is None:
            scale = 1 / ((n - 1) * (n - 2))
            scores = [x * scale for x in scores]
        else:
            sampled = set(sources)
            source_scale = 1 / ((k - 1) * (n - 2))
            other_scale = 1 / (k * (n - 2))
            scores = [
                x * (source_scale if i in sampled else other_scale) for i, x in enumerate(scores)
            ]
    return scores


# --- single-person dependencies ----------------------------------------------------------


class _Pair:
    """What links two structures a < b: relationship and live convention ids, and per
    side the active people named for the partnership (contacts targeted by a relationship,
    referents of a live convention)."""

    __slots__ = ("contacts", "convention_ids", "referents", "relationship_ids")

    def __init__(self) -> None:
        self.relationship_ids: list[str] = []
        self.convention_ids: list[str] = []
        self.contacts: dict[str, set[str]] = {}
        self.referents: dict[str, set[str]] = {}

    def named(self, side: str) -> set[str]:
        return self.contacts.get(side, set()) | self.referents.get(side, set())


def _pair(pairs: dict[tuple[str, str], _Pair], u: str, v: str) -> _Pair:
    key = (u, v) if u < v else (v, u)
    pair = pairs.get(key)
    if pair is None:
        pair = pairs[key] = _Pair()
    return pair


Edge = tuple[str, str, str, dict[str, Any]]


def _partnerships(
    g: nx.MultiDiGraph, edges: Iterable[Edge]
) -> tuple[dict[tuple[str, str], _Pair], dict[str, list[str]]]:
    """Partnerships and the active people of each structure, from the given edges."""
    nodes = g.nodes
    pairs: dict[tuple[str, str], _Pair] = {}
    members: dict[str, list[str]] = {}
    for u, v, _key, d in edges:
        kind = d["type"]
        if kind == MEMBERSHIP:
            if d["active"]:
                members.setdefault(v, []).append(u)
        elif kind == RELATIONSHIP:
            if d["target_is_person"]:
                w = nodes[v]["structure_id"]
                if w == u:
                    continue
                pair = _pair(pairs, u, w)
                if nodes[v]["active"]:
                    pair.contacts.setdefault(w, set()).add(v)
            else:
                pair = _pair(pairs, u, v)
            pair.relationship_ids.append(d["id"])
        elif kind == CONVENTION and d["status"] in LIVE:
            pair = _pair(pairs, u, v)
            pair.convention_ids.append(d["id"])
            for side, people in ((u, d["source_referents"]), (v, d["target_referents"])):
                active = {p for p in people if nodes[p]["active"]}
                if active:
                    pair.referents.setdefault(side, set()).update(active)
    return pairs, members


def _holders(pair: _Pair, side: str, members: dict[str, list[str]]) -> set[str]:
    """Who holds the partnership on `side`: the people named for it, or, when nobody is
    named, every active person of the structure."""
    return pair.named(side) or set(members.get(side, ()))


def _reason(pair: _Pair, side: str, person: str, members: dict[str, list[str]]) -> str:
    if len(members.get(side, ())) == 1:
        return ONLY_ACTIVE_PERSON
    if person in pair.referents.get(side, ()):
        return ONLY_REFERENT
    return ONLY_CONTACT


@dataclass(frozen=True)
class SinglePersonDependency:
    """The partnership between `structure` and `partner` rests, on `structure`'s side, on
    `person_id` alone. `reason`: ONLY_ACTIVE_PERSON (the structure has one active person),
    ONLY_REFERENT (the live conventions name one active referent there) or ONLY_CONTACT
    (the relationships target one active person there). `if_person_leaves`: every partner
    of `structure` that would lose its last named person there, this one included."""

    structure: StructureRef
    partner: StructureRef
    person_id: str
    person_name: str
    reason: str
    relationship_ids: tuple[str, ...]
    convention_ids: tuple[str, ...]
    if_person_leaves: tuple[StructureRef, ...]


def single_person_dependencies(g: nx.MultiDiGraph) -> tuple[SinglePersonDependency, ...]:
    """Partnerships that rest on one person on either side — the charter's warning that a
    partnership must not depend on a few individuals, made measurable. On each side, the
    partnership is held by the active people named for it (convention referents, people
    a relationship targets) or, when none is named, by all the structure's active people;
    it is listed when that comes down to one person. The coordinator uses this list to
    name a second referent before that person leaves."""
    pairs, members = _partnerships(g, g.edges(keys=True, data=True))
    found: list[tuple[str, str, str, _Pair]] = []
    for (a, b), pair in pairs.items():
        for side, partner in ((a, b), (b, a)):
            holders = _holders(pair, side, members)
            if len(holders) == 1:
                found.append((side, partner, next(iter(holders)), pair))
    partners_of: dict[str, list[str]] = {}
    for _side, partner, person, _ in found:
        partners_of.setdefault(person, []).append(partner)
    leaving = {
        person: tuple(sorted((_ref(g, p) for p in partners), key=_by_name))
        for person, partners in partners_of.items()
    }
    result = [
        SinglePersonDependency(
            structure=_ref(g, side),
            partner=_ref(g, partner),
            person_id=person,
            person_name=g.nodes[person]["name"],
            reason=_reason(pair, side, person, members),
            relationship_ids=tuple(sorted(pair.relationship_ids)),
            convention_ids=tuple(sorted(set(pair.convention_ids))),
            if_person_leaves=leaving[person],
        )
        for side, partner, person, pair in found
    ]
    result.sort(key=lambda d: (*_by_name(d.structure), d.person_id, *_by_name(d.partner)))
    return tuple(result)


@dataclass(frozen=True)
class PersonLeaving:
    """What the mesh loses if `person_id` leaves `structure`: the partners whose
    partnership with `structure` would have no named person left there, the live
    conventions that would have no active referent left on that side, and how many active
    colleagues remain who could be named instead."""

    person_id: str
    person_name: str
    structure: StructureRef
    partnerships_losing_last_person: tuple[StructureRef, ...]
    conventions_losing_referent: tuple[str, ...]
    colleagues_left: int


def what_if_person_leaves(g: nx.MultiDiGraph, person_id: str) -> PersonLeaving:
    """Simulate one person leaving their structure, before it happens (for a person who
    already left, nothing more is lost). Reads only the edges around their structure, so it
    is cheap enough to run for every person on a page."""
    node = g.nodes.get(person_id)
    if node is None or node["type"] != PERSON:
        raise KeyError(f"person {person_id!r} is not in the graph")
    side = node["structure_id"]
    pairs, members = _partnerships(g, _edges_around(g, side))
    lost = [
        (b if a == side else a)
        for (a, b), pair in pairs.items()
        if _holders(pair, side, members) == {person_id}
    ]
    conventions: dict[str, set[str]] = {}
    for u, _v, d in _convention_edges_of(g, side):
        referents = d["source_referents"] if u == side else d["target_referents"]
        active = {p for p in referents if g.nodes[p]["active"]}
        conventions.setdefault(d["id"], set()).update(active)
    colleagues = [p for p in members.get(side, ()) if p != person_id]
    return PersonLeaving(
        person_id=person_id,
        person_name=node["name"],
        structure=_ref(g, side),
        partnerships_losing_last_person=tuple(sorted((_ref(g, s) for s in lost), key=_by_name)),
        conventions_losing_referent=tuple(
            sorted(c for c, active in conventions.items() if active == {person_id})
        ),
        colleagues_left=len(colleagues),
    )


def _edges_around(g: nx.MultiDiGraph, structure: str) -> Iterator[Edge]:
    """Every edge that can bear on `structure`'s side of its partnerships."""
    yield from g.out_edges(structure, keys=True, data=True)
    for edge in g.in_edges(structure, keys=True, data=True):
        yield edge
        if edge[3]["type"] == MEMBERSHIP:
            # Relationships from other structures that target this person.
            yield from g.in_edges(edge[0], keys=True, data=True)


def _convention_edges_of(g: nx.MultiDiGraph, structure: str) -> Iterator[tuple[str, str, Any]]:
    for u, v, d in g.out_edges(structure, data=True):
        if d["type"] == CONVENTION and d["status"] in LIVE:
            yield u, v, d
    for u, v, d in g.in_edges(structure, data=True):
        if d["type"] == CONVENTION and d["status"] in LIVE:
            yield u, v, d


# --- sole providers ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SoleProvider:
    """`structure_id` alone serves `domain` in `communes`."""

    domain: str
    structure_id: str
    communes: tuple[str, ...]


_MANY = ""  # marks a commune served by two structures or more


def sole_providers(coverages: Iterable[ServiceCoverage]) -> tuple[SoleProvider, ...]:
    """For each domain, the communes served by exactly one structure, grouped by that
    structure. A coordinator cares because if that structure closes, stops a service or
    is full, young people of those communes have nowhere to go for that need. Communes
    served by nobody are coverage gaps, another analysis."""
    served: dict[str, dict[str, str]] = {}
    for c in coverages:
        by_commune = served.setdefault(c.domain, {})
        for commune in c.communes:
            current = by_commune.get(commune)
            if current is None:
                by_commune[commune] = c.structure_id
            elif current != c.structure_id:
                by_commune[commune] = _MANY
    rows: list[SoleProvider] = []
    for domain, by_commune in served.items():
        alone: dict[str, list[str]] = {}
        for commune, structure in by_commune.items():
            if structure != _MANY:
                alone.setdefault(structure, []).append(commune)
        rows.extend(SoleProvider(domain, s, tuple(sorted(cs))) for s, cs in alone.items())
    rows.sort(key=lambda r: (r.domain, -len(r.communes), r.structure_id))
    return tuple(rows)


# --- partnerships without convention, conventions expiring -------------------------------


@dataclass(frozen=True)
class RelationshipWithoutConvention:
    """Two structures linked by relationships (`levels`, `relationship_ids`) and no
    convention in force; `other_conventions` lists any drafted, expired or terminated one
    between them."""

    a: StructureRef
    b: StructureRef
    levels: tuple[str, ...]
    relationship_ids: tuple[str, ...]
    other_conventions: tuple[str, ...]


def relationships_without_convention(
    g: nx.MultiDiGraph,
) -> tuple[RelationshipWithoutConvention, ...]:
    """Partnerships that exist in practice but are not formalised by a convention in force
    (active or expiring). The charter says a partnership lasts when it is formalised; these
    are the candidates for a new or renewed convention."""
    nodes = g.nodes
    links: dict[tuple[str, str], tuple[set[str], list[str]]] = {}
    in_force: set[tuple[str, str]] = set()
    others: dict[tuple[str, str], set[str]] = {}
    for u, v, d in g.edges(data=True):
        kind = d["type"]
        if kind == RELATIONSHIP:
            w = nodes[v]["structure_id"] if nodes[v]["type"] == PERSON else v
            if w == u:
                continue
            levels, ids = links.setdefault((u, w) if u < w else (w, u), (set(), []))
            levels.add(d["level"])
            ids.append(d["id"])
        elif kind == CONVENTION:
            key = (u, v) if u < v else (v, u)
            if d["status"] in IN_FORCE:
                in_force.add(key)
            else:
                others.setdefault(key, set()).add(d["id"])
    rows = [
        RelationshipWithoutConvention(
            a=_ref(g, a),
            b=_ref(g, b),
            levels=tuple(level for level in LEVELS if level in levels),
            relationship_ids=tuple(sorted(ids)),
            other_conventions=tuple(sorted(others.get((a, b), ()))),
        )
        for (a, b), (levels, ids) in links.items()
        if (a, b) not in in_force
    ]
    rows.sort(key=lambda r: (*_by_name(r.a), *_by_name(r.b)))
    return tuple(rows)


@dataclass(frozen=True, slots=True)
class ExpiringConvention:
    convention_id: str
    title: str
    structures: tuple[str, ...]
    level: str
    end: date
    days_left: int
    referents: tuple[str, ...]


def conventions_expiring(
    conventions: Iterable[ConventionEdge], today: date, within_days: int = 90
) -> tuple[ExpiringConvention, ...]:
    """Conventions in force whose end date falls between today and `within_days` from now,
    soonest first: renewing one takes months of signatures, so the coordinator starts
    before the partnership loses its formal frame."""
    rows = []
    for c in conventions:
        if c.status not in IN_FORCE or c.end is None:
            continue
        days_left = (c.end - today).days
        if 0 <= days_left <= within_days:
            rows.append(
                ExpiringConvention(
                    convention_id=c.id,
                    title=c.title,
                    structures=tuple(c.structures),
                    level=c.level,
                    end=c.end,
                    days_left=days_left,
                    referents=tuple(c.referents),
                )
            )
    rows.sort(key=lambda r: (r.end, r.convention_id))
    return tuple(rows)


# --- unanswered partners -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnansweredPartner:
    structure_id: str
    referrals: int
    unanswered: int
    share: float


def unanswered_partners(
    flows: Iterable[ReferralFlow], threshold: float, min_referrals: int = 1
) -> tuple[UnansweredPartner, ...]:
    """Partners for which at least `threshold` (0–1) of the referrals they received went
    unanswered, counting every sender, with the counts so that one referral out of one is
    read for what it is. Sorted by number of unanswered referrals — the young people left
    waiting — not by share, since these figures are there to help, not to rank partners."""
    if not 0 <= threshold <= 1:
        raise ValueError("threshold must be between 0 and 1")
    totals: dict[str, list[int]] = {}
    for f in flows:
        if f.source == f.target:
            continue
        total = totals.setdefault(f.target, [0, 0])
        total[0] += f.count
        total[1] += f.unanswered
    rows = [
        UnansweredPartner(target, count, unanswered, unanswered / count)
        for target, (count, unanswered) in totals.items()
        if count >= max(min_referrals, 1) and unanswered / count >= threshold
    ]
    rows.sort(key=lambda r: (-r.unanswered, -r.share, r.structure_id))
    return tuple(rows)


# --- level balance -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelCounts:
    """Relationships at each level; `domain` is "" for the count over all domains."""

    domain: str
    operational: int
    organisational: int
    political: int

    @property
    def total(self) -> int:
        return self.operational + self.organisational + self.political


@dataclass(frozen=True)
class LevelBalance:
    overall: LevelCounts
    by_domain: tuple[LevelCounts, ...]


def level_balance(
    g: nx.MultiDiGraph, structures: Iterable[StructureNode] | None = None
) -> LevelBalance:
    """How many relationships sit at each of the three levels, over all and per domain.
    A relationship counts once for each domain of either of its ends. The charter asks for
    partnerships held at the three levels: a domain with operational links and no
    political one has nobody to carry it to the elected officials.

    `structures` restricts the count to relationships touching them and gives their
    domains (every domain of theirs is listed, with zeros if need be); None takes every
    structure of the graph with the domains stored on its node."""
    nodes = g.nodes
    if structures is None:
        domains_of = {
            n: d.get("domains", frozenset()) for n, d in nodes(data=True) if d["type"] == STRUCTURE
        }
    else:
        domains_of = {s.id: frozenset(s.domains) for s in structures}
    index = {level: i for i, level in enumerate(LEVELS)}
    overall = [0, 0, 0]
    per_domain: dict[str, list[int]] = {d: [0, 0, 0] for ds in domains_of.values() for d in ds}
    empty: frozenset[str] = frozenset()
    for u, v, d in g.edges(data=True):
        if d["type"] != RELATIONSHIP:
            continue
        w = nodes[v]["structure_id"] if nodes[v]["type"] == PERSON else v
        if w == u or (u not in domains_of and w not in domains_of):
            continue
        i = index[d["level"]]
        overall[i] += 1
        for domain in domains_of.get(u, empty) | domains_of.get(w, empty):
            per_domain[domain][i] += 1
    return LevelBalance(
        overall=LevelCounts("", *overall),
        by_domain=tuple(LevelCounts(d, *per_domain[d]) for d in sorted(per_domain)),
    )


# --- filters for the picture -------------------------------------------------------------


def filter_graph(
    g: nx.MultiDiGraph,
    levels: Collection[str] | None = None,
    domains: Collection[str] | None = None,
) -> nx.MultiDiGraph:
    """A copy of the graph restricted to some levels and domains, for the picture's
    filters. `levels` keeps relationships and conventions at those levels (memberships
    and referral flows have no level and stay). `domains` keeps the structures working in
    one of them, their people, and the conventions covering one of them (a convention
    without domains stays). None means no filter."""
    if levels is not None:
        unknown = set(levels) - set(LEVELS)
        if unknown:
            raise ValueError(f"levels: unknown {sorted(unknown)}, expected some of {LEVELS}")
    wanted_levels = None if levels is None else frozenset(levels)
    wanted_domains = None if domains is None else frozenset(domains)
    h = nx.MultiDiGraph(**g.graph)
    keep: set[str] = set()
    for n, d in g.nodes(data=True):
        if d["type"] == STRUCTURE and (wanted_domains is None or d["domains"] & wanted_domains):
            keep.add(n)
    for n, d in g.nodes(data=True):
        if d["type"] == PERSON and d["structure_id"] in keep:
            keep.add(n)
    h.add_nodes_from((n, dict(d)) for n, d in g.nodes(data=True) if n in keep)
    for u, v, key, d in g.edges(keys=True, data=True):
        if u not in keep or v not in keep:
            continue
        kind = d["type"]
        if (
            kind in (RELATIONSHIP, CONVENTION)
            and wanted_levels is not None
            and d["level"] not in wanted_levels
        ):
            continue
        if (
            kind == CONVENTION
            and wanted_domains is not None
            and d["domains"]
            and not d["domains"] & wanted_domains
        ):
            continue
        h.add_edge(u, v, key=key, **d)
    return h


# --- what a coordinator does next: brokers in words, unknown contacts ---------------------


@dataclass(frozen=True, slots=True)
class BrokerRole:
    """A broker as a coordinator reads it: `partners` it is linked to, and the `groups`
    those partners fall into without it (1: they still reach each other, by longer paths;
    more: it is the only bridge between them)."""

    structure: StructureRef
    betweenness: float
    partners: int
    groups: int


def broker_roles(g: nx.MultiDiGraph, ranking: Iterable[Broker]) -> tuple[BrokerRole, ...]:
    """Say what each broker holds together, in numbers a person can check on the record's
    page, instead of a betweenness figure nobody can act on. One breadth-first walk of the
    mesh without the broker per broker: cheap for the handful a page shows."""
    ids, partners = structure_links(g)
    index = {structure_id: i for i, structure_id in enumerate(ids)}
    roles = []
    for broker in ranking:
        b = index[broker.structure.id]
        seen = [False] * len(ids)
        seen[b] = True
        groups = 0
        for start in partners[b]:
            if seen[start]:
                continue
            groups += 1
            seen[start] = True
            queue = [start]
            for v in queue:
                for w in partners[v]:
                    if not seen[w]:
                        seen[w] = True
                        queue.append(w)
        roles.append(BrokerRole(broker.structure, broker.betweenness, len(partners[b]), groups))
    return tuple(roles)


@dataclass(frozen=True, slots=True)
class UnknownContact:
    """`structure` has `partners` partners but nobody in post is recorded there: missing
    data to fill in, not a partnership resting on one person."""

    structure: StructureRef
    partners: int


def unknown_contacts(g: nx.MultiDiGraph) -> tuple[UnknownContact, ...]:
    """Linked structures with no active person recorded. `single_person_dependencies`
    cannot see them (nobody holds their side), and right after an import of structures
    without people they are most of the mesh: the coordinator's next step is to record a
    contact, so they get their own list, most linked first."""
    staffed = {v for _u, v, d in g.edges(data=True) if d["type"] == MEMBERSHIP and d["active"]}
    ids, partners = structure_links(g)
    rows = [
        UnknownContact(_ref(g, s), len(p))
        for s, p in zip(ids, partners, strict=True)
        if p and s not in staffed
    ]
    rows.sort(key=lambda r: (-r.partners, *_by_name(r.structure)))
    return tuple(rows)
