"""Build `directory/data/former_communes.csv.gz`: INSEE codes that are no longer communes.

Real files carry INSEE codes of communes merged since (communes nouvelles) and codes of the
overseas collectivities (Nouvelle-Calédonie, Polynésie française…), which the gazetteer
leaves out. The CSV import maps the first to today's commune, with a warning, and refuses
the second with a clear reason. Source: the same pinned npm package as the gazetteer,
`@etalab/decoupage-administratif` (Licence Ouverte, see directory/data/PROVENANCE.md).

Rows (`code,kind,target,name`, sorted by code):

* `merged`: `code` was a commune; `target` is the commune that absorbed it: listed in the
  target's `anciensCodes`, or the `chefLieu` of a commune déléguée / associée whose code is
  no longer a commune of its own;
* `com`: `code` is a commune of a collectivité d'outre-mer; `name` is the collectivity.

Usage: python scripts/build_former_communes.py [--npm-tarball X.tgz]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

NPM_PACKAGE = "@etalab/decoupage-administratif"
NPM_VERSION = "6.0.0"
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "directory" / "data" / "former_communes.csv.gz"

# Département codes of the collectivités d'outre-mer in the package, and their names.
COLLECTIVITIES = {
    "975": "Saint-Pierre-et-Miquelon",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
    "984": "Terres australes et antarctiques françaises",
    "986": "Wallis-et-Futuna",
    "987": "Polynésie française",
    "988": "Nouvelle-Calédonie",
    "989": "Clipperton",
}


def _communes(tarball: Path | None) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        if tarball is None:
            subprocess.run(["npm", "pack", f"{NPM_PACKAGE}@{NPM_VERSION}"], cwd=tmp, check=True)
            tarball = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/data/communes.json")
            assert member is not None
            return json.load(member)


def build(communes: list[dict]) -> list[tuple[str, str, str, str]]:
    """The rows of the file, sorted by code."""
    current = {
        c["code"] for c in communes if c["type"] == "commune-actuelle" and c["zone"] != "com"
    }
    rows: dict[str, tuple[str, str, str, str]] = {}
    for commune in communes:
        if commune["zone"] == "com" and commune["type"] == "commune-actuelle":
            name = COLLECTIVITIES[commune["departement"]]
            rows[commune["code"]] = (commune["code"], "com", "", name)
    for commune in communes:
        if commune["type"] != "commune-actuelle" or commune["code"] not in current:
            continue
        for old in commune.get("anciensCodes", []):
            if old not in current:
                rows[old] = (old, "merged", commune["code"], commune["nom"])
    names = {c["code"]: c["nom"] for c in communes if c["code"] in current}
    for commune in communes:
        if commune["type"] in {"commune-deleguee", "commune-associee"}:
            code, head = commune["code"], commune.get("chefLieu", "")
            if code not in current and code not in rows and head in current:
                rows[code] = (code, "merged", head, names[head])
    return sorted(rows.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--npm-tarball", type=Path)
    args = parser.parse_args()
    rows = build(_communes(args.npm_tarball))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["code", "kind", "target", "name"])
    writer.writerows(rows)
    # mtime 0: a rebuild from the same package is byte-identical.
    with gzip.GzipFile(OUT, "wb", mtime=0) as handle:
        handle.write(text.getvalue().encode("utf-8"))
    merged = sum(1 for r in rows if r[1] == "merged")
    print(f"{OUT.relative_to(ROOT)}: {merged} merged codes, {len(rows) - merged} overseas codes")


if __name__ == "__main__":
    main()
