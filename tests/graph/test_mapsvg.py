"""The offline SVG map: plain records in, a self-contained document out."""

import xml.etree.ElementTree as ET

import pytest

from graph.mapsvg import HOVER_STYLE, STYLES, SVG_NS, MapCommune, MapMarker, draw_map

NS = {"svg": SVG_NS}
LEGEND = [
    ("gap", "Aucun partenaire"),
    ("fragile", "Fragile"),
    ("covered", "Couvert"),
    ("marker", "Site partenaire"),
]


def square(x: float, y: float, size: float = 0.1) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]],
        ],
    }


def communes() -> list[MapCommune]:
    islands = {
        "type": "MultiPolygon",
        "coordinates": [square(5.2, 45.0)["coordinates"], square(5.4, 45.0, 0.05)["coordinates"]],
    }
    return [
        MapCommune("26001", "Alpha", square(5.0, 45.0), "gap", "aucun partenaire"),
        MapCommune("26002", "Bêta & <Fils>", square(5.1, 45.0), "fragile", "1 partenaire"),
        MapCommune("26003", "Gamma", islands, "covered", "4 partenaires"),
        MapCommune("2A004", "Ajaccio", square(5.0, 45.1), "covered", "2 partenaires"),
    ]


def markers() -> list[MapMarker]:
    return [MapMarker(45.05, 5.05, "Mission Locale"), MapMarker(45.12, 5.3, "CCAS « Centre »")]


def render(**kwargs) -> str:
    args = {"title": "Couverture — santé", "legend": LEGEND} | kwargs
    return draw_map(communes(), markers(), **args)


def test_well_formed_and_accessible():
    svg = render()
    root = ET.fromstring(svg)
    assert root.tag == f"{{{SVG_NS}}}svg"
    assert root.get("role") == "group"  # its communes are links: an image would hide them
    assert root.find("svg:title", NS).text == "Couverture — santé"
    desc = root.find("svg:desc", NS).text
    assert "4 communes" in desc and "Aucun partenaire : 1" in desc and "Couvert : 2" in desc
    assert "2 sites partenaires" in desc
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f".//*[@id='{title_id}']") is not None
    assert root.find(f".//*[@id='{desc_id}']") is not None
    assert int(root.get("width")) == 900


def test_one_linked_path_per_commune():
    root = ET.fromstring(render())
    paths = root.findall(".//svg:path[@data-insee]", NS)
    assert [p.get("data-insee") for p in paths] == ["26001", "26002", "26003", "2A004"]
    links = root.findall(".//svg:a", NS)
    assert [a.get("href") for a in links] == [
        "#commune-26001",
        "#commune-26002",
        "#commune-26003",
        "#commune-2A004",
    ]
    for link, path in zip(links, paths, strict=True):
        assert link.find("svg:path", NS) is path
    titles = [p.find("svg:title", NS).text for p in paths]
    assert titles[1] == "Bêta & <Fils> — 1 partenaire"
    # the MultiPolygon is one path with two sub-paths
    assert paths[2].get("d").count("M") == 2


def test_classes_are_coloured_and_gap_is_not_colour_only():
    root = ET.fromstring(render())
    fills = {
        p.get("data-insee"): p.get("fill")
        for p in root.iterfind(".//svg:path", NS)
        if p.get("data-insee")
    }
    assert fills["26003"] == fills["2A004"] == STYLES["covered"].fill
    assert fills["26001"] == "url(#map-pattern-gap)"
    assert fills["26002"] == "url(#map-pattern-fragile)"
    assert len(set(fills.values())) == 3
    pattern = root.find(".//svg:pattern[@id='map-pattern-gap']", NS)
    assert pattern is not None
    assert pattern.find("svg:rect", NS).get("fill") == STYLES["gap"].fill
    assert pattern.find("svg:path", NS) is not None  # the hatch
    classes = {
        p.get("data-insee"): p.get("class")
        for p in root.iterfind(".//svg:path", NS)
        if p.get("data-insee")
    }
    assert classes["26001"] == "commune gap"


def test_legend_and_markers():
    svg = render()
    root = ET.fromstring(svg)
    legend = root.find(".//svg:g[@class='legend']", NS)
    texts = [t.text for t in legend.iterfind("svg:text", NS)]
    assert texts == [text for _, text in LEGEND]
    swatches = [r.get("fill") for r in legend.iterfind("svg:rect", NS)]
    assert swatches == [
        "url(#map-pattern-gap)",
        "url(#map-pattern-fragile)",
        STYLES["covered"].fill,
    ]
    assert len(root.findall(".//svg:circle[@class='marker']", NS)) == 2
    assert [
        c.find("svg:title", NS).text for c in root.iterfind(".//svg:circle[@class='marker']", NS)
    ] == [
        "Mission Locale",
        "CCAS « Centre »",
    ]


def test_self_contained_and_deterministic():
    svg = render()
    assert svg.replace(SVG_NS, "").count("http") == 0
    assert "xlink" not in svg and "<script" not in svg and "@import" not in svg
    assert render() == svg
    assert draw_map(communes(), markers(), title="Couverture — santé", legend=LEGEND) == svg


def test_projection_fits_the_width_and_keeps_shapes():
    root = ET.fromstring(render(width=600))
    assert root.get("viewBox").startswith("0 0 600 ")
    xs, ys = [], []
    for path in root.iterfind(".//svg:path[@data-insee]", NS):
        for part in path.get("d").replace("M", " ").replace("Z", " ").replace("L", " ").split():
            x, y = map(float, part.split(","))
            xs.append(x)
            ys.append(y)
    assert min(xs) >= 0 and max(xs) <= 600
    assert max(xs) - min(xs) == pytest.approx(580, abs=1)
    # Alpha is a 0.1° square: narrower than tall by cos(latitude) once projected
    alpha = root.find(".//svg:path[@data-insee='26001']", NS).get("d")
    points = [tuple(map(float, p.split(","))) for p in alpha[1:-1].split("L")]
    width = max(p[0] for p in points) - min(p[0] for p in points)
    height = max(p[1] for p in points) - min(p[1] for p in points)
    assert width / height == pytest.approx(0.7, abs=0.02)  # cos(45.06°)
    # north is up
    north_y = min(p[1] for p in points)
    ajaccio = root.find(".//svg:path[@data-insee='2A004']", NS).get("d")
    ajaccio_points = [tuple(map(float, p.split(","))) for p in ajaccio[1:-1].split("L")]
    assert max(p[1] for p in ajaccio_points) <= north_y + 0.5


def test_edge_cases():
    empty = draw_map([], title="Vide", legend=[])
    root = ET.fromstring(empty)
    assert root.findall(".//svg:path[@data-insee]", NS) == []
    one = draw_map(
        [MapCommune("01001", "Sans contour", {}, "gap", "")],
        [MapMarker(45, 5, "Seul")],
        title="Un",
        legend=[("gap", "Lacune")],
        id_prefix="autre",
    )
    root = ET.fromstring(one)
    assert root.findall(".//svg:path[@data-insee]", NS) == []
    assert root.find(".//svg:pattern[@id='autre-pattern-gap']", NS) is not None
    with pytest.raises(ValueError, match="Point"):
        draw_map(
            [MapCommune("01001", "X", {"type": "Point", "coordinates": [5, 45]}, "gap", "")],
            title="X",
            legend=[],
        )


def test_a_map_inside_a_page_carries_no_inline_style():
    """The page's Content-Security-Policy blocks inline style; the exported file keeps it."""
    inside = draw_map(communes(), markers(), title="Couverture", legend=LEGEND, standalone=False)
    alone = draw_map(communes(), markers(), title="Couverture", legend=LEGEND)
    assert "<style>" not in inside
    assert "<style>" in alone
    assert inside == alone.replace(HOVER_STYLE + "\n", "")
