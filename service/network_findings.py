"""What the network page shows: each analysis as a list of links with the next step a
coordinator can take (a form to open, pre-filled), and the explorer's graph as JSON.
The analyses themselves live in graph/; this module only turns them into things to do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import networkx as nx
from babel.numbers import format_decimal

from directory.errors import Invalid
from directory.vocabulary import Domain, Level
from graph import analyses
from graph.network import CONVENTION, PERSON, RELATIONSHIP, STRUCTURE, structure_links
from graph.records import LEVELS, LIVE
from service.departures import lost_contacts
from service.network import NetworkReport, graph_of, load_records, report

LOCALE = "fr_FR"
# How many rows each list shows before the rest folds into « et N autres ».
SHOWN = 10
# How many the page lists at most (folded); beyond, the CSV has them all. Building and
# sending thousands of links would cost more than the analyses themselves.
LISTED = 200
BROKERS_SHOWN = 10

REASONS = {
    analyses.ONLY_ACTIVE_PERSON: "seule personne en poste dans sa structure",
    analyses.ONLY_REFERENT: "seul·e référent·e nommé·e dans la convention",
    analyses.ONLY_CONTACT: "seul contact nommé dans la relation",
}


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    href: str


@dataclass(frozen=True)
class Finding:
    """One line of a list: what it is about (`subject`: links, each after a few words that
    join it to the previous one), what it means (`detail`), and what to do next
    (`actions`, links to forms)."""

    subject: tuple[tuple[str, Link], ...]
    detail: str
    actions: tuple[Link, ...] = field(default=())


@dataclass(frozen=True)
class Findings:
    """The first LISTED findings of a list, and how many there are in all."""

    rows: list[Finding]
    total: int

    @property
    def unlisted(self) -> int:
        return self.total - len(self.rows)


def structure_url(structure_id: str) -> str:
    return f"/structures/{structure_id}"


def _structure(ref: analyses.StructureRef) -> Link:
    return Link(ref.name, structure_url(ref.id))


def number(value: float) -> str:
    """64 458, 12,5: French digits, as everywhere on the coordinator's pages."""
    return format_decimal(value, format="#,##0.#", locale=LOCALE)


def percent(share: float) -> str:
    return f"{number(share * 100)}\u202f%"


def plural(count: int, one: str, many: str) -> str:
    return f"{number(count)} {one if count == 1 else many}"


# ---- the query string -------------------------------------------------------------------


def parse_filters(levels: list[str], domains: list[str]) -> tuple[list[str], list[str]]:
    """The level and domain filters, refused with a message naming the bad value: a
    typo in a shared link must say so, not silently show the unfiltered network."""
    known_levels = {lv.value for lv in Level}
    known_domains = {d.value for d in Domain}
    errors: dict[str, str] = {}
    bad_levels = [v for v in levels if v not in known_levels]
    bad_domains = [v for v in domains if v not in known_domains]
    if bad_levels:
        errors["level"] = (
            f"Niveau inconnu : {', '.join(bad_levels)} "
            f"(attendu : {', '.join(sorted(known_levels))})."
        )
    if bad_domains:
        errors["domain"] = (
            f"Domaine inconnu : {', '.join(bad_domains)} "
            f"(attendu : {', '.join(sorted(known_domains))})."
        )
    if errors:
        raise Invalid(errors)
    return levels, domains


# ---- findings ---------------------------------------------------------------------------


def isolated(result: NetworkReport) -> list[Finding]:
    return [
        Finding(
            (("", _structure(s)),),
            "aucune relation ni convention",
            (Link("Créer une relation", f"/structures/{s.id}/relations/nouvelle"),),
        )
        for s in result.silos.isolated[:LISTED]
    ]


def brokers(result: NetworkReport) -> list[Finding]:
    """Brokers in words: how many partners they hold together and whether those partners
    would still reach each other without them."""
    rows = []
    for role in analyses.broker_roles(result.graph, result.brokers.ranking[:BROKERS_SHOWN]):
        if role.groups > 1:
            holds = (
                f"relie {number(role.groups)} groupes de partenaires qui ne se parlent pas "
                "autrement"
            )
        else:
            holds = "ses partenaires se joignent aussi sans elle, par des chemins plus longs"
        rows.append(
            Finding(
                (("", _structure(role.structure)),),
                f"{plural(role.partners, 'partenaire direct', 'partenaires directs')} ; "
                f"{holds} ; {percent(role.betweenness)} des plus courts chemins entre deux "
                "structures passent par elle",
            )
        )
    return rows


def dependencies(result: NetworkReport) -> list[Finding]:
    """One line per person holding partnerships alone, with every partner they hold: the
    next step (a second contact at their structure) is the same for all of them."""
    held: dict[tuple[str, str], list[analyses.SinglePersonDependency]] = {}
    for d in result.dependencies:
        held.setdefault((d.structure.id, d.person_id), []).append(d)
    rows = []
    # Whoever holds the most partnerships alone first: one second contact saves the most.
    ordered = sorted(held.items(), key=lambda item: -len(item[1]))[:LISTED]
    for (structure_id, person_id), deps in ordered:
        first = deps[0]
        person = Link(first.person_name, f"/structures/{structure_id}#person-{person_id}")
        partners = [
            (", " if i else ") tient seul·e le lien avec ", _structure(d.partner))
            for i, d in enumerate(deps)
        ]
        reasons = {d.reason for d in deps}
        rows.append(
            Finding(
                (("", person), (" (", _structure(first.structure)), *partners),
                REASONS[first.reason] if len(reasons) == 1 else "seul contact nommé",
                (
                    Link(
                        "Ajouter un second contact",
                        f"/structures/{structure_id}/personnes/nouvelle",
                    ),
                ),
            )
        )
    return rows


def unknown_contacts(result: NetworkReport) -> list[Finding]:
    return [
        Finding(
            (("", _structure(u.structure)),),
            f"{plural(u.partners, 'partenaire', 'partenaires')}, aucune personne en poste "
            "enregistrée",
            (Link("Ajouter un contact", f"/structures/{u.structure.id}/personnes/nouvelle"),),
        )
        for u in result.unknown_contacts[:LISTED]
    ]


def convention_url(w: analyses.RelationshipWithoutConvention) -> str:
    """The convention form with both parties chosen, the partnership's highest level and
    a working title: the coordinator completes it rather than starting from nothing."""
    query = [
        ("structures", w.a.id),
        ("structures", w.b.id),
        ("level", w.levels[-1] if w.levels else ""),
        ("title", "Convention " + " – ".join(sorted((w.a.name, w.b.name), key=str.casefold))),
    ]
    return "/conventions/nouvelle?" + urlencode(query)


def without_convention(result: NetworkReport) -> list[Finding]:
    labels = {
        "operational": "opérationnelle",
        "organisational": "organisationnelle",
        "political": "politique",
    }
    return [
        Finding(
            (("", _structure(w.a)), (" et ", _structure(w.b))),
            "relation " + ", ".join(labels.get(lv, lv) for lv in w.levels),
            (Link("Préparer une convention", convention_url(w)),),
        )
        for w in result.without_convention[:LISTED]
    ]


def unanswered(result: NetworkReport) -> list[Finding]:
    return [
        Finding(
            (("", Link(result.names.get(u.structure_id, "?"), structure_url(u.structure_id))),),
            f"{number(u.unanswered)} sans réponse sur "
            f"{plural(u.referrals, 'orientation reçue', 'orientations reçues')}",
            (Link("Vos orientations vers ce partenaire", f"/orientations?vers={u.structure_id}"),),
        )
        for u in result.unanswered[:LISTED]
    ]


def partners_table(g: nx.MultiDiGraph) -> list[tuple[Link, int]]:
    """Every structure with its number of partner structures, most linked first: the
    whole picture as a table, beside the explorer."""
    ids, partners = structure_links(g)
    rows = [
        (Link(g.nodes[s]["name"], structure_url(s)), len(p))
        for s, p in zip(ids, partners, strict=True)
    ]
    rows.sort(key=lambda row: (-row[1], row[0].label.casefold()))
    return rows


async def page_context(levels: list[str], domains: list[str], query: str) -> dict[str, Any]:
    """The network page: every finding as links with its next step, then the explorer,
    which draws from the JSON endpoint (no picture of the whole network is drawn here)."""
    result = await report(levels, domains, for_page=True)
    top = result.brokers.ranking[0].structure.id if result.brokers.ranking else ""
    return {
        "r": result,
        "levels": levels,
        "domains": domains,
        "query": f"?{query}" if query else "",
        "findings": {
            "isolated": Findings(isolated(result), len(result.silos.isolated)),
            "brokers": Findings(brokers(result), len(result.brokers.ranking)),
            "dependencies": Findings(
                dependencies(result),
                len({(d.structure.id, d.person_id) for d in result.dependencies}),
            ),
            "unknown": Findings(unknown_contacts(result), len(result.unknown_contacts)),
            "without_convention": Findings(
                without_convention(result), len(result.without_convention)
            ),
            "unanswered": Findings(unanswered(result), len(result.unanswered)),
        },
        "shown": SHOWN,
        "number": number,
        "start": top,
        "structures": partners_table(result.graph),
        "lost": await lost_contacts(),
    }


# ---- the explorer's graph ---------------------------------------------------------------


def explorer_graph(g: nx.MultiDiGraph) -> dict[str, Any]:
    """Structures and the links between them, one edge per pair with its levels: what
    the explorer needs to show a neighbourhood, and no more (no people: their names stay
    on the records' pages)."""
    nodes = g.nodes
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for u, v, d in g.edges(data=True):
        kind = d["type"]
        if kind == RELATIONSHIP:
            w = nodes[v]["structure_id"] if nodes[v]["type"] == PERSON else v
        elif kind == CONVENTION and d["status"] in LIVE:
            w = v
        else:
            continue
        if w == u:
            continue
        key = (u, w) if u < w else (w, u)
        pair = pairs.setdefault(key, {"levels": set(), "convention": False})
        pair["levels"].add(d["level"])
        pair["convention"] |= kind == CONVENTION
    levels_of: dict[str, set[str]] = {}
    for (a, b), pair in pairs.items():
        levels_of.setdefault(a, set()).update(pair["levels"])
        levels_of.setdefault(b, set()).update(pair["levels"])
    order = {lv: i for i, lv in enumerate(LEVELS)}
    return {
        "nodes": [
            {
                "id": n,
                "name": d["name"],
                "domains": sorted(d["domains"]),
                "levels": sorted(levels_of.get(n, ()), key=order.__getitem__),
                "url": structure_url(n),
            }
            for n, d in sorted(
                nodes(data=True), key=lambda item: str(item[1].get("name", "")).casefold()
            )
            if d["type"] == STRUCTURE
        ],
        "edges": [
            {
                "source": a,
                "target": b,
                "levels": sorted(pair["levels"], key=order.__getitem__),
                "convention": pair["convention"],
            }
            for (a, b), pair in sorted(pairs.items())
        ],
    }


async def explorer_data(levels: list[str], domains: list[str]) -> dict[str, Any]:
    """Only the graph: none of the page's analyses are needed to draw a neighbourhood."""
    g = analyses.filter_graph(
        graph_of(await load_records()), levels=levels or None, domains=domains or None
    )
    return {"filters": {"levels": levels, "domains": domains}, **explorer_graph(g)}
