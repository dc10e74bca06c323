"""A national-sized messy CSV import: how many rows go in, are refused, carry warnings, and
how long it takes, with `maillage import --keep-valid` on a fresh database.

The file imitates a real national export of 5,826 public structures (Missions Locales,
PIJ, CIO, PMI, CIDFF, ADIL, MDPH…) converted to Maillage's CSV the obvious way: one site
per structure, in communes drawn from the real gazetteer weighted by population (3 % in
the five overseas départements), with the defects counted in that file:

* 400 sites whose INSEE code and postcode lost their leading zero (`6088`, `6000`);
* 836 CEDEX postcodes (`06204 NICE CEDEX 3`);
* overseas numbers in national form (`0262…`, `0590…`, `0594…`) for every overseas
  structure, 5 % of numbers followed by a note (`/ Numéro vert…`);
* 11 INSEE codes of communes merged since, 2 of overseas collectivities (98xxx);
* 35 % of websites without a scheme (`www.lozere.fr`);
* half the sites with coordinates, 14 of them 56–473 km off, one with its longitude's sign
  flipped;
* structures.csv in Windows-1252 with semicolons, sites.csv in UTF-8 with a BOM and
  semicolons (what a French Excel writes).

Expected: every structure goes in; the 2 sites in overseas collectivities are refused;
warnings for the rest. The same files are then imported a second time (nothing changes:
nothing is written, no line of history); each import's time and the lines of history it
wrote are printed.

    python benchmarks/import_csv_messy.py
    python benchmarks/import_csv_messy.py --engine postgres --structures 5826 --seed 7
"""

from __future__ import annotations

import argparse
import codecs
import csv
import io
import math
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import phonenumbers  # noqa: E402

from directory.gazetteer import Commune, load_former_codes, load_gazetteer  # noqa: E402

KINDS = [
    ("Mission Locale", "mission-locale"),
    ("Point Information Jeunesse", "public-service"),
    ("CIO", "state-service"),
    ("PMI", "public-service"),
    ("CIDFF", "association"),
    ("ADIL", "association"),
    ("MDPH", "public-service"),
]
_OVERSEAS_NATIONAL = re.compile(r"^0(?:26[29]|59[046]|69[0-9]|639)")
OVERSEAS = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT"}


def phone(rng: random.Random, commune: Commune) -> str:
    """A valid number of the commune's territory, in national form."""
    region = OVERSEAS.get(commune.departement, "FR")
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.FIXED_LINE)
    national = phonenumbers.national_significant_number(example)
    while True:
        digits = national[:4] + "".join(str(rng.randrange(10)) for _ in national[4:])
        number = phonenumbers.parse("0" + digits, region)
        if phonenumbers.is_valid_number(number):
            return " ".join(("0" + digits)[i : i + 2] for i in range(0, 10, 2))


def offset(lat: float, lon: float, km: float, rng: random.Random) -> tuple[float, float]:
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = km * math.cos(bearing) / 111.2
    dlon = km * math.sin(bearing) / (111.2 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def _communes(rng: random.Random, count: int) -> tuple[list[Commune], set[int]]:
    """Each structure's commune, weighted by population, 3 % overseas; and the rows whose
    codes lost their leading zero."""
    communes = [c for c in load_gazetteer() if c.postcodes]
    overseas = [c for c in communes if c.departement in OVERSEAS]
    metro = [c for c in communes if c.departement not in OVERSEAS]
    # A column a spreadsheet took for numbers loses every leading zero: the 400 sites of
    # départements 01–09 lose theirs, and no other site is there.
    early = [c for c in metro if c.insee.startswith("0")]
    late = [c for c in metro if not c.insee.startswith("0")]
    picks = rng.choices(late, [c.population + 100 for c in late], k=count)
    order = list(range(count))
    rng.shuffle(order)
    lost_zero = set(order[:400])
    for index in lost_zero:
        picks[index] = rng.choices(early, [c.population + 100 for c in early])[0]
    for index in order[400 : 400 + round(count * 0.03)]:
        picks[index] = rng.choices(overseas, [c.population for c in overseas])[0]
    return picks, lost_zero


def generate(folder: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    gazetteer = load_gazetteer()
    picks, lost_zero = _communes(rng, count)
    others = [i for i in range(count) if i not in lost_zero]
    cedex = set(rng.sample(others, 836))
    rest = [i for i in others if i not in cedex]
    special = rng.sample(rest, 11 + 2 + 14)
    merged, collectivity, far = special[:11], special[11:13], special[13:]
    former = load_former_codes()
    merged_codes = rng.sample(sorted(c for c, f in former.items() if f.kind == "merged"), 11)
    com_codes = rng.sample(sorted(c for c, f in former.items() if f.kind == "com"), 2)
    structures = [["id", "name", "kind", "website", "phone"]]
    sites = [["id", "structure_id", "name", "address", "commune", "postcode", "lat", "lon"]]
    for i, commune in enumerate(picks):
        structures.append(_structure(rng, i, commune))
        sid = structures[-1][0]
        code, postcode = commune.insee, commune.postcodes[0]
        lat = lon = ""
        if rng.random() < 0.5:
            lat, lon = (str(v) for v in offset(commune.lat, commune.lon, rng.uniform(0, 3), rng))
        if i in lost_zero:
            code, postcode = code.lstrip("0"), postcode.lstrip("0")
        elif i in cedex:
            postcode = f"{postcode[:3]}{rng.randrange(90, 100)} {commune.name.upper()} CEDEX"
        if i in merged:
            code = merged_codes.pop()
            target = gazetteer.get(former[code].target)
            assert target is not None
            postcode, lat, lon = target.postcodes[0], "", ""
        elif i in collectivity:
            code, postcode, lat, lon = com_codes.pop(), "98800", "", ""
        elif i in far:
            km = 56 + (473 - 56) * far.index(i) / 13
            lat, lon = (str(v) for v in offset(commune.lat, commune.lon, km, rng))
            if far.index(i) == 0:
                lat, lon = str(commune.lat), str(-commune.lon)
        site = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        sites.append([site, sid, "Accueil", f"{i} rue de la République", code, postcode, lat, lon])
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "structures.csv", structures, "cp1252", b"")
    _write(folder / "sites.csv", sites, "utf-8", codecs.BOM_UTF8)


def _structure(rng: random.Random, i: int, commune: Commune) -> list[str]:
    sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    label, kind = KINDS[i % len(KINDS)]
    slug = f"{label.split()[0].lower()}-{i}.fr"
    website = f"www.{slug}" if rng.random() < 0.35 else f"https://www.{slug}"
    number = phone(rng, commune)
    if rng.random() < 0.05:
        number += " / Numéro vert 0800 00 12 34"
    return [sid, f"{label} de {commune.name} n° {i}", kind, website, number]


def _write(path: Path, rows: list[list[str]], encoding: str, bom: bytes) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";").writerows(rows)
    path.write_bytes(bom + buffer.getvalue().encode(encoding))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--structures", type=int, default=5826)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="maillage-messy-") as tmp:
        folder = Path(tmp) / "national"
        generate(folder, args.structures, args.seed)
        if args.engine == "sqlite":
            url = f"sqlite:///{tmp}/maillage.sqlite"
        else:
            name = f"maillage_bench_{uuid.uuid4().hex[:8]}"
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
            url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        maillage = [sys.executable, "-m", "service.cli", "--database-url", url]
        timings: list[tuple[str, float, int]] = []  # (phase, seconds, history rows written)
        try:
            subprocess.run([*maillage, "migrate"], check=True, capture_output=True, cwd=ROOT)
            report = Path(tmp) / "rapport.csv"
            done = None
            for phase in ("first import", "re-import"):
                kept = history_rows(url)
                start = time.perf_counter()
                run = subprocess.run(
                    [*maillage, "import", str(folder), "--keep-valid", "--report", str(report)],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
                elapsed = time.perf_counter() - start
                done = done or run  # the first import's output is the one described below
                if run.returncode:
                    done = run
                    break
                timings.append((phase, elapsed, history_rows(url) - kept))
        finally:
            if args.engine == "postgres":
                subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", name], check=False)
        assert done is not None
        print(done.stdout.strip())
        if done.returncode:
            print(done.stderr[-3000:])
            sys.exit(done.returncode)
        lines = list(csv.DictReader(io.StringIO(report.read_text("utf-8-sig")), delimiter=";"))
        refused = [r for r in lines if r["statut"] == "refusée"]
        warned = [r for r in lines if r["statut"] == "importée"]
        kinds: dict[str, int] = {}
        for row in warned:
            for remark in row["remarques"].split(" ; "):
                key = remark.split(" : ")[0] + " : " + _kind(remark)
                kinds[key] = kinds.get(key, 0) + 1
        rows = args.structures * 2
        text = (folder / "structures.csv").read_text("cp1252")
        phones = [r[-1].replace(" ", "") for r in csv.reader(io.StringIO(text), delimiter=";")]
        overseas = sum(1 for n in phones if _OVERSEAS_NATIONAL.match(n))
        print(f"overseas numbers in national form in structures.csv: {overseas}")
        print(f"engine: {args.engine}; rows: {rows} ({args.structures} structures + sites)")
        print(
            f"written: {rows - len(refused)}; refused: {len(refused)}; rows with warnings: "
            f"{len(warned)}"
        )
        for row in refused:
            print(f"  refused {row['fichier']} line {row['ligne']}: {row['motif']}")
        for key, number in sorted(kinds.items()):
            print(f"  {number:5d} × {key}")
        for phase, seconds, written in timings:
            print(
                f"{phase} (command, start to end): {seconds:.1f} s, {rows / seconds:,.0f} rows/s, "
                f"{written:,} history rows written"
            )


def history_rows(url: str) -> int:
    """Lines of the directory's history (directory_change) in the benchmark's database."""
    from benchmarks.import_di_national import history_rows as count

    return count(url)


def _kind(remark: str) -> str:
    for word in ("zéro initial", "CEDEX", "fusionné", "signe", "coordonnées", "note", "lu "):
        if word in remark:
            return word
    return remark[:40]


if __name__ == "__main__":
    main()
