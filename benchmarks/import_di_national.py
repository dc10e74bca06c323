"""data·inclusion import at national scale: `maillage import-di` on a generated dataset.

1. Generates, from a seed, a national data·inclusion v1 dataset (default 100,000
   structures and 200,000 services) over the real communes of the gazetteer, in the
   published shape (every field of the package's models, JSON), into a temporary folder.
2. Runs `maillage import-di` in a subprocess on a fresh database, twice: the first import
   (everything created) and a re-import of the same files (everything unchanged).
   The wall time, the subprocess's peak RSS (os.wait4) and the lines of history it wrote
   (directory_change rows) are measured for each.
3. Prints a summary block to paste into a note.

    python benchmarks/import_di_national.py                    # SQLite and PostgreSQL
    python benchmarks/import_di_national.py --engine sqlite --structures 5000   # quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from data_inclusion.schema import v1  # noqa: E402

from directory.gazetteer import load_gazetteer  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SOURCES = ("dora", "soliguide", "france-travail", "mes-aides", "action-logement", "cd35")
WORDS = (
    "Accueil",
    "Espace",
    "Maison",
    "Point",
    "Association",
    "Centre",
    "Atelier",
    "Plateforme",
    "Relais",
)


def _structure(rng: random.Random, n: int, commune: Any, source: str) -> dict[str, Any]:
    with_coords = rng.random() < 0.7
    networks = rng.sample([r.value for r in v1.ReseauPorteur], rng.choice((0, 1, 1, 2)))
    return {
        "source": source,
        "id": f"{source}--s{n}",
        "nom": f"{rng.choice(WORDS)} {commune.name} {n}",
        "date_maj": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "description": "Accueil, information et accompagnement des personnes du territoire.",
        "lien_source": f"https://{source}.example.org/structures/{n}",
        "siret": None,
        "commune": commune.name,
        "code_postal": commune.postcodes[0] if commune.postcodes else None,
        "code_insee": commune.insee,
        "adresse": f"{rng.randint(1, 120)} rue de la République",
        "complement_adresse": None,
        "longitude": round(commune.lon + rng.uniform(-0.01, 0.01), 5) if with_coords else None,
        "latitude": round(commune.lat + rng.uniform(-0.01, 0.01), 5) if with_coords else None,
        "telephone": f"04{rng.randint(10000000, 99999999)}",
        "courriel": f"contact{n}@example.org",
        "site_web": None,
        "horaires_accueil": "Mo-Fr 09:00-12:00,14:00-17:00",
        "accessibilite_lieu": None,
        "reseaux_porteurs": networks or None,
    }


def _service(rng: random.Random, n: int, structure: dict[str, Any]) -> dict[str, Any]:
    thematiques = rng.sample([t.value for t in v1.Thematique], rng.randint(1, 4))
    publics = rng.sample([p.value for p in v1.Public if p.value != "tous-publics"], 2)
    same_place = rng.random() < 0.8
    place = {
        k: structure[k]
        for k in (
            "commune",
            "code_postal",
            "code_insee",
            "adresse",
            "complement_adresse",
            "longitude",
            "latitude",
        )
    }
    if not same_place:
        place = dict.fromkeys(place)
    zone = rng.choice(([structure["code_insee"]], [structure["code_insee"][:2]], ["france"]))
    return {
        "source": structure["source"],
        "structure_id": structure["id"],
        "id": f"{structure['source']}--v{n}",
        "nom": f"Service {n} : accompagnement",
        "description": "Un accompagnement individuel pour avancer dans ses démarches.",
        "lien_source": None,
        "date_maj": structure["date_maj"],
        "type": rng.choice([t.value for t in v1.TypeService]),
        "thematiques": thematiques,
        "frais": rng.choice(("gratuit", "payant")),
        "frais_precisions": None,
        "publics": publics if rng.random() < 0.8 else ["tous-publics"],
        "publics_precisions": None,
        "conditions_acces": None,
        **place,
        "telephone": None,
        "courriel": None,
        "modes_accueil": rng.choice(
            (["en-presentiel"], ["a-distance"], ["en-presentiel", "a-distance"])
        ),
        "zone_eligibilite": zone,
        "contact_nom_prenom": rng.choice((None, None, "Camille Martin")),
        "lien_mobilisation": None,
        "modes_mobilisation": ["telephoner"],
        "mobilisable_par": ["professionnels"],
        "mobilisation_precisions": None,
        "volume_horaire_hebdomadaire": None,
        "nombre_semaines": None,
        "horaires_accueil": None,
    }


def generate(folder: Path, structures: int, services: int, seed: int) -> tuple[Path, Path]:
    rng = random.Random(seed)
    communes = list(load_gazetteer())
    weights = [max(c.population, 50) for c in communes]
    places = rng.choices(communes, weights=weights, k=structures)
    made = [_structure(rng, n, c, rng.choice(SOURCES)) for n, c in enumerate(places)]
    offered = [_service(rng, n, made[n % structures]) for n in range(services)]
    paths = folder / "structures.json", folder / "services.json"
    paths[0].write_text(json.dumps(made, ensure_ascii=False))
    paths[1].write_text(json.dumps(offered, ensure_ascii=False))
    return paths


def _run(database_url: str, *args: str) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, output) of one `maillage` subprocess."""
    command = [sys.executable, "-m", "service.cli", "--database-url", database_url, *args]
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{output}")
    return seconds, usage.ru_maxrss / 1024, output.strip()


def _database(engine: str, folder: Path) -> str:
    if engine == "sqlite":
        return f"sqlite:///{folder / 'bench.sqlite'}"
    import asyncio

    import asyncpg

    name = f"maillage_bench_di_{os.getpid()}"

    async def create() -> None:
        connection = await asyncpg.connect(PG_ADMIN)
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

    asyncio.run(create())
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def _drop(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    import asyncio

    import asyncpg

    async def drop() -> None:
        connection = await asyncpg.connect(PG_ADMIN)
        await connection.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}"')
        await connection.close()

    asyncio.run(drop())


def history_rows(url: str) -> int:
    """Lines of the directory's history (directory_change) in the benchmark's database."""
    if url.startswith("sqlite:///"):
        import sqlite3

        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            return int(connection.execute("SELECT count(*) FROM directory_change").fetchone()[0])
    import asyncio

    import asyncpg

    async def count() -> int:
        connection = await asyncpg.connect(url)
        try:
            return int(await connection.fetchval("SELECT count(*) FROM directory_change"))
        finally:
            await connection.close()

    return asyncio.run(count())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--structures", type=int, default=100_000)
    parser.add_argument("--services", type=int, default=None, help="default: 2 × structures")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    services = options.services if options.services is not None else 2 * options.structures
    engines = ("sqlite", "postgres") if options.engine == "both" else (options.engine,)
    lines = [
        f"command: python benchmarks/import_di_national.py {' '.join(sys.argv[1:])}".rstrip(),
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
    ]
    with tempfile.TemporaryDirectory(prefix="maillage-di-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        files = generate(folder, options.structures, services, options.seed)
        size = sum(f.stat().st_size for f in files) / 2**20
        lines.append(
            f"dataset: {options.structures:,} structures, {services:,} services, "
            f"{size:.0f} MiB of JSON (generated in {time.perf_counter() - start:.0f} s)"
        )
        for engine in engines:
            url = _database(engine, folder)
            try:
                _run(url, "migrate")
                kept = history_rows(url)
                for phase in ("first import", "re-import"):
                    seconds, rss, output = _run(url, "import-di", *map(str, files))
                    print(output, flush=True)
                    rate = (options.structures + services) / seconds
                    written, kept = history_rows(url) - kept, history_rows(url)
                    lines.append(
                        f"{engine:8} {phase:12}: {seconds:7.1f} s, peak RSS {rss:6.0f} MiB, "
                        f"{rate:,.0f} records/s, {written:,} history rows written"
                    )
                    print(lines[-1], flush=True)
            finally:
                _drop(url)
    print("\n".join(["", "---- summary ----", *lines]))


if __name__ == "__main__":
    main()
