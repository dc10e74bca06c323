"""The partner network of the territory: records read from the database, handed to the
pure analyses of graph/, and the results the network page and the API show."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import networkx as nx

from conventions.store import read_many as read_conventions
from directory.gazetteer import load_gazetteer
from directory.hours import local_date
from directory.tables import Person, Relationship, Service, Site, Structure
from graph import analyses
from graph.network import build_graph, structure_links
from graph.records import (
    ConventionEdge,
    PersonNode,
    ReferralFlow,
    RelationshipEdge,
    ServiceCoverage,
    StructureNode,
)
from service.referrals.machine import AWAITING_PARTNER, Status
from service.referrals.tables import Referral

UNANSWERED_SHARE = 0.5


@dataclass
class Records:
    structures: list[StructureNode]
    people: list[PersonNode]
    relationships: list[RelationshipEdge]
    conventions: list[ConventionEdge]
    flows: list[ReferralFlow]
    coverages: list[ServiceCoverage]


async def load_records(today: date | None = None) -> Records:
    """Everything the analyses need, in a handful of queries."""
    today = today or local_date()
    gazetteer = load_gazetteer()
    structures = await Structure.select(
        Structure.id, Structure.name, Structure.kind, Structure.network, Structure.status
    )
    sites = await Site.select(Site.id, Site.structure, Site.commune)
    services = await Service.select(Service.structure, Service.site, Service.domains, Service.zone)
    communes_of: dict[Any, set[str]] = {}
    site_commune = {}
    for site in sites:
        communes_of.setdefault(site["structure"], set()).add(site["commune"])
        site_commune[site["id"]] = site["commune"]
    domains_of: dict[Any, set[str]] = {}
    served: dict[tuple[Any, str], set[str]] = {}
    for service in services:
        domains_of.setdefault(service["structure"], set()).update(service["domains"])
        reach = (
            {site_commune[service["site"]]}
            if service["site"] in site_commune
            else set(communes_of.get(service["structure"], set()))
        )
        for code in service["zone"]:
            if code != "france":  # a national zone would make everyone everywhere
                reach.update(gazetteer.communes_of_zone(code))
        for domain in service["domains"]:
            served.setdefault((service["structure"], domain), set()).update(reach)
    people = await Person.select(
        Person.id, Person.structure, Person.first_name, Person.last_name, Person.active
    )
    relationships = await Relationship.select()
    conventions = await read_conventions(today=today)
    referrals = await Referral.select(
        Referral.from_structure,
        Referral.to_structure,
        Referral.status,
        Referral.acknowledge_due,
        Referral.answer_due,
    ).where(Referral.sent_at.is_not_null())
    now = datetime.now(UTC)
    flows: dict[tuple[str, str], list[int]] = {}
    for r in referrals:
        pair = flows.setdefault((str(r["from_structure"]), str(r["to_structure"])), [0, 0])
        pair[0] += 1
        status = Status(r["status"])
        due = r["acknowledge_due"] if status == Status.SENT else r["answer_due"]
        late = status in AWAITING_PARTNER and due is not None and due < now
        pair[1] += int(status == Status.EXPIRED or late)
    return Records(
        structures=[
            StructureNode(
                id=str(s["id"]),
                name=s["name"],
                kind=s["kind"],
                network=s["network"],
                domains=frozenset(domains_of.get(s["id"], set())),
                communes=frozenset(communes_of.get(s["id"], set())),
                status=s["status"],
            )
            for s in structures
        ],
        people=[
            PersonNode(
                id=str(p["id"]),
                structure_id=str(p["structure"]),
                name=f"{p['first_name']} {p['last_name']}",
                active=p["active"],
            )
            for p in people
        ],
        relationships=[
            RelationshipEdge(
                id=str(r["id"]),
                source=str(r["source"]),
                target=str(r["target_structure"] or r["target_person"]),
                target_is_person=r["target_person"] is not None,
                level=r["level"],
                kind=r["kind"],
            )
            for r in relationships
        ],
        conventions=[
            ConventionEdge(
                id=str(c.id),
                structures=tuple(str(p.structure_id) for p in c.parties),
                level=str(c.level),
                domains=frozenset(str(d) for d in c.domains),
                status=c.status.value,
                end=c.ends_on,
                referents=tuple(str(p.referent_id) for p in c.parties if p.referent_id),
                title=c.title,
            )
            for c in conventions
        ],
        flows=[
            ReferralFlow(s, t, count, unanswered) for (s, t), (count, unanswered) in flows.items()
        ],
        coverages=[
            ServiceCoverage(structure_id=str(structure), domain=domain, communes=frozenset(c))
            for (structure, domain), c in served.items()
        ],
    )


def graph_of(records: Records) -> nx.MultiDiGraph:
    return build_graph(
        records.structures,
        records.people,
        records.relationships,
        records.conventions,
        records.flows,
    )


@dataclass
class NetworkReport:
    graph: nx.MultiDiGraph
    silos: analyses.Silos
    brokers: analyses.Brokers
    dependencies: tuple[analyses.SinglePersonDependency, ...]
    sole_providers: tuple[analyses.SoleProvider, ...]
    without_convention: tuple[analyses.RelationshipWithoutConvention, ...]
    expiring: tuple[analyses.ExpiringConvention, ...]
    unanswered: tuple[analyses.UnansweredPartner, ...]
    balance: analyses.LevelBalance
    names: dict[str, str]
    unknown_contacts: tuple[analyses.UnknownContact, ...] = ()


TABLES = (
    "silos",
    "brokers",
    "dependencies",
    "sole_providers",
    "without_convention",
    "expiring",
    "unanswered",
    "balance",
    "unknown_contacts",
)


# Betweenness is the one analysis that grows faster than the mesh (3.6 s for 1,500
# structures on two cores, against 0.2 s for all the others together). Its result depends
# only on the mesh and the names, so it is kept for the last few meshes seen: a page
# reloaded without an edit in between answers at once, and any new or removed link, or
# renamed structure, gives a new key, so writes show on the next load.
_BROKERS_KEPT = 8
_brokers_cache: OrderedDict[tuple[Any, ...], analyses.Brokers] = OrderedDict()
# Above this many structures the page estimates betweenness from PAGE_BROKER_SAMPLES
# sources (the page says so); the API keeps exact figures up to analyses' own limit.
PAGE_EXACT_MAX = 1_000
PAGE_BROKER_SAMPLES = 300


def mesh_brokers(g: nx.MultiDiGraph, k: int | None = None) -> analyses.Brokers:
    """`analyses.brokers(g, k, top=15)`, remembered for the mesh it was computed on."""
    ids, partners = structure_links(g)
    key = (
        k,
        tuple(ids),
        tuple(g.nodes[i]["name"] for i in ids),
        tuple(tuple(p) for p in partners),
    )
    found = _brokers_cache.get(key)
    if found is None:
        found = analyses.brokers(g, k=k, top=15)
        _brokers_cache[key] = found
        while len(_brokers_cache) > _BROKERS_KEPT:
            _brokers_cache.popitem(last=False)
    else:
        _brokers_cache.move_to_end(key)
    return found


async def report(
    levels: list[str] | None = None,
    domains: list[str] | None = None,
    today: date | None = None,
    for_page: bool = False,
) -> NetworkReport:
    """Every analysis of the (filtered) network. `for_page` estimates the brokers on
    large meshes, so that the coordinator's page stays around a second."""
    today = today or local_date()
    records = await load_records(today)
    full = graph_of(records)
    g = (
        analyses.filter_graph(full, levels=levels or None, domains=domains or None)
        if levels or domains
        else full  # the analyses only read it: no copy needed
    )
    structures = len(records.structures)
    k = PAGE_BROKER_SAMPLES if for_page and structures > PAGE_EXACT_MAX else None
    return NetworkReport(
        graph=g,
        silos=analyses.silos(g),
        brokers=mesh_brokers(g, k if k is None or k < structures else None),
        dependencies=analyses.single_person_dependencies(g),
        sole_providers=analyses.sole_providers(
            c for c in records.coverages if not domains or c.domain in domains
        ),
        without_convention=analyses.relationships_without_convention(g),
        expiring=analyses.conventions_expiring(records.conventions, today),
        unanswered=analyses.unanswered_partners(records.flows, UNANSWERED_SHARE),
        balance=analyses.level_balance(g, records.structures),
        names={s.id: s.name for s in records.structures},
        unknown_contacts=analyses.unknown_contacts(g),
    )
