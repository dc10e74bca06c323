"""Exports read back by networkx, and CSV rows for every table."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import networkx as nx
import pytest

from graph import analyses
from graph.export import (
    gexf_bytes,
    graph_from_node_link,
    graphml_bytes,
    node_link,
    plain_value,
    to_csv_rows,
)
from graph.network import build_graph
from graph.records import ReferralFlow, ServiceCoverage
from tests.graph.builders import convention, link, person, structure


def sample_graph() -> nx.MultiDiGraph:
    return build_graph(
        [
            structure("ml", 'Mission Locale "Drôme" & Co <Valence>', ["employment", "career"]),
            structure("asso", "Association\x01 Relais", ["housing"], ["26362", "26281"]),
            structure("cms", "Centre de santé", ["health"]),
        ],
        [person("m1", "ml"), person("a1", "asso", active=False)],
        [
            link("r1", "ml", "asso"),
            link("r2", "ml", "a1", "political", to_person=True),
            link("r3", "ml", "cms", "organisational"),
        ],
        [
            convention("c1", ["ml", "asso"], referents=["m1"], end=date(2026, 12, 31)),
            convention("c2", ["ml", "cms"], status="draft"),
        ],
        [ReferralFlow("ml", "cms", 7, 2)],
    )


def test_graphml_reads_back_with_every_node_edge_and_attribute():
    g = sample_graph()
    back = nx.read_graphml(io.BytesIO(graphml_bytes(g)))
    assert (back.number_of_nodes(), back.number_of_edges()) == (5, 8)
    assert back.nodes["asso"]["domains"] == "housing"
    assert back.nodes["asso"]["communes"] == "26281;26362"  # a set: sorted, joined
    assert back.nodes["asso"]["name"] == "Association Relais"  # control character dropped
    assert back.nodes["ml"]["name"] == 'Mission Locale "Drôme" & Co <Valence>'
    assert back.nodes["a1"]["active"] is False
    assert back.edges["ml", "a1", "r2"]["level"] == "political"
    assert back.edges["ml", "asso", "c1/0"]["end"] == "2026-12-31"
    assert back.edges["ml", "cms", "c2/0"]["end"] == ""  # None
    assert back.edges["ml", "cms", "flow:ml:cms"]["count"] == 7


def test_graphml_says_the_same_as_networkxs_own_writer():
    g = sample_graph()
    plain = nx.MultiDiGraph()
    plain.add_nodes_from(
        (n, {k: plain_value(v) for k, v in d.items()}) for n, d in g.nodes(data=True)
    )
    plain.add_edges_from(
        (u, v, key, {k: plain_value(x) for k, x in d.items()})
        for u, v, key, d in g.edges(keys=True, data=True)
    )
    plain.nodes["asso"]["name"] = "Association Relais"
    theirs = io.BytesIO()
    nx.write_graphml(plain, theirs)
    ours = nx.read_graphml(io.BytesIO(graphml_bytes(g)))
    reference = nx.read_graphml(io.BytesIO(theirs.getvalue()))
    assert dict(ours.nodes(data=True)) == dict(reference.nodes(data=True))
    assert sorted(ours.edges(keys=True, data=True), key=str) == sorted(
        reference.edges(keys=True, data=True), key=str
    )


def test_gexf_reads_back_with_labels_and_renamed_attributes():
    g = sample_graph()
    back = nx.read_gexf(io.BytesIO(gexf_bytes(g)))
    assert (back.number_of_nodes(), back.number_of_edges()) == (5, 8)
    assert back.nodes["cms"]["label"] == "Centre de santé"
    # GEXF reserves `type` and `end`: they travel as `category` and `end_date`.
    assert back.nodes["cms"]["category"] == "structure"
    edge = back.edges["ml", "asso", "c1/0"]
    assert (edge["category"], edge["end_date"], edge["record_id"]) == (
        "convention",
        "2026-12-31",
        "c1",
    )
    assert back.edges["ml", "cms", "flow:ml:cms"]["weight"] == 7.0
    assert back.nodes["a1"]["active"] is False


def test_node_link_json_round_trip():
    g = sample_graph()
    data = json.loads(json.dumps(node_link(g)))
    assert len(data["edges"]) == 8
    assert data["multigraph"] and data["directed"]
    back = graph_from_node_link(data)
    assert (back.number_of_nodes(), back.number_of_edges()) == (5, 8)
    assert back.nodes["ml"]["domains"] == ["career", "employment"]
    assert back.edges["ml", "asso", "c1/0"]["referents"] == ["m1"]
    assert g.nodes["ml"]["domains"] == frozenset({"career", "employment"})  # untouched


def write_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue()


def test_every_analysis_table_has_csv_rows():
    g = sample_graph()
    coverages = [ServiceCoverage("ml", "employment", frozenset({"26362"}))]
    flows = [ReferralFlow("ml", "cms", 7, 2)]
    tables = {
        "silos": analyses.silos(g),
        "brokers": analyses.brokers(g),
        "dependencies": analyses.single_person_dependencies(g),
        "leaving": analyses.what_if_person_leaves(g, "m1"),
        "sole": analyses.sole_providers(coverages),
        "without": analyses.relationships_without_convention(g),
        "expiring": analyses.conventions_expiring(
            [convention("c1", ["ml", "asso"], end=date(2026, 6, 30))], date(2026, 6, 1)
        ),
        "unanswered": analyses.unanswered_partners(flows, 0.1),
        "balance": analyses.level_balance(g),
    }
    rows = {name: to_csv_rows(result) for name, result in tables.items()}
    for name, table in rows.items():
        assert table, name
        assert all(list(row) == list(table[0]) for row in table), name
        assert all(isinstance(v, str | int | float | bool) for row in table for v in row.values())
        write_csv(table)
    # Silos: one group of three.
    assert [(r["structure_id"], r["group"]) for r in rows["silos"]] == [
        ("asso", 1),
        ("cms", 1),
        ("ml", 1),
    ]
    assert rows["brokers"][0] | {"betweenness": 1.0} == {
        "rank": 1,
        "structure_id": "ml",
        "structure_name": 'Mission Locale "Drôme" & Co <Valence>',
        "betweenness": 1.0,
        "approximate": False,
        "k": "",
    }
    assert list(rows["dependencies"][0])[:4] == [
        "structure_id",
        "structure_name",
        "partner_id",
        "partner_name",
    ]
    assert rows["sole"] == [{"domain": "employment", "structure_id": "ml", "communes": "26362"}]
    assert rows["balance"][0] == {
        "domain": "",
        "operational": 1,
        "organisational": 1,
        "political": 1,
        "total": 3,
    }
    assert rows["leaving"][0]["loses"] == "partnership"


def test_csv_rows_refuse_what_is_not_a_table():
    with pytest.raises(TypeError):
        to_csv_rows(42)
