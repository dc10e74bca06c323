"""The server-side picture: well-formed, accessible, self-contained and deterministic."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET

from graph.layout import LEVEL_STYLE, draw_svg
from graph.network import build_graph
from graph.records import ReferralFlow
from tests.graph.builders import convention, link, person, structure

SVG = "{http://www.w3.org/2000/svg}"


def small_network():
    # Two groups (a-b-c-d and e-f), one isolated structure g, people at a and e.
    return build_graph(
        [structure(s, f"Structure {s.upper()}") for s in "abcdefg"],
        [person("a1", "a"), person("e1", "e", active=False)],
        [
            link("ab", "a", "b", "operational"),
            link("bc", "b", "c", "organisational"),
            link("cd", "c", "d", "political"),
            link("ef", "f", "e1", "operational", to_person=True),
        ],
        [convention("conv", ["a", "c"], level="political")],
        [ReferralFlow("a", "d", 12, 3), ReferralFlow("d", "a", 1, 0)],
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_the_picture_is_well_formed_and_has_one_circle_per_structure():
    root = parse(draw_svg(small_network()))
    assert root.tag == f"{SVG}svg"
    circles = list(root.iter(f"{SVG}circle"))
    assert len(circles) == 7
    names = sorted(c.find(f"{SVG}title").text.split(" — ")[0] for c in circles)
    assert names == [f"Structure {s}" for s in "ABCDEFG"]


def test_the_picture_is_accessible():
    root = parse(draw_svg(small_network(), title="Réseau du territoire"))
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Réseau du territoire"
    description = root.find(f"{SVG}desc").text
    assert "7 structures" in description
    assert "4 relations" in description
    assert root.get("aria-labelledby") == "maillage-title maillage-desc"


def test_the_legend_names_the_three_levels_conventions_and_flows():
    root = parse(draw_svg(small_network()))
    legend = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "legend")
    texts = [t.text for t in legend.iter(f"{SVG}text")]
    for _colour, _dash, label in LEVEL_STYLE.values():
        assert label in texts
    assert any(t.startswith("Convention") for t in texts)
    assert any(t.startswith("Orientations") for t in texts)


def test_levels_differ_by_colour_and_dash_pattern_and_conventions_are_drawn_apart():
    root = parse(draw_svg(small_network()))
    lines = {line.get("class"): line for line in root.iter(f"{SVG}line") if line.get("class")}
    assert lines["relationship operational"].get("stroke-dasharray") is None
    assert lines["relationship organisational"].get("stroke-dasharray") == "7 4"
    assert lines["relationship political"].get("stroke-dasharray") == "2 3"
    colours = {lines[f"relationship {level}"].get("stroke") for level in LEVEL_STYLE}
    assert len(colours) == 3
    assert "convention political" in lines
    # Two flows, a -> d and d -> a: arrows, the busier one wider.
    flows = [p for p in root.iter(f"{SVG}path") if p.get("marker-end") == "url(#maillage-arrow)"]
    assert len(flows) == 2
    widths = sorted(float(p.get("stroke-width")) for p in flows)
    assert widths[0] < widths[1]


def test_the_picture_loads_nothing_from_outside():
    svg = draw_svg(small_network())
    assert re.findall(r"https?://[^\s\"'<>]+", svg) == ["http://www.w3.org/2000/svg"]
    assert "<script" not in svg
    assert "href" not in svg


def test_the_same_graph_and_seed_give_the_same_picture():
    assert draw_svg(small_network(), seed=4) == draw_svg(small_network(), seed=4)
    assert draw_svg(small_network(), seed=4) != draw_svg(small_network(), seed=5)


def test_people_can_be_drawn_and_labels_chosen():
    root = parse(draw_svg(small_network(), show_people=True, label_ids=["b", "e1"]))
    assert len(list(root.iter(f"{SVG}circle"))) == 9  # 7 structures and 2 people
    labels = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "labels")
    assert [t.text for t in labels.iter(f"{SVG}text")] == ["Structure B", "Personne e1"]


def test_an_empty_network_still_gives_a_picture():
    root = parse(draw_svg(build_graph([], [])))
    assert list(root.iter(f"{SVG}circle")) == []
    assert "0 structures" in root.find(f"{SVG}desc").text


def test_a_large_territory_is_drawn_thinner_with_few_names():
    rng = random.Random(1)
    n = 400
    structures = [structure(f"s{i}", f"Structure {i}") for i in range(n)]
    links = [link(f"r{i}", f"s{i}", f"s{rng.randrange(n)}") for i in range(n)]
    links = [r for r in links if r.source != r.target]
    root = parse(draw_svg(build_graph(structures, [], links)))
    assert len(list(root.iter(f"{SVG}circle"))) == n
    labels = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "labels")
    assert len(list(labels.iter(f"{SVG}text"))) == 25
    assert "Seuls 25 noms" in root.find(f"{SVG}desc").text
