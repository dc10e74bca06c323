"""A real national file, as a coordinator gets it: tests/directory/data/messy/ holds the
five defects of real spreadsheets in Maillage's own CSV, in the encodings French Excel
writes (structures.csv: Windows-1252 with semicolons; sites.csv: UTF-8 with a BOM and
semicolons; people.csv: UTF-16 with its BOM and tabs; services.csv: UTF-8 with a BOM and
commas; relationships.csv: plain ASCII with semicolons). Through the real command line,
on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from directory.tables import Person, Service, Site, Structure
from service.cli import main
from tests.directory.test_csv import counts, read_csv, rewrite_csv

MESSY = Path(__file__).parent / "data" / "messy"


def S(n: int) -> str:
    return f"5a1e0000-0000-4000-8000-{n:012d}"


def T(n: int) -> str:
    return f"517e0000-0000-4000-8000-{n:012d}"


def cli(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--database-url", database_url, *args])


def rows(table: Any) -> dict[str, dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        return await table.select()

    return {str(r["id"]): r for r in asyncio.run(run())}


def read_report(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    """Report lines by (file, line)."""
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode()), "a BOM, so that Excel reads UTF-8"
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";")
    return {(r["fichier"], r["ligne"]): r for r in reader}


# What the report says of each row of the fixture: (status, reason or warning).
REFUSED = {
    ("structures.csv", "8"): "siret : Ce SIRET n'est pas valide",
    ("sites.csv", "7"): "commune : 98818 est une commune d'une collectivité d'outre-mer "
    "(Nouvelle-Calédonie) : Maillage ne couvre que la métropole et les cinq départements "
    "d'outre-mer",
    ("sites.csv", "10"): "structure_id : la ligne 8 de structures.csv, à laquelle elle se "
    "rapporte, est refusée",
    ("sites.csv", "12"): "postcode : Le code postal 75001 n'est pas celui de Mende (48000).",
    ("people.csv", "3"): "structure_id : la ligne 8 de structures.csv",
    ("services.csv", "4"): "site_id : la ligne 7 de sites.csv, à laquelle elle se rapporte, "
    "est refusée",
    ("services.csv", "5"): "structure_id : la ligne 8 de structures.csv",
    ("services.csv", "6"): "domains : domaine inconnu « logment »",
    ("relationships.csv", "3"): "target_structure_id : la ligne 8 de structures.csv, à "
    "laquelle elle se rapporte, est refusée",
}
WARNED = {
    ("structures.csv", "2"): "phone : note retirée après le numéro : « Numéro vert 0800 12 34 56 »",
    ("structures.csv", "7"): "website : « www.lozere.fr » lu comme https://www.lozere.fr",
    ("sites.csv", "2"): "commune : code INSEE « 6088 » lu comme 06088 (zéro initial perdu)",
    ("sites.csv", "3"): "postcode : « 06204 NICE CEDEX 3 » est un code CEDEX (courrier des "
    "entreprises) : le site prend le code postal de sa commune, 06000 (Nice)",
    ("sites.csv", "8"): "lat : coordonnées à ",
    ("sites.csv", "9"): "lat : coordonnées à 58 km du centre de la commune 48095 (Mende) : "
    "vérifiez-les, ou la commune",
    ("sites.csv", "11"): "commune : la commune 74011 a fusionné depuis : site rattaché à Annecy "
    "(74010), la commune d'aujourd'hui",
}


def test_a_messy_national_file_goes_in_with_a_report(database_url: str, tmp_path: Path) -> None:
    report_path = tmp_path / "rapport.csv"
    result = cli(database_url, "import", str(MESSY), "--keep-valid", "--report", str(report_path))
    assert result.exit_code == 0, result.output
    assert "9 ligne(s) refusée(s)" in result.stdout
    assert "8 structures, 8 sites, 2 services, 1 personne, 1 relation ;" in result.stdout
    assert f"Rapport : {report_path}" in result.stderr
    assert "structures.csv : fichier lu en Windows-1252" in result.stderr

    structures, sites, people = rows(Structure), rows(Site), rows(Person)
    # Windows-1252 read as such: accents and French quotes intact.
    assert structures[S(9)]["name"] == "Espace Santé Jeunes « Étoile »"
    # Overseas numbers in national form, through the territory of the structure's site.
    assert structures[S(2)]["phone"] == "+262262213456"
    assert structures[S(3)]["phone"] == "+590590823456"
    assert structures[S(4)]["phone"] == "+594594293456"
    assert next(iter(people.values()))["phone"] == "+262692123456"
    # A note after the number is dropped; a website without a scheme gets one.
    assert structures[S(1)]["phone"] == "+33493123456"
    assert structures[S(6)]["website"] == "https://www.lozere.fr"
    assert structures[S(1)]["website"] == "https://www.missionlocale-nice.fr"
    # Lost leading zeros, CEDEX, merged commune.
    assert (sites[T(1)]["commune"], sites[T(1)]["postcode"]) == ("06088", "06000")
    assert sites[T(2)]["postcode"] == "06000"
    assert (sites[T(10)]["commune"], sites[T(10)]["postcode"]) == ("74010", "74940")
    # Far coordinates are kept as given, and flagged.
    assert (sites[T(7)]["lat"], sites[T(7)]["lon"]) == (44.5181, -3.4997)
    # Refused rows, and those that depend on them, are not written.
    assert S(7) not in structures and T(6) not in sites and T(9) not in sites
    assert counts()[Service._meta.tablename] == 2

    report = read_report(report_path)
    for place, reason in REFUSED.items():
        assert report[place]["statut"] == "refusée", place
        assert reason in report[place]["motif"], (place, report[place]["motif"])
    for place, warning in WARNED.items():
        assert report[place]["statut"] == "importée", place
        assert warning in report[place]["remarques"], (place, report[place]["remarques"])
    assert "le signe de la longitude semble inversé" in report[("sites.csv", "8")]["remarques"]
    assert "signe" not in report[("sites.csv", "9")]["remarques"]
    # The refused rows are given back as they were in the file, to be corrected.
    assert report[("sites.csv", "7")]["commune"] == "98818"
    assert report[("structures.csv", "8")]["siret"] == "12345678901234"
    assert report[("structures.csv", "")]["statut"] == "fichier importé"
    lines = {place for place in report if place[1]}
    assert lines == REFUSED.keys() | WARNED.keys()


def test_all_or_nothing_stays_the_default(database_url: str, tmp_path: Path) -> None:
    report_path = tmp_path / "rapport.csv"
    result = cli(database_url, "import", str(MESSY), "--report", str(report_path))
    assert result.exit_code == 1
    assert "Import refusé, rien n'a été écrit" in result.stderr
    assert "structures.csv, ligne 8 : siret : Ce SIRET n'est pas valide" in result.stderr
    refusal = "sites.csv, ligne 7 : commune : 98818 est une commune d'une collectivité"
    assert f"{refusal} d'outre-mer (Nouvelle-Calédonie)" in result.stderr
    assert counts()[Structure._meta.tablename] == 0
    report = read_report(report_path)
    assert report[("structures.csv", "8")]["statut"] == "refusée"
    assert report[("sites.csv", "2")]["statut"] == "non importée (import annulé)"


def test_the_default_report_lies_next_to_the_folder(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "annuaire"
    shutil.copytree(MESSY, folder)
    result = cli(database_url, "import", str(folder), "--keep-valid")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "annuaire-rapport.csv").exists()
    # The report is not in the folder, so the folder imports again unchanged.
    again = cli(database_url, "import", str(folder), "--keep-valid")
    assert again.exit_code == 0, again.output
    assert "créée" not in again.stdout and "inchangée" in again.stdout


def test_a_partial_update_file_needs_only_what_it_changes(
    database_url: str, tmp_path: Path
) -> None:
    first = cli(database_url, "import", str(MESSY), "--keep-valid", "--report", str(tmp_path / "r"))
    assert first.exit_code == 0, first.output
    export = tmp_path / "export"
    assert cli(database_url, "export", str(export)).exit_code == 0
    services = read_csv(export / "services.csv")
    folder = tmp_path / "update"
    folder.mkdir()
    update = [
        {"id": s["id"], "structure_id": s["structure_id"], "zone": "france"} for s in services
    ]
    # A new service in the same file lacks `name` and `domains`: refused for that.
    update.append({"id": "", "structure_id": S(1), "zone": "06"})
    rewrite_csv(folder / "services.csv", update)

    strict = cli(database_url, "import", str(folder))
    assert strict.exit_code == 1
    assert (
        "services.csv, ligne 4 : name : colonne absente du fichier, obligatoire pour créer "
        "une fiche" in strict.stderr
    )
    rewrite_csv(folder / "services.csv", update[:-1])
    result = cli(database_url, "import", str(folder))
    assert result.exit_code == 0, result.output
    assert "2 mise(s) à jour" in result.stdout
    after = rows(Service)
    assert all(list(s["zone"]) == ["france"] for s in after.values())
    before = {s["id"]: s for s in services}
    for id_, service in after.items():
        assert service["name"] == before[id_]["name"]
        assert "|".join(service["domains"]) == before[id_]["domains"]


def test_keep_valid_still_refuses_a_wrong_header_and_foreign_cedex(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "entete"
    folder.mkdir()
    (folder / "structures.csv").write_text(
        f"id;name;commentaire\n{S(1)};Mission Locale;à rappeler\n", encoding="utf-8"
    )
    refused = cli(database_url, "import", str(folder), "--keep-valid")
    assert refused.exit_code == 1
    assert "rien n'a été écrit" in refused.stderr
    assert "structures.csv, ligne 1 : colonne inconnue « commentaire »" in refused.stderr
    report = read_report(tmp_path / "entete-rapport.csv")
    assert report[("structures.csv", "1")]["statut"] == "fichier refusé"

    (folder / "structures.csv").write_text(f"id;name\n{S(1)};Mission Locale\n", encoding="utf-8")
    (folder / "sites.csv").write_text(
        "structure_id;commune;postcode\n"
        f"{S(1)};2A004;20187 AJACCIO CEDEX 1\n"  # Corsica: CEDEX of the same département
        f"{S(1)};26362;69009 LYON CEDEX\n",  # a CEDEX code of another département
        encoding="utf-8",
    )
    result = cli(database_url, "import", str(folder), "--keep-valid")
    assert result.exit_code == 0, result.output
    report = read_report(tmp_path / "entete-rapport.csv")
    assert report[("sites.csv", "2")]["statut"] == "importée"
    assert "code CEDEX" in report[("sites.csv", "2")]["remarques"]
    assert report[("sites.csv", "3")]["statut"] == "refusée"
    assert "Le code postal 69009 n'est pas celui de Valence" in report[("sites.csv", "3")]["motif"]
    sites = list(rows(Site).values())
    assert [(s["commune"], s["postcode"]) for s in sites] == [("2A004", "20000")]
