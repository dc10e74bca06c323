"""Quality and speed of duplicate detection (directory.duplicates), in process.

Builds, from a seed, a national directory over the real communes of the gazetteer (the
profiles and words of benchmarks/search_national.py, names unique within a commune as in
a kept directory), then injects:

- true duplicates of a structure, one variant kind each: exact copy, accents dropped,
  case changed, abbreviation ("Mission Locale" <-> "ML", "CCAS", "Assoc.", "PIJ", "FJT"),
  a typo, words in another order, the address moved within the commune, the phone changed.
  A copy keeps each identifier (SIRET, phone, e-mail, website) only half the time, as
  records typed twice by different people do;
- hard negatives: the same network's sites in other communes, near ones included, and in
  other quarters of the same commune ("Restos du cœur Valence Centre" / "… Fontbarlettes"),
  sharing the network's website; homonyms ("Association Horizon") in other communes.

Then runs the matcher and prints precision, recall (overall and per variant kind), the
hard negatives wrongly paired, and the time, for each size asked.

    python benchmarks/duplicates_quality.py                       # 1,000 10,000 100,000
    python benchmarks/duplicates_quality.py --sizes 1000 --seed 7
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.search_national import (  # noqa: E402
    ASSOCIATION_WORDS,
    LAST_NAMES,
    PROFILES,
    STREETS,
    _cumulative,
)
from directory.duplicates import Record, find_duplicates, normalise_name  # noqa: E402
from directory.gazetteer import Commune, load_gazetteer  # noqa: E402
from directory.geo import distance_km  # noqa: E402

VARIANTS = (
    "copie exacte",
    "accents",
    "casse",
    "abréviation",
    "faute de frappe",
    "ordre des mots",
    "adresse déplacée",
    "téléphone changé",
)
# Full form, abbreviation: a structure is typed with either.
ABBREVIATIONS = [
    ("Mission Locale", "ML"),
    ("Centre communal d'action sociale", "CCAS"),
    ("Association", "Assoc."),
    ("Point Information Jeunesse", "PIJ"),
    ("Résidence Foyer de jeunes travailleurs", "Résidence FJT"),
    ("Centre d'information sur les droits des femmes et des familles", "CIDFF"),
    ("Maison des jeunes et de la culture", "MJC"),
]
NETWORKS = [
    ("Restos du cœur", "restosducoeur.org"),
    ("Secours Populaire", "secourspopulaire.fr"),
    ("Croix-Rouge française", "croix-rouge.fr"),
    ("Emmaüs", "emmaus-france.org"),
    ("Wimoov", "wimoov.org"),
    ("Mission Locale", ""),
]
QUARTERS = ["Centre", "Nord", "Sud", "Gare", "Les Ormes", "Fontbarlettes", "Bel Air", "Le Plan"]
EXTRA_PREFIXES = [p for p, _ in ABBREVIATIONS]


@dataclass
class Directory:
    records: list[Record]
    cluster: dict[str, int]  # record key -> cluster (true duplicates share one)
    variant: dict[str, str]  # copy key -> variant kind
    hard: set[frozenset[str]]  # hard negative pairs


class Builder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.gazetteer = load_gazetteer()
        self.communes: list[Commune] = list(self.gazetteer)
        self.weights = _cumulative(max(c.population, 50) for c in self.communes)
        self.profile_weights = _cumulative(p[0] for p in PROFILES)
        self.records: list[Record] = []
        self.cluster: dict[str, int] = {}
        self.variant: dict[str, str] = {}
        self.hard: set[frozenset[str]] = set()
        self.names: set[tuple[str, str]] = set()
        self.counter = 0
        self.homonym_names: set[frozenset[str]] = set()

    def commune(self) -> Commune:
        return self.rng.choices(self.communes, cum_weights=self.weights)[0]

    def add(self, name: str, commune: Commune, cluster: int | None = None, **ids: str) -> Record:
        self.counter += 1
        key = f"s{self.counter}"
        rng = self.rng
        defaults = {
            "siret": f"{rng.randint(10**13, 10**14 - 1)}" if rng.random() < 0.6 else "",
            "phone": f"0{rng.randint(1, 5)}{rng.randint(10**7, 10**8 - 1)}"
            if rng.random() < 0.8
            else "",
            "email": f"contact@structure-{self.counter}.fr" if rng.random() < 0.6 else "",
            "website": f"https://www.structure-{self.counter}.fr" if rng.random() < 0.4 else "",
        }
        defaults.update(ids)
        address = ids.pop("address", "") or f"{rng.randint(1, 120)} {rng.choice(STREETS)}"
        defaults.pop("address", None)
        record = Record(key, name, communes=(commune.insee,), addresses=(address,), **defaults)
        self.records.append(record)
        self.cluster[key] = self.counter if cluster is None else cluster
        self.names.add((_words(name), commune.insee))
        return record

    def base_name(self, commune: Commune) -> str:
        rng = self.rng
        _, kind, network, prefix, _ = rng.choices(PROFILES, cum_weights=self.profile_weights)[0]
        if rng.random() < 0.15:
            prefix = rng.choice(EXTRA_PREFIXES)
        if (kind == "association" and not network) or rng.random() < 0.2:
            name = f"{prefix} {rng.choice(ASSOCIATION_WORDS)} {commune.name}"
        else:
            name = f"{prefix} {commune.name}"
        while (_words(name), commune.insee) in self.names:
            name = f"{name} {rng.choice(QUARTERS + ASSOCIATION_WORDS)}"
        return name

    def build(self, structures: int) -> Directory:
        communes = [self.commune() for _ in range(structures)]
        bases = [self.add(self.base_name(c), c) for c in communes]
        for index, base in enumerate(self.rng.sample(bases, max(len(VARIANTS), structures // 20))):
            self.duplicate(base, VARIANTS[index % len(VARIANTS)])
        for _ in range(max(10, structures // 40)):
            self.network_sites()
        for _ in range(max(10, structures // 40)):
            self.homonyms()
        return Directory(self.records, self.cluster, self.variant, self.hard)

    def duplicate(self, base: Record, kind: str) -> None:
        rng = self.rng
        commune = self.gazetteer.get(base.communes[0])
        assert commune is not None
        ids = {
            f: getattr(base, f) if rng.random() < 0.5 else ""
            for f in ("siret", "phone", "email", "website")
        }
        ids["address"] = base.addresses[0]
        name = base.name
        if kind == "copie exacte":
            ids = {f: getattr(base, f) for f in ("siret", "phone", "email", "website")}
            ids["address"] = base.addresses[0]
        elif kind == "accents":
            name = strip_accents(name) if strip_accents(name) != name else name.replace("e", "é", 1)
        elif kind == "casse":
            name = name.upper() if rng.random() < 0.5 else name.lower()
        elif kind == "abréviation":
            name = abbreviate(name, rng)
        elif kind == "faute de frappe":
            name = typo(name, rng)
        elif kind == "ordre des mots":
            name = reorder(name, commune.name)
        elif kind == "adresse déplacée":
            ids["address"] = f"{rng.randint(121, 300)} {rng.choice(STREETS)}"
        elif kind == "téléphone changé":
            ids["phone"] = f"0{rng.randint(6, 7)}{rng.randint(10**7, 10**8 - 1)}"
        copy = self.add(name, commune, cluster=self.cluster[base.key], **ids)
        self.variant[copy.key] = kind

    def network_sites(self) -> None:
        """A network's sites: other communes (some near), and quarters of one commune."""
        rng = self.rng
        network, site = rng.choice(NETWORKS)
        first = self.commune()
        nearby = [
            c for c in self.gazetteer.nearby(first.lat, first.lon, 15) if c.insee != first.insee
        ]
        others = [*rng.sample(nearby, min(2, len(nearby))), self.commune()]
        web = f"https://www.{site}" if site else ""
        q1, q2 = rng.sample(QUARTERS, 2)
        sites = [(f"{network} {c.name}", c) for c in (first, *others)]
        sites += [(f"{network} {first.name} {q}", first) for q in (q1, q2)]
        made = [
            self.add(name, commune, website=web)
            for name, commune in sites
            if (_words(name), commune.insee) not in self.names
        ]
        for a in made:
            for b in made:
                if a.key < b.key:
                    self.hard.add(frozenset((a.key, b.key)))

    def homonyms(self) -> None:
        """The same name, no place in it, in two communes more than 20 km apart."""
        rng = self.rng
        name = ""
        while not name or _words(name) in self.homonym_names:
            kind = rng.choice(["Association", "Atelier", "Collectif", "Maison"])
            words = " ".join(rng.sample(ASSOCIATION_WORDS, 2))
            name = f"{kind} {words} {rng.choice(LAST_NAMES)}"
        self.homonym_names.add(_words(name))
        a = self.commune()
        b = self.commune()
        while distance_km((a.lat, a.lon), (b.lat, b.lon)) < 20:
            b = self.commune()
        made = [self.add(name, a), self.add(name, b)]
        self.hard.add(frozenset(r.key for r in made))


def _words(name: str) -> frozenset[str]:
    """A name as a set of words: two structures of a commune never have the same."""
    return frozenset(normalise_name(name).split())


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def abbreviate(name: str, rng: random.Random) -> str:
    for full, short in ABBREVIATIONS:
        if name.startswith(full):
            return short + name[len(full) :]
        if name.startswith(short + " "):
            return full + name[len(short) :]
    # Profiles without a known abbreviation: an "Association" typed as "Assoc.".
    return f"Assoc. {name}" if rng.random() < 0.5 else f"Association {name}"


def typo(name: str, rng: random.Random) -> str:
    words = name.split()
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return name + "e"
    i = rng.choice(candidates)
    word = words[i]
    at = rng.randint(1, len(word) - 2)
    how = rng.choice(["swap", "drop", "replace", "double"])
    if how == "swap":
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    elif how == "drop":
        word = word[:at] + word[at + 1 :]
    elif how == "replace":
        word = word[:at] + rng.choice("aeiourstnl") + word[at + 1 :]
    else:
        word = word[:at] + word[at] + word[at:]
    words[i] = word
    return " ".join(words)


def reorder(name: str, commune: str) -> str:
    if name.endswith(commune) and name != commune:
        return f"{commune} - {name[: -len(commune)].strip()}"
    words = name.split()
    return " ".join(words[1:] + words[:1])


def measure(structures: int, seed: int) -> None:
    directory = Builder(seed).build(structures)
    started = time.perf_counter()
    pairs = find_duplicates(directory.records)
    elapsed = time.perf_counter() - started
    cluster = directory.cluster
    found = {frozenset((p.left, p.right)) for p in pairs}
    true_found = {f for f in found if len({cluster[k] for k in f}) == 1}
    members: dict[int, list[str]] = {}
    for key, c in cluster.items():
        members.setdefault(c, []).append(key)
    truth = {
        frozenset((a, b))
        for keys in members.values()
        for i, a in enumerate(keys)
        for b in keys[i + 1 :]
    }
    precision = len(true_found) / len(found) if found else 1.0
    recall = len(true_found) / len(truth) if truth else 1.0
    print(
        f"\n{len(directory.records):>7,} structures ({structures:,} + "
        f"{len(directory.records) - structures:,} injected): {elapsed:.2f} s, "
        f"{len(found):,} pairs proposed"
    )
    print(f"  precision {precision:.1%}   recall {recall:.1%}   ({len(truth):,} true pairs)")
    per_kind: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for copy, kind in directory.variant.items():
        base = min(members[cluster[copy]], key=lambda k: int(k[1:]))
        per_kind[kind] += 1
        hits[kind] += frozenset((base, copy)) in found
    for kind in VARIANTS:
        print(f"    {kind:<18} recall {hits[kind] / per_kind[kind]:.1%} ({per_kind[kind]})")
    wrong = directory.hard & found
    print(f"  hard negatives paired: {len(wrong)} of {len(directory.hard):,}")
    wrong_other = found - true_found - wrong
    print(f"  other false pairs: {len(wrong_other)}")
    names = {r.key: r for r in directory.records}
    for f in list(wrong | wrong_other)[:5]:
        a, b = sorted(f)
        left, right = names[a], names[b]
        print(f"      {left.name} ({left.communes[0]}) / {right.name} ({right.communes[0]})")
    missed = truth - found
    for f in list(missed)[:5]:
        a, b = sorted(f)
        print(f"      missed: {names[a].name} / {names[b].name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    for size in args.sizes:
        measure(size, args.seed)


if __name__ == "__main__":
    main()
