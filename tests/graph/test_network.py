"""Building the partner network from plain records."""

from __future__ import annotations

import pytest

from graph.network import GraphInputError, build_graph, structure_links, structure_network
from graph.records import ReferralFlow
from tests.graph.builders import convention, link, person, structure


def test_nodes_and_edges_are_typed():
    g = build_graph(
        [structure("ml"), structure("asso"), structure("cms")],
        [person("p1", "asso")],
        [link("r1", "ml", "asso"), link("r2", "ml", "p1", to_person=True, level="political")],
        [convention("c1", ["ml", "asso"], referents=["p1"])],
        [ReferralFlow("ml", "cms", 4, 1)],
    )
    assert {n: d["type"] for n, d in g.nodes(data=True)} == {
        "ml": "structure",
        "asso": "structure",
        "cms": "structure",
        "p1": "person",
    }
    assert sorted((u, v, d["type"]) for u, v, d in g.edges(data=True)) == [
        ("ml", "asso", "convention"),
        ("ml", "asso", "relationship"),
        ("ml", "cms", "flow"),
        ("ml", "p1", "relationship"),
        ("p1", "asso", "membership"),
    ]
    assert g.edges["ml", "p1", "r2"]["level"] == "political"
    # The convention names p1, who works at asso: the target end of the ml -> asso edge.
    assert g.edges["ml", "asso", "c1/0"]["target_referents"] == ("p1",)
    assert g.edges["ml", "asso", "c1/0"]["source_referents"] == ()
    assert g.edges["ml", "cms", "flow:ml:cms"]["weight"] == 4


def test_a_convention_between_three_structures_links_each_pair():
    g = build_graph(
        [structure("a"), structure("b"), structure("c")],
        [],
        [],
        [convention("c1", ["a", "b", "c"])],
    )
    # 3 structures -> 3 pairs: a-b, a-c, b-c.
    assert sorted((u, v) for u, v in g.edges()) == [("a", "b"), ("a", "c"), ("b", "c")]


def test_flows_for_the_same_pair_are_summed():
    g = build_graph(
        [structure("a"), structure("b")],
        [],
        flows=[
            ReferralFlow("a", "b", 3, 1),
            ReferralFlow("a", "b", 2, 2),
            ReferralFlow("a", "a", 9, 0),
        ],
    )
    # 3 + 2 referrals, 1 + 2 unanswered; a's referrals to itself are not part of the mesh.
    assert [(u, v, d["count"], d["unanswered"]) for u, v, d in g.edges(data=True)] == [
        ("a", "b", 5, 3)
    ]


def test_a_relationship_to_a_person_links_to_their_structure():
    g = build_graph(
        [structure("a"), structure("b")],
        [person("p", "b")],
        [link("r", "a", "p", to_person=True)],
    )
    assert sorted(structure_network(g).edges()) == [("a", "b")]


def test_structure_links_are_the_structure_network_as_lists():
    # A relationship, one to a person, one to a colleague (no link), a live convention of
    # three, an expired one, a flow (not a partnership), and a structure on its own.
    g = build_graph(
        [structure(s) for s in "abcdef"],
        [person("p", "b"), person("q", "a")],
        [link("r1", "a", "p", to_person=True), link("r2", "a", "q", to_person=True)],
        [convention("c1", "bcd"), convention("c2", "ae", status="expired")],
        [ReferralFlow("e", "a", 3, 0)],
    )
    ids, partners = structure_links(g)
    assert ids == list("abcdef")
    pairs = sorted((ids[i], ids[j]) for i, p in enumerate(partners) for j in p if i < j)
    network = structure_network(g)
    assert pairs == sorted(tuple(sorted(edge)) for edge in network.edges())
    assert pairs == [("a", "b"), ("b", "c"), ("b", "d"), ("c", "d")]
    assert partners[ids.index("f")] == [] and partners[ids.index("e")] == []


@pytest.mark.parametrize(
    "records, message",
    [
        ({"people": [person("p", "nowhere")]}, "person p: structure_id 'nowhere' is unknown"),
        (
            {"relationships": [link("r", "a", "zz")]},
            "relationship r: target 'zz' is not a structure",
        ),
        (
            {"relationships": [link("r", "a", "b", to_person=True)]},
            "relationship r: target 'b' is not a person",
        ),
        ({"relationships": [link("r", "a", "b", level="local")]}, "relationship r: level 'local'"),
        (
            {"conventions": [convention("c", ["a"])]},
            "convention c: structures must name at least two",
        ),
        (
            {"conventions": [convention("c", ["a", "b"], referents=["x"])]},
            "referent 'x' is unknown",
        ),
        ({"conventions": [convention("c", ["a", "b"], status="signed")]}, "status 'signed'"),
        ({"flows": [ReferralFlow("a", "b", 2, 3)]}, "needs 0 <= unanswered <= count"),
    ],
)
def test_bad_records_are_refused_with_the_record_and_field_named(records, message):
    arguments = {"people": [], "relationships": [], "conventions": [], "flows": []} | records
    with pytest.raises(GraphInputError, match=message.replace("(", r"\(")):
        build_graph([structure("a"), structure("b")], **arguments)


def test_a_structure_id_given_twice_is_refused():
    with pytest.raises(GraphInputError, match="structure a: id appears twice"):
        build_graph([structure("a"), structure("a")], [])
