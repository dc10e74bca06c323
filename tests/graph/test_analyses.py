"""Each analysis on a hand-made graph of a few nodes whose answer is worked out on paper in
the comments."""

from __future__ import annotations

from datetime import date

import networkx as nx
import pytest

from graph.analyses import (
    ONLY_ACTIVE_PERSON,
    ONLY_CONTACT,
    ONLY_REFERENT,
    Broker,
    LevelCounts,
    StructureRef,
    betweenness,
    broker_roles,
    brokers,
    conventions_expiring,
    filter_graph,
    level_balance,
    relationships_without_convention,
    silos,
    single_person_dependencies,
    sole_providers,
    unanswered_partners,
    unknown_contacts,
    what_if_person_leaves,
)
from graph.network import build_graph
from graph.records import ReferralFlow, ServiceCoverage
from tests.graph.builders import convention, link, person, structure

# --- silos -------------------------------------------------------------------------------


def test_silos_finds_isolated_structures_and_two_separate_groups():
    # a - b by a relationship, b - c by a convention: one group {a, b, c}.
    # d - e by a relationship to e's person: a second group {d, e}.
    # f has nothing; g only sends referrals, which are not a partnership: both isolated.
    g = build_graph(
        [structure(s, name=s.upper()) for s in "abcdefg"],
        [person("e1", "e"), person("f1", "f")],
        [link("r1", "a", "b"), link("r2", "d", "e1", to_person=True)],
        [convention("c1", ["b", "c"])],
        [ReferralFlow("g", "a", 3, 0)],
    )
    result = silos(g)
    assert result.isolated == (StructureRef("f", "F"), StructureRef("g", "G"))
    assert [[s.id for s in group] for group in result.groups] == [["a", "b", "c"], ["d", "e"]]
    assert result.fragmented


def test_an_expired_convention_no_longer_links():
    g = build_graph(
        [structure("a"), structure("b"), structure("c")],
        [],
        [],
        [
            convention("old", ["a", "b"], status="expired"),
            convention("new", ["b", "c"], status="draft"),
        ],
    )
    # a's only tie is an expired convention: isolated. b - c are drafting one: linked.
    result = silos(g)
    assert [s.id for s in result.isolated] == ["a"]
    assert [[s.id for s in group] for group in result.groups] == [["b", "c"]]


def test_one_connected_mesh_is_not_fragmented():
    g = build_graph([structure("a"), structure("b")], [], [link("r", "a", "b")])
    result = silos(g)
    assert result.isolated == ()
    assert len(result.groups) == 1
    assert not result.fragmented


# --- brokers -----------------------------------------------------------------------------


def star():
    # A Mission Locale at the centre, four partners who only know it.
    leaves = ["l1", "l2", "l3", "l4"]
    return build_graph(
        [structure("ml", "Mission Locale"), *(structure(s, s.upper()) for s in leaves)],
        [],
        [link(f"r-{s}", "ml", s) for s in leaves],
    )


def test_the_centre_of_a_star_is_the_only_broker():
    result = brokers(star())
    # Every one of the C(4, 2) = 6 shortest paths between two leaves passes through the
    # centre; normalised by the 6 pairs of other nodes, its betweenness is 6 / 6 = 1.
    # The leaves lie on no path between others: 0, so they are not ranked.
    assert [(b.structure.id, b.betweenness) for b in result.ranking] == [("ml", 1.0)]
    assert not result.approximate
    assert result.k is None
    assert result.method == "Valeurs exactes, calculées sur les 5 structures."


def test_brokers_on_a_path_share_the_middle():
    # a - b - c - d: b lies on the shortest paths a-c and a-d, 2 of the 3 pairs that do
    # not include it: 2 / 3; c likewise (b-d, a-d).
    g = build_graph(
        [structure(s) for s in "abcd"],
        [],
        [link("r1", "a", "b"), link("r2", "b", "c"), link("r3", "c", "d")],
    )
    result = brokers(g)
    assert [(b.structure.id, round(b.betweenness, 6)) for b in result.ranking] == [
        ("b", 0.666667),
        ("c", 0.666667),
    ]


def test_sampled_brokers_say_they_are_approximate():
    result = brokers(star(), k=2, seed=3)
    assert result.approximate
    assert (result.k, result.seed, result.structures) == (2, 3, 5)
    assert result.ranking[0].structure.id == "ml"
    assert result.method.startswith("Valeurs approchées")
    assert "2 structures de départ" in result.method


def test_a_sample_as_large_as_the_network_is_exact():
    assert not brokers(star(), k=50).approximate
    with pytest.raises(ValueError, match="k must be at least 2"):
        brokers(star(), k=1)


@pytest.mark.parametrize("k", [None, 5, 30])
def test_betweenness_gives_networkxs_figures(k):
    # Our kernel is only faster: exact or sampled, it must say what networkx says, for the
    # same seed. A sparse random graph with string labels, several components, leaves.
    h = nx.relabel_nodes(nx.gnm_random_graph(60, 70, seed=11), lambda i: f"s{i}")
    h.add_node("alone")
    expected = nx.betweenness_centrality(h, k=k, seed=7)
    assert betweenness(h, k=k, seed=7) == pytest.approx(expected, abs=1e-12)


# --- single-person dependencies ----------------------------------------------------------


def dependency_graph(h1_active: bool = True):
    # ml has three people; asso one active person (a2 has left); cms and fjt two each.
    # ml - asso and asso - fjt: relationships between structures, nobody named.
    # ml - cms: a relationship and an active convention naming m1 (ml) and c1 (cms).
    # ml - fjt: a relationship to h1, a person of fjt.
    return build_graph(
        [
            structure("ml", "Mission Locale"),
            structure("asso", "Association Relais"),
            structure("cms", "Centre de santé"),
            structure("fjt", "Foyer Jeunes Travailleurs"),
        ],
        [
            person("m1", "ml"),
            person("m2", "ml"),
            person("m3", "ml"),
            person("a1", "asso"),
            person("a2", "asso", active=False),
            person("c1", "cms"),
            person("c2", "cms"),
            person("h1", "fjt", active=h1_active),
            person("h2", "fjt"),
        ],
        [
            link("r-asso", "ml", "asso"),
            link("r-asso-fjt", "asso", "fjt"),
            link("r-cms", "ml", "cms"),
            link("r-fjt", "ml", "h1", to_person=True),
        ],
        [convention("conv-cms", ["ml", "cms"], referents=["m1", "c1"])],
    )


def test_partnerships_resting_on_one_person_are_listed_with_what_their_leaving_costs():
    result = single_person_dependencies(dependency_graph())
    rows = [
        (d.structure.id, d.partner.id, d.person_id, d.reason, [s.id for s in d.if_person_leaves])
        for d in result
    ]
    assert rows == [
        # asso's only active person holds both of its partnerships; if a1 leaves, fjt and
        # ml lose their last person at asso (sorted by name: Foyer..., Mission Locale).
        ("asso", "fjt", "a1", ONLY_ACTIVE_PERSON, ["fjt", "ml"]),
        ("asso", "ml", "a1", ONLY_ACTIVE_PERSON, ["fjt", "ml"]),
        # The convention names one referent at cms, c1, though c2 works there too.
        ("cms", "ml", "c1", ONLY_REFERENT, ["ml"]),
        # ml's relationship with fjt goes to h1 alone.
        ("fjt", "ml", "h1", ONLY_CONTACT, ["ml"]),
        # And on ml's side, the convention with cms names m1 alone.
        ("ml", "cms", "m1", ONLY_REFERENT, ["cms"]),
    ]
    # fjt - asso is not listed on fjt's side: nobody is named there and fjt has two people.
    cms = result[2]
    assert cms.relationship_ids == ("r-cms",)
    assert cms.convention_ids == ("conv-cms",)
    assert cms.person_name == "Personne c1"


def test_after_the_only_contact_leaves_the_partnership_rests_on_the_remaining_colleague():
    # h1 has left fjt: ml - fjt has no named person any more, so it rests on fjt's only
    # active person, h2.
    result = single_person_dependencies(dependency_graph(h1_active=False))
    fjt = [(d.partner.id, d.person_id, d.reason) for d in result if d.structure.id == "fjt"]
    assert fjt == [("asso", "h2", ONLY_ACTIVE_PERSON), ("ml", "h2", ONLY_ACTIVE_PERSON)]


def test_a_convention_with_two_referents_on_a_side_is_not_a_dependency_there():
    g = build_graph(
        [structure("a"), structure("b")],
        [person("a1", "a"), person("a2", "a"), person("a3", "a"), person("b1", "b")],
        [],
        [convention("c", ["a", "b"], referents=["a1", "a2", "b1"])],
    )
    # Side a: two referents. Side b: b1 is the only referent and b's only person.
    assert [(d.structure.id, d.person_id, d.reason) for d in single_person_dependencies(g)] == [
        ("b", "b1", ONLY_ACTIVE_PERSON)
    ]


def test_what_if_the_only_active_person_of_a_structure_leaves():
    leaving = what_if_person_leaves(dependency_graph(), "a1")
    # Both of asso's partnerships lose their last person; a2 already left: no colleague.
    assert [s.id for s in leaving.partnerships_losing_last_person] == ["fjt", "ml"]
    assert leaving.conventions_losing_referent == ()
    assert leaving.colleagues_left == 0
    assert leaving.structure == StructureRef("asso", "Association Relais")


def test_what_if_a_convention_referent_leaves():
    leaving = what_if_person_leaves(dependency_graph(), "m1")
    # m1 is the only referent named by ml in conv-cms: the ml - cms partnership loses its
    # named person on ml's side, and the convention its referent; m2 and m3 remain.
    assert [s.id for s in leaving.partnerships_losing_last_person] == ["cms"]
    assert leaving.conventions_losing_referent == ("conv-cms",)
    assert leaving.colleagues_left == 2


def test_what_if_someone_nobody_depends_on_leaves():
    leaving = what_if_person_leaves(dependency_graph(), "m2")
    assert leaving.partnerships_losing_last_person == ()
    assert leaving.conventions_losing_referent == ()
    assert leaving.colleagues_left == 2


def test_what_if_for_an_unknown_person():
    with pytest.raises(KeyError):
        what_if_person_leaves(dependency_graph(), "ml")


# --- sole providers ----------------------------------------------------------------------


def test_sole_providers_per_domain():
    coverages = [
        # housing: s1 serves 01, 02, 03; s2 serves 03, 04 -> s1 alone in 01, 02; s2 in 04.
        ServiceCoverage("s1", "housing", frozenset({"01", "02", "03"})),
        ServiceCoverage("s2", "housing", frozenset({"03", "04"})),
        # health: s1 serves 01; s3 serves 01, 02 -> s3 alone in 02; 01 has two providers.
        ServiceCoverage("s1", "health", frozenset({"01"})),
        ServiceCoverage("s3", "health", frozenset({"01", "02"})),
        # Two services of one structure in one commune still make one provider.
        ServiceCoverage("s4", "sport", frozenset({"05"})),
        ServiceCoverage("s4", "sport", frozenset({"05"})),
    ]
    assert [(r.domain, r.structure_id, r.communes) for r in sole_providers(coverages)] == [
        ("health", "s3", ("02",)),
        ("housing", "s1", ("01", "02")),
        ("housing", "s2", ("04",)),
        ("sport", "s4", ("05",)),
    ]


# --- relationships without convention, conventions expiring ------------------------------


def test_relationships_without_a_convention_in_force():
    g = build_graph(
        [structure(s, s.upper()) for s in "abcd"],
        [person("d1", "d")],
        [
            link("r-ab", "a", "b"),
            link("r-ac", "a", "c", level="political"),
            link("r-ca", "c", "a"),
            link("r-ad", "a", "d1", to_person=True),
        ],
        [
            convention("c-ab", ["a", "b"]),  # in force: a - b is formalised
            convention("c-ac", ["a", "c"], status="expired"),
        ],
    )
    rows = relationships_without_convention(g)
    # a - c: two relationships, operational and political, and only an expired convention;
    # a - d: a relationship to d's person, no convention at all.
    assert [(r.a.id, r.b.id, r.levels, r.relationship_ids, r.other_conventions) for r in rows] == [
        ("a", "c", ("operational", "political"), ("r-ac", "r-ca"), ("c-ac",)),
        ("a", "d", ("operational",), ("r-ad",), ()),
    ]


def test_conventions_expiring_within_the_window():
    today = date(2026, 6, 1)
    conventions = [
        convention("today", ["a", "b"], status="expiring", end=date(2026, 6, 1)),  # 0 days
        convention("june", ["a", "b"], status="expiring", end=date(2026, 6, 30)),  # 29 days
        convention("sept", ["a", "b"], end=date(2026, 9, 15)),  # 106 days: beyond 90
        convention("gone", ["a", "b"], status="expired", end=date(2026, 5, 1)),
        convention("open", ["a", "b"], end=None),  # no end date, never expires
        convention("stopped", ["a", "b"], status="terminated", end=date(2026, 6, 10)),
    ]
    result = conventions_expiring(conventions, today)
    assert [(r.convention_id, r.days_left) for r in result] == [("today", 0), ("june", 29)]
    wider = conventions_expiring(conventions, today, within_days=120)
    assert [r.convention_id for r in wider] == ["today", "june", "sept"]


# --- unanswered partners -----------------------------------------------------------------


def test_partners_whose_referrals_go_unanswered():
    flows = [
        ReferralFlow("a", "b", 10, 4),
        ReferralFlow("c", "b", 10, 2),  # b: 20 received, 6 unanswered, 30 %
        ReferralFlow("a", "c", 2, 2),  # c: 2 received, 2 unanswered, 100 %
        ReferralFlow("d", "a", 5, 0),  # a: 0 %
    ]
    rows = unanswered_partners(flows, threshold=0.3)
    # Most unanswered referrals first: b (6) before c (2), whatever the shares.
    assert [(r.structure_id, r.referrals, r.unanswered, r.share) for r in rows] == [
        ("b", 20, 6, 0.3),
        ("c", 2, 2, 1.0),
    ]
    assert [r.structure_id for r in unanswered_partners(flows, 0.3, min_referrals=3)] == ["b"]
    with pytest.raises(ValueError, match="threshold"):
        unanswered_partners(flows, threshold=30)


# --- level balance -----------------------------------------------------------------------


def test_level_balance_counts_each_relationship_for_the_domains_of_both_ends():
    structures = [
        structure("a", domains=["housing"]),
        structure("b", domains=["housing", "health"]),
        structure("c", domains=["health"]),
        structure("d", domains=["employment"]),
        structure("e", domains=["sport"]),
    ]
    g = build_graph(
        structures,
        [person("d1", "d")],
        [
            link("ab", "a", "b", "operational"),  # housing (once), health
            link("bc", "b", "c", "political"),  # housing, health
            link("ac", "a", "c", "organisational"),  # housing, health
            link("cd", "c", "d1", "operational", to_person=True),  # health, employment
        ],
        [convention("conv", ["a", "e"], level="political")],  # a convention, not counted
    )
    result = level_balance(g, structures)
    assert result.overall == LevelCounts("", 2, 1, 1)
    assert result.by_domain == (
        LevelCounts("employment", 1, 0, 0),
        LevelCounts("health", 2, 1, 1),
        LevelCounts("housing", 1, 1, 1),
        LevelCounts("sport", 0, 0, 0),  # listed, with zeros: nobody links it
    )
    assert result.overall.total == 4
    # Without records, the domains stored on the nodes give the same answer.
    assert level_balance(g) == result


def test_level_balance_restricted_to_some_structures():
    structures = [structure("a", domains=["housing"]), structure("b", domains=["health"])]
    g = build_graph(
        [*structures, structure("z", domains=["culture"]), structure("y", domains=["sport"])],
        [],
        [link("ab", "a", "b"), link("az", "a", "z", "political"), link("zy", "z", "y")],
    )
    # Only a and b are asked about: z - y touches neither; a - z counts for housing only,
    # since z's domains are not given.
    result = level_balance(g, structures)
    assert result.overall == LevelCounts("", 1, 0, 1)
    assert result.by_domain == (LevelCounts("health", 1, 0, 0), LevelCounts("housing", 1, 0, 1))


# --- filters -----------------------------------------------------------------------------


def test_filter_by_level_and_domain():
    g = build_graph(
        [
            structure("a", domains=["housing"]),
            structure("b", domains=["housing", "health"]),
            structure("c", domains=["health"]),
        ],
        [person("a1", "a"), person("c1", "c")],
        [link("ab", "a", "b", "operational"), link("ba", "b", "a", "political")],
        [
            convention("c-ab", ["a", "b"], level="operational", domains=["health"]),
            convention("c-bc", ["b", "c"], level="operational"),
        ],
        [ReferralFlow("a", "c", 2, 0)],
    )
    operational = filter_graph(g, levels=["operational"])
    assert sorted(k for *_, k in operational.edges(keys=True)) == [
        "ab",
        "c-ab/0",
        "c-bc/0",
        "flow:a:c",
        "membership:a1",
        "membership:c1",
    ]
    housing = filter_graph(g, domains=["housing"])
    # c does not work in housing: it goes, with its person and its edges; the a - b
    # convention is about health only and goes too.
    assert sorted(housing.nodes) == ["a", "a1", "b"]
    assert sorted(k for *_, k in housing.edges(keys=True)) == ["ab", "ba", "membership:a1"]
    assert g.number_of_edges() == 7  # the original is untouched
    with pytest.raises(ValueError, match="levels"):
        filter_graph(g, levels=["local"])


# --- brokers in words, unknown contacts ---------------------------------------------------


def test_broker_roles_count_partners_and_the_groups_they_hold_together():
    # b links a, c and d; a - c also talk directly, d only through b: without b, its
    # partners fall into two groups {a, c} and {d}. c links b and a, who also talk: one.
    g = build_graph(
        [structure(s, name=s.upper()) for s in "abcd"],
        [],
        [link("r1", "a", "b"), link("r2", "b", "c"), link("r3", "b", "d"), link("r4", "a", "c")],
    )
    roles = broker_roles(
        g, [Broker(StructureRef("b", "B"), 0.5), Broker(StructureRef("c", "C"), 0.0)]
    )
    assert [(r.structure.id, r.partners, r.groups) for r in roles] == [("b", 3, 2), ("c", 2, 1)]


def test_unknown_contacts_are_linked_structures_without_anyone_in_post():
    # a has an active person; b's only person left; c has nobody; d has nobody but no link
    # either (isolated, another list). b and c are missing data, most linked first.
    g = build_graph(
        [structure(s, name=s.upper()) for s in "abcd"],
        [person("a1", "a"), person("b1", "b", active=False)],
        [link("r1", "a", "b"), link("r2", "a", "c"), link("r3", "b", "c")],
    )
    assert [(u.structure.id, u.partners) for u in unknown_contacts(g)] == [("b", 2), ("c", 2)]
    # And they are not "resting on one person": nobody holds their side.
    assert {d.structure.id for d in single_person_dependencies(g)} == {"a"}
