"""A picture of the partner network as a self-contained SVG string, drawn on the server.

No script and no external asset: the page embeds the string as it is. The same graph and
seed always give the same picture. Levels are told apart by colour (Okabe–Ito palette,
readable with the common colour-vision deficiencies) and by dash pattern, so the picture
also reads in grey; conventions are double lines, referral flows grey arrows whose width
grows with the number of referrals.

networkx's spring_layout and kamada_kawai_layout need numpy and scipy, which the project
does not install; the layout is Fruchterman–Reingold in plain Python, with the grid
approximation of the original paper (repulsion only between nearby nodes) so that it
stays fast at 1,500 structures. Each connected group is laid out on its own and the
groups are packed, largest first, with the structures that have no link in a row below:
silos show as separate islands."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Collection
from dataclasses import dataclass
from xml.sax.saxutils import escape

import networkx as nx

from graph.network import CONVENTION, FLOW, MEMBERSHIP, PERSON, RELATIONSHIP, STRUCTURE
from graph.records import LEVELS

# Okabe–Ito blue, orange and bluish green, each with its own dash pattern; legend label.
LEVEL_STYLE: dict[str, tuple[str, str, str]] = {
    "operational": ("#0072B2", "", "Relation opérationnelle"),
    "organisational": ("#E69F00", "7 4", "Relation organisationnelle"),
    "political": ("#009E73", "2 3", "Relation politique"),
}
FLOW_COLOUR = "#555555"
NODE_FILL = "#3d3d3d"
PERSON_FILL = "#8c8c8c"
BACKGROUND = "#ffffff"
# Beyond this many structures the picture thins lines and names only the best-linked.
LARGE = 300
LABEL_ALL_UP_TO = 40
LABELS_WHEN_LARGE = 25


@dataclass(frozen=True)
class _Style:
    r_min: float
    r_max: float
    line: float
    line_opacity: float
    flow_min: float
    flow_extra: float
    flow_opacity: float
    arrow: float
    spacing: float
    font: int


_SMALL = _Style(4.0, 12.0, 1.4, 0.9, 0.6, 2.4, 0.45, 7.0, 4.0, 11)
_LARGE = _Style(1.5, 5.0, 0.6, 0.6, 0.3, 1.2, 0.25, 4.0, 2.0, 9)


def draw_svg(
    g: nx.MultiDiGraph,
    *,
    width: int = 1200,
    height: int = 900,
    seed: int = 0,
    title: str = "Réseau des partenaires",
    label_ids: Collection[str] | None = None,
    show_people: bool = False,
    iterations: int | None = None,
    id_prefix: str = "maillage",
) -> str:
    """Draw the network and return the SVG document as a string.

    Structures are circles sized by their number of links, each with a `<title>` giving
    its name; with `show_people`, people are small grey circles beside their structure
    and relationships to a person end on that person (otherwise on their structure).
    `label_ids` chooses which nodes get a visible name (the top brokers, typically); by
    default every structure up to LABEL_ALL_UP_TO, else the LABELS_WHEN_LARGE best
    linked. Above LARGE structures, circles and lines are thinner. `id_prefix` keeps
    element ids unique when a page holds several pictures."""
    if not re.fullmatch(r"[A-Za-z][\w-]*", id_prefix):
        raise ValueError("id_prefix must be a letter followed by letters, digits, _ or -")
    drawn = [
        n
        for n, kind in g.nodes(data="type")
        if kind == STRUCTURE or (show_people and kind == PERSON)
    ]
    drawn_set = set(drawn)
    structures = sum(1 for n in drawn if g.nodes[n]["type"] == STRUCTURE)
    style = _LARGE if structures > LARGE else _SMALL

    def end(node: str) -> str:
        return node if node in drawn_set else g.nodes[node]["structure_id"]

    # Aggregate parallel edges: one line per pair and (kind, level), one arrow per flow.
    lines: dict[tuple[str, str], dict[tuple[str, str], int]] = {}
    arrows: dict[tuple[str, str], int] = {}
    layout_edges: set[tuple[str, str]] = set()
    memberships: list[tuple[str, str]] = []
    for u, v, d in g.edges(data=True):
        kind = d["type"]
        if kind == MEMBERSHIP:
            if show_people:
                layout_edges.add((u, v) if u < v else (v, u))
                memberships.append((u, v))
            continue
        a, b = end(u), end(v)
        if a == b:
            continue
        pair = (a, b) if a < b else (b, a)
        layout_edges.add(pair)
        if kind == FLOW:
            arrows[(a, b)] = arrows.get((a, b), 0) + d["count"]
        elif kind in (RELATIONSHIP, CONVENTION):
            per_pair = lines.setdefault(pair, {})
            per_pair[(kind, d["level"])] = per_pair.get((kind, d["level"]), 0) + 1

    degree = dict.fromkeys(drawn, 0)
    for a, b in layout_edges:
        degree[a] += 1
        degree[b] += 1
    max_degree = max(degree.values(), default=0) or 1

    def radius(n: str) -> float:
        r = style.r_min + (style.r_max - style.r_min) * math.sqrt(degree[n] / max_degree)
        return r * (0.6 if g.nodes[n]["type"] == PERSON else 1.0)

    legend, legend_height = _legend(width, escape(id_prefix), show_people)
    margin = 24.0
    box = (margin, margin, width - margin, height - legend_height - margin)
    positions = _layout(drawn, layout_edges, seed, iterations, box)

    if label_ids is None:
        by_degree = sorted(
            (n for n in drawn if g.nodes[n]["type"] == STRUCTURE),
            key=lambda n: (-degree[n], n),
        )
        labelled = set(
            by_degree[: structures if structures <= LABEL_ALL_UP_TO else LABELS_WHEN_LARGE]
        )
    else:
        labelled = set(label_ids) & drawn_set

    p = escape(id_prefix)
    counts = {RELATIONSHIP: 0, CONVENTION: 0}
    for per_pair in lines.values():
        for (kind, _), count in per_pair.items():
            counts[kind] += count
    description = (
        f"{structures} structures, {counts[RELATIONSHIP]} relations, "
        f"{counts[CONVENTION]} liens de convention, {len(arrows)} flux d'orientations. "
        "Relations colorées et tiretées selon le niveau (opérationnel : trait plein bleu, "
        "organisationnel : tirets longs orange, politique : pointillés verts) ; conventions "
        "en double trait ; orientations en flèches grises, plus épaisses quand elles sont "
        "nombreuses. La taille d'un cercle suit le nombre de liens de la structure ; les "
        "structures sans aucun lien sont en bas, en cercles vides. "
    )
    if len(labelled) < structures:
        description += (
            f"Seuls {len(labelled)} noms sont affichés ; le survol d'un cercle donne les autres. "
        )
    description += "Le tableau joint donne les mêmes informations."

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{p}-title {p}-desc" font-family="sans-serif">',
        f'<title id="{p}-title">{escape(title)}</title>',
        f'<desc id="{p}-desc">{escape(description)}</desc>',
        "<defs>"
        f'<marker id="{p}-arrow" viewBox="0 0 10 10" refX="9" refY="5" '
        f'markerWidth="{style.arrow}" markerHeight="{style.arrow}" '
        'markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{FLOW_COLOUR}"/></marker>'
        f'<marker id="{p}-arrow-legend" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{FLOW_COLOUR}"/></marker>'
        "</defs>",
        f'<rect width="{width}" height="{height}" fill="{BACKGROUND}"/>',
    ]

    # Referral flows first, underneath: curved to the right of their direction so that
    # A->B and B->A stay apart, starting and stopping at the circles' edges.
    max_count = max(arrows.values(), default=1) or 1
    out.append(
        f'<g class="flows" fill="none" stroke="{FLOW_COLOUR}" '
        f'stroke-opacity="{style.flow_opacity}">'
    )
    for (a, b), count in sorted(arrows.items()):
        (x1, y1), (x2, y2) = positions[a], positions[b]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        ra, rb = radius(a) + 1, radius(b) + 1.5
        bend = min(length * 0.15, 30.0)
        cx, cy = (x1 + x2) / 2 - uy * bend, (y1 + y2) / 2 + ux * bend
        flow_width = style.flow_min + style.flow_extra * math.sqrt(count / max_count)
        plural = "s" if count > 1 else ""
        out.append(
            f'<path d="M{x1 + ux * ra:.1f},{y1 + uy * ra:.1f} Q{cx:.1f},{cy:.1f} '
            f'{x2 - ux * rb:.1f},{y2 - uy * rb:.1f}" stroke-width="{flow_width:.1f}" '
            f'marker-end="url(#{p}-arrow)"><title>{escape(_name(g, a))} → '
            f"{escape(_name(g, b))} : {count} orientation{plural}</title></path>"
        )
    out.append("</g>")

    # People tied to their structure by a thin grey line.
    out.append('<g class="memberships" stroke="#9a9a9a" stroke-width="0.8">')
    for person, structure in memberships:
        (x1, y1), (x2, y2) = positions[person], positions[structure]
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>')
    out.append("</g>")

    # Relationships and conventions; parallel ones between a pair are offset side by side.
    out.append(f'<g class="links" fill="none" stroke-opacity="{style.line_opacity}">')
    for (a, b), kinds in sorted(lines.items()):
        (x1, y1), (x2, y2) = positions[a], positions[b]
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        px, py = -(y2 - y1) / length, (x2 - x1) / length
        ordered = sorted(kinds, key=lambda kl: (kl[0] == CONVENTION, LEVELS.index(kl[1])))
        for i, (kind, level) in enumerate(ordered):
            shift = (i - (len(ordered) - 1) / 2) * style.spacing * 1.5
            ox, oy = px * shift, py * shift
            coords = f'x1="{x1 + ox:.1f}" y1="{y1 + oy:.1f}" x2="{x2 + ox:.1f}" y2="{y2 + oy:.1f}"'
            colour, dash, _ = LEVEL_STYLE[level]
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            if kind == RELATIONSHIP:
                out.append(
                    f'<line class="relationship {level}" {coords} stroke="{colour}" '
                    f'stroke-width="{style.line}"{dash_attr}/>'
                )
            else:
                # A double line: a wide stroke of the level's colour, hollowed out.
                out.append(
                    f'<line class="convention {level}" {coords} stroke="{colour}" '
                    f'stroke-width="{style.line * 3:.1f}"{dash_attr}/>'
                    f'<line class="convention-core" {coords} stroke="{BACKGROUND}" '
                    f'stroke-width="{style.line:.1f}" stroke-opacity="1"{dash_attr}/>'
                )
    out.append("</g>")

    # Nodes, each with an accessible name; structures without any link drawn hollow.
    out.append(f'<g class="nodes" stroke-width="{0.5 if style is _LARGE else 1}">')
    for n in drawn:
        x, y = positions[n]
        node = g.nodes[n]
        if node["type"] == PERSON:
            fill, stroke = PERSON_FILL, BACKGROUND
            name = f"{node['name']} ({_name(g, node['structure_id'])})"
            if not node["active"]:
                name += " — a quitté la structure"
        else:
            fill, stroke = (NODE_FILL, BACKGROUND) if degree[n] else (BACKGROUND, NODE_FILL)
            name = f"{node['name']} — {degree[n]} lien{'s' if degree[n] > 1 else ''}"
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius(n):.1f}" fill="{fill}" '
            f'stroke="{stroke}"><title>{escape(name)}</title></circle>'
        )
    out.append("</g>")

    out.append(
        f'<g class="labels" font-size="{style.font}" fill="#111111" stroke="{BACKGROUND}" '
        'stroke-width="3" paint-order="stroke" stroke-linejoin="round">'
    )
    for n in sorted(labelled):
        x, y = positions[n]
        out.append(
            f'<text x="{x + radius(n) + 2:.1f}" y="{y + style.font / 3:.1f}">'
            f"{escape(_short(g.nodes[n]['name']))}</text>"
        )
    out.append("</g>")

    out.append(legend.replace("LEGEND_TOP", str(height - legend_height)))
    out.append("</svg>")
    return "\n".join(out)


def _name(g: nx.MultiDiGraph, n: str) -> str:
    return str(g.nodes[n].get("name", n))


def _short(name: str, limit: int = 32) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _legend(width: int, p: str, people: bool = False) -> tuple[str, int]:
    """The legend as a `<g>` placed at y=LEGEND_TOP (replaced by the caller), and its
    height. Items flow in rows within the width; their text widths are estimated."""
    items: list[tuple[str, str]] = []
    for level in LEVELS:
        colour, dash, label = LEVEL_STYLE[level]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        items.append(
            (
                f'<line x1="0" y1="0" x2="34" y2="0" stroke="{colour}" '
                f'stroke-width="2"{dash_attr}/>',
                label,
            )
        )
    items.append(
        (
            '<line x1="0" y1="0" x2="34" y2="0" stroke="#666666" stroke-width="5"/>'
            f'<line x1="0" y1="0" x2="34" y2="0" stroke="{BACKGROUND}" stroke-width="2"/>',
            "Convention (double trait, couleur du niveau)",
        )
    )
    items.append(
        (
            f'<path d="M0,0 L34,0" stroke="{FLOW_COLOUR}" stroke-width="2.5" fill="none" '
            f'marker-end="url(#{p}-arrow-legend)"/>',
            "Orientations (épaisseur : nombre)",
        )
    )
    # Node samples are paths, so that the picture holds exactly one <circle> per node.
    items.append(
        (
            f'<path d="{_disc(28, 0, 6)}" fill="{NODE_FILL}"/>',
            "Structure (taille : nombre de liens)",
        )
    )
    items.append(
        (
            f'<path d="{_disc(28, 0, 6)}" fill="{BACKGROUND}" stroke="{NODE_FILL}"/>',
            "Structure sans aucun lien",
        )
    )
    if people:
        items.append(
            (
                '<line x1="0" y1="0" x2="22" y2="0" stroke="#9a9a9a" stroke-width="0.8"/>'
                f'<path d="{_disc(28, 0, 4)}" fill="{PERSON_FILL}"/>',
                "Personne, reliée à sa structure",
            )
        )
    parts: list[str] = []
    x, row = 90.0, 0
    for sample, label in items:
        item_width = 40 + 6.2 * len(label) + 24
        if x > 90 and x + item_width > width - 16:
            x, row = 90.0, row + 1
        y = 18 + row * 21
        parts.append(
            f'<g transform="translate({x:.0f},{y})">{sample}'
            f'<text x="40" y="4">{escape(label)}</text></g>'
        )
        x += item_width
    height = 18 + row * 21 + 18
    return (
        f'<g class="legend" id="{p}-legend" font-size="11" fill="#111111" '
        f'transform="translate(0,LEGEND_TOP)">'
        f'<rect x="8" y="2" width="{width - 16}" height="{height - 6}" fill="#f7f7f7" '
        'stroke="#bbbbbb" rx="4"/>'
        f'<text x="18" y="22" font-weight="bold">Légende</text>{"".join(parts)}</g>'
    ), height + 4


def _disc(cx: float, cy: float, r: float) -> str:
    return f"M{cx - r},{cy} a{r},{r} 0 1,0 {2 * r},0 a{r},{r} 0 1,0 {-2 * r},0"


# --- layout ------------------------------------------------------------------------------


def _layout(
    nodes: list[str],
    edges: Collection[tuple[str, str]],
    seed: int,
    iterations: int | None,
    box: tuple[float, float, float, float],
) -> dict[str, tuple[float, float]]:
    """Positions inside `box` (x0, y0, x1, y1): groups laid out apart and packed in rows,
    largest first, then the nodes without links on a grid below them."""
    h = nx.Graph()
    h.add_nodes_from(nodes)
    h.add_edges_from(sorted(edges))  # a set's order changes with the hash seed
    groups = sorted(
        (sorted(c) for c in nx.connected_components(h) if len(c) > 1),
        key=lambda c: (-len(c), c[0]),
    )
    alone = sorted(n for n in nodes if h.degree(n) == 0)
    rng = random.Random(seed)

    # Each group gets a square whose area grows with its size; shelves fill a width chosen
    # so that the whole drawing has roughly the box's proportions.
    x0, y0, x1, y1 = box
    aspect = max(x1 - x0, 1.0) / max(y1 - y0, 1.0)
    total_area = sum(len(c) for c in groups) + 0.5 * len(alone)
    shelf_width = max(math.sqrt(max(total_area, 1.0) * aspect), 1.0)
    if groups:
        shelf_width = max(shelf_width, math.sqrt(len(groups[0]) * aspect))
    raw: dict[str, tuple[float, float]] = {}
    cx = cy = row_height = 0.0
    for number, group in enumerate(groups):
        # A group holding most of the picture takes the box's shape; others are squares.
        ratio = aspect if number == 0 and 2 * len(group) >= len(nodes) else 1.0
        side_y = math.sqrt(len(group) / ratio) * (1.0 if len(group) > 2 else 1.2)
        side_x = side_y * ratio
        if cx > 0 and cx + side_x > shelf_width + 1e-9:
            cx, cy, row_height = 0.0, cy + row_height, 0.0
        for n, (x, y) in zip(group, _force(group, h, rng, iterations, ratio), strict=True):
            raw[n] = (cx + x * side_y, cy + y * side_y)
        cx += side_x
        row_height = max(row_height, side_y)
    cy += row_height
    step = 0.7
    per_row = max(int(shelf_width / step), 1)
    for i, n in enumerate(alone):
        raw[n] = ((i % per_row + 0.5) * step, cy + (i // per_row + 0.5) * step)

    if not raw:
        return {}
    xs = [x for x, _ in raw.values()]
    ys = [y for _, y in raw.values()]
    span_x = max(max(xs) - min(xs), 1e-9)
    span_y = max(max(ys) - min(ys), 1e-9)
    scale = min((x1 - x0) / span_x, (y1 - y0) / span_y)
    if len(raw) == 1:
        scale = 0.0
    left = x0 + ((x1 - x0) - span_x * scale) / 2 - min(xs) * scale
    top = y0 - min(ys) * scale
    if len(raw) == 1:
        left, top = (x0 + x1) / 2, (y0 + y1) / 2
    return {n: (left + x * scale, top + y * scale) for n, (x, y) in raw.items()}


def _force(
    group: list[str],
    h: nx.Graph,
    rng: random.Random,
    iterations: int | None,
    ratio: float = 1.0,
) -> list[tuple[float, float]]:
    """Fruchterman–Reingold in the rectangle [0, ratio] × [0, 1]; the result is fitted
    inside it with a margin, keeping the group's proportions."""
    n = len(group)
    if n == 2:
        return [(0.15 * ratio, 0.5), (0.85 * ratio, 0.5)]
    index = {node: i for i, node in enumerate(group)}
    links = sorted((index[a], index[b]) for a, b in h.subgraph(group).edges())
    if iterations is None:
        iterations = 200 if n <= 200 else 120 if n <= 800 else 60
    k = math.sqrt(ratio / n)
    k2 = k * k
    cell = 2 * k
    xs = [rng.random() * ratio for _ in range(n)]
    ys = [rng.random() for _ in range(n)]
    temperature = 0.1 * max(ratio, 1.0)
    cooling = temperature / (iterations + 1)
    for _ in range(iterations):
        dx = [0.0] * n
        dy = [0.0] * n
        grid: dict[tuple[int, int], list[int]] = {}
        for i in range(n):
            grid.setdefault((int(xs[i] / cell), int(ys[i] / cell)), []).append(i)
        # Repulsion k²/d between nodes closer than `cell`, each pair once.
        for (gx, gy), members in grid.items():
            neighbours: list[int] = []
            for ox, oy in ((1, -1), (1, 0), (1, 1), (0, 1)):
                neighbours.extend(grid.get((gx + ox, gy + oy), ()))
            for a_pos, i in enumerate(members):
                xi, yi = xs[i], ys[i]
                for j in members[a_pos + 1 :] + neighbours:
                    ex, ey = xi - xs[j], yi - ys[j]
                    d2 = ex * ex + ey * ey
                    if d2 >= cell * cell:
                        continue
                    if d2 < 1e-12:
                        ex, ey, d2 = rng.uniform(-1e-3, 1e-3), rng.uniform(-1e-3, 1e-3), 1e-6
                    f = k2 / d2
                    dx[i] += ex * f
                    dy[i] += ey * f
                    dx[j] -= ex * f
                    dy[j] -= ey * f
        # Attraction d²/k along links.
        for i, j in links:
            ex, ey = xs[i] - xs[j], ys[i] - ys[j]
            f = math.sqrt(ex * ex + ey * ey) / k
            dx[i] -= ex * f
            dy[i] -= ey * f
            dx[j] += ex * f
            dy[j] += ey * f
        for i in range(n):
            length = math.sqrt(dx[i] * dx[i] + dy[i] * dy[i])
            if length > 0:
                step = min(length, temperature) / length
                xs[i] = min(ratio, max(0.0, xs[i] + dx[i] * step))
                ys[i] = min(1.0, max(0.0, ys[i] + dy[i] * step))
        temperature -= cooling
    # Fit into the rectangle with a margin, keeping the group's proportions.
    margin = 0.08
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    scale = min(
        (ratio - 2 * margin) / max(max_x - min_x, 1e-9),
        (1 - 2 * margin) / max(max_y - min_y, 1e-9),
    )
    off_x = (ratio - (max_x - min_x) * scale) / 2
    off_y = (1 - (max_y - min_y) * scale) / 2
    return [
        (off_x + (x - min_x) * scale, off_y + (y - min_y) * scale)
        for x, y in zip(xs, ys, strict=True)
    ]
