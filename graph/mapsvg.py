"""A self-contained SVG map of a territory: communes coloured by class, partner sites as
markers, a legend. No tiles, fonts or scripts from anywhere: it works offline and can be
saved as is for a report.

Pure: plain records in, a string out. Longitude/latitude are projected with a simple
equirectangular projection scaled by the cosine of the mean latitude (good enough at the
scale of a territory), fitted to the bounding box of what is drawn.

Colour is never the only cue: the palette is the Okabe–Ito one (distinguishable with the
common colour-vision deficiencies) and "gap" communes are hatched, "fragile" ones dotted.
Each commune links to `#commune-<insee>`, the row of the accessible table the page shows
beside the map."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

SVG_NS = "http://www.w3.org/2000/svg"


@dataclass(frozen=True, slots=True)
class MapCommune:
    insee: str
    name: str
    geometry: dict  # GeoJSON Polygon or MultiPolygon, WGS84 longitude/latitude
    klass: str  # "gap" | "fragile" | "covered" (others are drawn in grey)
    label: str  # e.g. "aucun partenaire", shown in the commune's tooltip


@dataclass(frozen=True, slots=True)
class MapMarker:
    lat: float
    lon: float
    label: str


@dataclass(frozen=True, slots=True)
class KlassStyle:
    fill: str
    pattern: str  # "" for a plain fill, else "hatch" or "dots"
    ink: str  # colour of the pattern's strokes


# Okabe–Ito: vermillion, yellow, sky blue, bluish green; grey for anything else.
STYLES: dict[str, KlassStyle] = {
    "gap": KlassStyle("#D55E00", "hatch", "#FFFFFF"),
    "fragile": KlassStyle("#F0E442", "dots", "#000000"),
    "unknown": KlassStyle("#56B4E9", "", ""),  # sky blue: missing data, not a fragility
    "covered": KlassStyle("#009E73", "", ""),
}
OTHER = KlassStyle("#BBBBBB", "", "")
MARKER_FILL = "#0072B2"  # Okabe–Ito blue, with a white ring so it shows on every fill
MARKER_KLASS = "marker"  # a legend entry with this klass shows the marker symbol

_PADDING = 10
_TITLE_HEIGHT = 28
_LEGEND_ROW = 22
_SWATCH = 16
_MAX_HEIGHT_RATIO = 1.4  # a tall territory is fitted to 1.4 × the width, not stretched


def style_of(klass: str) -> KlassStyle:
    return STYLES.get(klass, OTHER)


def _rings(geometry: dict) -> list[list[Sequence[float]]]:
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates") or []
    if kind == "Polygon":
        return list(coordinates)
    if kind == "MultiPolygon":
        return [ring for polygon in coordinates for ring in polygon]
    if kind is None and not coordinates:
        return []
    raise ValueError(f"unsupported geometry type {kind!r}: Polygon or MultiPolygon expected")


def _fmt(value: float) -> str:
    text = f"{value:.1f}"
    return "0" if text in ("0.0", "-0.0") else text.removesuffix(".0")


class _Projection:
    def __init__(self, points: Iterable[tuple[float, float]], width: int) -> None:
        lons: list[float] = []
        lats: list[float] = []
        for lon, lat in points:
            lons.append(lon)
            lats.append(lat)
        if not lons:
            lons, lats = [0.0], [0.0]
        self.west, self.east = min(lons), max(lons)
        self.south, self.north = min(lats), max(lats)
        self.kx = math.cos(math.radians((self.south + self.north) / 2))
        span_x = max((self.east - self.west) * self.kx, 1e-9)
        span_y = max(self.north - self.south, 1e-9)
        inner = width - 2 * _PADDING
        self.scale = min(inner / span_x, inner * _MAX_HEIGHT_RATIO / span_y)
        self.width = span_x * self.scale
        self.height = span_y * self.scale
        self.offset_x = _PADDING + (inner - self.width) / 2
        self.offset_y = _TITLE_HEIGHT + _PADDING

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (
            self.offset_x + (lon - self.west) * self.kx * self.scale,
            self.offset_y + (self.north - lat) * self.scale,
        )


def _path_data(rings: list[list[Sequence[float]]], project: _Projection) -> str:
    parts = []
    for ring in rings:
        points = []
        previous = None
        for x, y in (project(float(p[0]), float(p[1])) for p in ring):
            point = f"{_fmt(x)},{_fmt(y)}"
            if point != previous:
                points.append(point)
                previous = point
        if len(points) >= 3:
            parts.append("M" + "L".join(points) + "Z")
    return "".join(parts)


def _patterns(prefix: str) -> list[str]:
    out = []
    for klass, style in sorted(STYLES.items()):
        if not style.pattern:
            continue
        pid = f"{prefix}-pattern-{klass}"
        if style.pattern == "hatch":
            mark = (
                f'<path d="M0,8L8,0M-2,2L2,-2M6,10L10,6" stroke="{style.ink}" stroke-width="1.5"/>'
            )
        else:
            mark = f'<circle cx="4" cy="4" r="1.3" fill="{style.ink}"/>'
        out.append(
            f'<pattern id="{pid}" width="8" height="8" patternUnits="userSpaceOnUse">'
            f'<rect width="8" height="8" fill="{style.fill}"/>{mark}</pattern>'
        )
    return out


def _fill(klass: str, prefix: str) -> str:
    style = style_of(klass)
    if style.pattern and klass in STYLES:
        return f"url(#{prefix}-pattern-{klass})"
    return style.fill


def _marker(x: float, y: float, label: str, klass: str = "marker") -> str:
    return (
        f'<circle class="{klass}" cx="{_fmt(x)}" cy="{_fmt(y)}" r="4.5" fill="{MARKER_FILL}" '
        f'stroke="#FFFFFF" stroke-width="1.5"><title>{escape(label)}</title></circle>'
    )


HOVER_STYLE = "<style>a:hover path,a:focus path{stroke:#000000;stroke-width:2}</style>"


def draw_map(
    features: Sequence[MapCommune],
    markers: Sequence[MapMarker] = (),
    *,
    title: str,
    legend: Sequence[tuple[str, str]],
    width: int = 900,
    id_prefix: str = "map",
    standalone: bool = True,
) -> str:
    """The SVG document of a territory's map.

    `legend` lists (klass, text) pairs in display order, e.g. `("gap", "Aucun partenaire")`;
    the klass `"marker"` shows the partner-site symbol. `id_prefix` keeps the ids of the
    SVG's own elements unique when a page shows several maps. Communes without a geometry
    are left out of the drawing (the table beside the map still lists them). `standalone`
    False leaves out the SVG's own <style>, for a page whose stylesheet carries it."""
    if width < 200:
        raise ValueError("width: at least 200 pixels")
    drawn = [(feature, _rings(feature.geometry)) for feature in features]
    points = [(float(p[0]), float(p[1])) for _, rings in drawn for ring in rings for p in ring] + [
        (m.lon, m.lat) for m in markers
    ]
    project = _Projection(points, width)

    legend_top = project.offset_y + project.height + _PADDING * 2
    height = math.ceil(legend_top + len(legend) * _LEGEND_ROW + _PADDING)
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"

    counts = Counter(feature.klass for feature, rings in drawn if rings)
    summary = [f"{sum(counts.values())} communes"]
    summary += [f"{text} : {counts[klass]}" for klass, text in legend if klass != MARKER_KLASS]
    summary.append(f"{len(markers)} sites partenaires")
    description = " ; ".join(summary) + "."

    out = [
        # A group, not an image: each commune is a link to its row in the table, and an
        # image's children are hidden from assistive technology.
        f'<svg xmlns="{SVG_NS}" role="group" aria-labelledby="{title_id} {desc_id}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'font-family="sans-serif" font-size="13">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        "<defs>",
        *_patterns(id_prefix),
        "</defs>",
        # Inside a page the stylesheet carries this rule: the page's CSP forbids inline style.
        *([HOVER_STYLE] if standalone else []),
        f'<text x="{_PADDING}" y="{_TITLE_HEIGHT - 8}" font-size="16" font-weight="bold">'
        f"{escape(title)}</text>",
        '<g class="communes" stroke="#FFFFFF" stroke-width="0.6" stroke-linejoin="round" '
        'fill-rule="evenodd">',
    ]
    for feature, rings in drawn:
        data = _path_data(rings, project)
        if not data:
            continue
        tooltip = f"{feature.name} — {feature.label}" if feature.label else feature.name
        out.append(
            f"<a href={quoteattr('#commune-' + feature.insee)}>"
            f"<path class={quoteattr('commune ' + feature.klass)} "
            f"data-insee={quoteattr(feature.insee)} "
            f"fill={quoteattr(_fill(feature.klass, id_prefix))} "
            f'd="{data}"><title>{escape(tooltip)}</title></path></a>'
        )
    out.append("</g>")
    out.append('<g class="markers">')
    for marker in markers:
        out.append(_marker(*project(marker.lon, marker.lat), marker.label))
    out.append("</g>")

    out.append('<g class="legend">')
    for row, (klass, text) in enumerate(legend):
        top = legend_top + row * _LEGEND_ROW
        if klass == MARKER_KLASS:
            swatch = _marker(_PADDING + _SWATCH / 2, top + _SWATCH / 2, text, "legend-marker")
        else:
            swatch = (
                f'<rect x="{_PADDING}" y="{_fmt(top)}" width="{_SWATCH}" height="{_SWATCH}" '
                f'fill={quoteattr(_fill(klass, id_prefix))} stroke="#333333" stroke-width="0.8"/>'
            )
        out.append(
            f'{swatch}<text x="{_PADDING + _SWATCH + 8}" y="{_fmt(top + _SWATCH - 3)}">'
            f"{escape(text)}</text>"
        )
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
