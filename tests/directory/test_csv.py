"""CSV import and export through the real command line, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import sqlite3
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from directory import csv_io, store
from directory.gazetteer import load_gazetteer
from directory.geo import cell_of
from directory.schemas import RelationshipWrite
from directory.search import SearchFilters, resolve_need, search
from directory.tables import Person, Relationship, Service, ServiceKey, Site, Structure
from directory.text import fold
from directory.vocabulary import (
    NETWORKS,
    PUBLICS,
    THEMATIQUES,
    Channel,
    Domain,
    Level,
    RelationshipKind,
    StructureStatus,
)
from service.cli import main
from tests import factories

FILES = ("structures.csv", "sites.csv", "services.csv", "people.csv", "relationships.csv")
TABLES = (ServiceKey, Relationship, Service, Person, Site, Structure)
VALID_SIRET = "44321538000009"


def cli(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--database-url", database_url, *args])


def counts() -> dict[str, int]:
    async def run() -> dict[str, int]:
        return {t._meta.tablename: await t.count() for t in TABLES}

    return asyncio.run(run())


def empty_directory() -> None:
    async def run() -> None:
        for table in TABLES:  # children first: no reliance on ON DELETE CASCADE
            await table.delete(force=True)

    asyncio.run(run())


def write_csv(folder: Path, name: str, rows: list[list[str]], **options: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", encoding=options.pop("encoding", "utf-8"), newline="") as f:
        csv.writer(f, **options).writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def rewrite_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


async def a_rich_directory() -> dict[str, uuid.UUID]:
    """Every column filled at least once, with text that tests the CSV quoting."""
    thematique, public, network = next(iter(THEMATIQUES)), next(iter(PUBLICS)), list(NETWORKS)[1]
    ml = await factories.structure(
        "Mission Locale Valence, Drôme",
        kind="mission-locale",
        network=network,
        siret=VALID_SIRET,
        description='Accueil des 16-25 ans.\nDit « la ML », aussi "ML Valence"; ouverte.',
        website="https://ml-valence.example.fr",
        email="Contact@ML-Valence.example.fr",
        phone="04 75 12 34 56",
        status=StructureStatus.SUSPENDED,
    )
    foyer = await factories.structure("Foyer | Habitat Jeunes", kind="housing")
    centre = await factories.site(
        ml,
        commune="26362",
        name="Siège",
        address="12 rue de l'Université",
        opening_hours="Mo-Fr 09:00-12:00,14:00-17:00",
        accessibility="Rampe d'accès",
        walk_in=True,
    )
    await factories.site(ml, commune="26281", name="Antenne", lat=45.0461, lon=5.0512)
    await factories.site(foyer, commune="2A004")
    advisor = await factories.person(
        ml, "Élise", "Durand", role="Conseillère", phone="06 12 34 56 78"
    )
    await factories.person(
        ml,
        "Marc",
        "Petit",
        preferred_channel=Channel.PHONE,
        phone="+33 4 75 00 00 00",
        email="",
        active=False,
        left_on=date(2024, 12, 31),
    )
    resident = await factories.person(
        foyer, "Nadia", "Benali", preferred_channel=Channel.SMS, phone="0611223344"
    )
    await factories.service(
        ml,
        "Accompagnement emploi",
        (Domain.EMPLOYMENT, Domain.CAREER),
        description="Ateliers CV, simulation d'entretien",
        thematiques=[thematique],
        publics=[public],
        zone=["26", "200068781", "26362"],
        site_id=centre,
        contact_id=advisor,
        conditions="Avoir entre 16 et 25 ans",
        fees="Gratuit",
        remote=True,
        unconditional=True,
    )
    await factories.service(
        foyer, "Logement temporaire", (Domain.HOUSING,), on_site=False, remote=True, zone=["france"]
    )
    await factories.relationship(
        ml,
        foyer,
        Level.OPERATIONAL,
        kind=RelationshipKind.REFERRAL,
        since=date(2023, 9, 1),
        note="Convention, 2023",
    )
    await factories.relationship(ml, foyer, Level.POLITICAL)
    await store.create_relationship(
        foyer, RelationshipWrite(level=Level.ORGANISATIONAL, target_person_id=advisor)
    )
    return {"ml": ml, "foyer": foyer, "resident": resident}


async def service_state() -> tuple[list[tuple[str, str]], list[str]]:
    texts = sorted((str(r["id"]), r["search_text"]) for r in await Service.select())
    keys = sorted(f"{r['service']}:{r['key']}" for r in await ServiceKey.select())
    return texts, keys


def _without_verification(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [
            {k: v for k, v in row.items() if not k.startswith("verified_")}
            for row in csv.DictReader(handle)
        ]


def test_export_import_round_trip_is_identical(database_url: str, tmp_path: Path) -> None:
    asyncio.run(a_rich_directory())
    before_counts = counts()
    before_services = asyncio.run(service_state())
    first = tmp_path / "first"
    result = cli(database_url, "export", str(first))
    assert result.exit_code == 0, result.output
    assert "3 sites" in result.output

    empty_directory()
    assert counts()[Structure._meta.tablename] == 0
    result = cli(database_url, "import", str(first))
    assert result.exit_code == 0, result.output
    assert "2 structures" in result.output
    assert counts() == before_counts
    assert asyncio.run(service_state()) == before_services

    second = tmp_path / "second"
    assert cli(database_url, "export", str(second)).exit_code == 0
    for name in FILES:
        # The import vouches for what it writes: only the verification columns differ.
        assert _without_verification(first / name) == _without_verification(second / name)
    with (second / "structures.csv").open(encoding="utf-8") as handle:
        stamps = {(r["verified_by_kind"], r["verified_by"]) for r in csv.DictReader(handle)}
    assert stamps == {("import", "import CSV (structures.csv)")}

    # Importing the same files again changes nothing.
    result = cli(database_url, "import", str(first))
    assert result.exit_code == 0, result.output
    assert "inchangée" in result.output and "créée" not in result.output
    third = tmp_path / "third"
    assert cli(database_url, "export", str(third)).exit_code == 0
    for name in FILES:
        assert (second / name).read_bytes() == (third / name).read_bytes(), name


def test_bad_rows_are_all_reported_and_nothing_is_written(
    database_url: str, tmp_path: Path
) -> None:
    asyncio.run(factories.partner("Déjà là", "26362"))
    before = counts()
    new_structure, other = str(uuid.uuid4()), str(uuid.uuid4())
    folder = tmp_path / "bad"
    write_csv(
        folder,
        "structures.csv",
        [
            ["id", "name", "siret"],
            [new_structure, "Nouvelle structure", VALID_SIRET],
            [other, "Mauvais SIRET", "12345678901234"],
        ],
    )
    write_csv(
        folder,
        "sites.csv",
        [
            ["id", "structure_id", "commune"],
            [str(uuid.uuid4()), new_structure, "26362"],
            [str(uuid.uuid4()), new_structure, "99999"],
        ],
    )
    write_csv(
        folder,
        "services.csv",
        [
            ["id", "structure_id", "name", "domains"],
            [str(uuid.uuid4()), new_structure, "Accueil", "housing"],
            [str(uuid.uuid4()), new_structure, "Mauvais domaine", "health|logment"],
            [str(uuid.uuid4()), str(uuid.uuid4()), "Orphelin", "housing"],
        ],
    )
    write_csv(
        folder,
        "people.csv",
        [
            ["id", "structure_id", "first_name", "last_name", "email"],
            [str(uuid.uuid4()), new_structure, "Léa", "Roux", "lea@exemple.fr"],
        ],
    )

    result = cli(database_url, "import", str(folder))

    assert result.exit_code != 0
    problems = result.stderr
    assert "rien n'a été écrit" in problems
    assert "structures.csv, ligne 3 : siret : Ce SIRET n'est pas valide" in problems
    assert "sites.csv, ligne 3 : commune : Aucune commune n'a le code INSEE 99999" in problems
    assert "services.csv, ligne 3 : domains : domaine inconnu « logment »" in problems
    assert "services.csv, ligne 4 : structure_id : structure introuvable" in problems
    assert len([line for line in problems.splitlines() if "ligne" in line]) == 4
    assert counts() == before


def test_header_problems_and_bad_values_are_reported(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    write_csv(folder, "structures.csv", [["id", "name", "colour"], [str(uuid.uuid4()), "A", "x"]])
    write_csv(folder, "sites.csv", [["id", "name"], [str(uuid.uuid4()), "Sans commune"]])
    write_csv(
        folder,
        "people.csv",
        [
            ["id", "structure_id", "first_name", "last_name", "email", "active", "left_on"],
            ["pas-un-uuid", str(uuid.uuid4()), "", "Roux", "lea@", "peut-être", "31/12/2024"],
        ],
    )
    result = cli(database_url, "import", str(folder))
    assert result.exit_code != 0
    problems = result.stderr
    assert "structures.csv, ligne 1 : colonne inconnue « colour »" in problems
    assert "sites.csv, ligne 1 : colonne obligatoire absente « structure_id »" in problems
    assert (
        "sites.csv, ligne 2 : commune : colonne absente du fichier, obligatoire pour créer "
        "une fiche" in problems
    )
    assert "people.csv, ligne 2 : id : identifiant invalide « pas-un-uuid »" in problems
    assert "people.csv, ligne 2 : first_name : valeur obligatoire" in problems
    assert "people.csv, ligne 2 : active : « peut-être » : oui ou non attendu" in problems
    assert "people.csv, ligne 2 : left_on : date invalide « 31/12/2024 »" in problems
    assert counts()[Structure._meta.tablename] == 0


def test_rows_update_the_records_named_by_their_id(database_url: str, tmp_path: Path) -> None:
    ids = asyncio.run(a_rich_directory())
    folder = tmp_path / "export"
    assert cli(database_url, "export", str(folder)).exit_code == 0
    before = counts()

    # A partial file: only the columns to change; the others keep their values.
    partial = tmp_path / "partial"
    write_csv(
        partial,
        "structures.csv",
        [
            ["id", "name", "phone"],
            [str(ids["ml"]), "Mission Locale du Grand Valence", "0475999999"],
        ],
    )
    # An edited export: a site moves to another commune, a person changes role.
    sites = read_csv(folder / "sites.csv")
    moved = next(s for s in sites if s["structure_id"] == str(ids["foyer"]))
    moved["commune"], moved["postcode"] = "26281", ""
    people = read_csv(folder / "people.csv")
    nadia = next(p for p in people if p["id"] == str(ids["resident"]))
    nadia["role"] = "Animatrice"
    rewrite_csv(partial / "sites.csv", sites)
    rewrite_csv(partial / "people.csv", people)

    result = cli(database_url, "import", str(partial))
    assert result.exit_code == 0, result.output
    assert "mise(s) à jour" in result.output
    assert counts() == before

    async def check() -> None:
        ml = await Structure.objects().where(Structure.id == ids["ml"]).first()
        assert ml.name == "Mission Locale du Grand Valence"
        assert ml.phone == "+33475999999"
        assert ml.email == "contact@ml-valence.example.fr"  # column absent: kept
        assert ml.siret == VALID_SIRET
        assert ml.updated_at > ml.created_at
        for service in await Service.objects().where(Service.structure == ids["ml"]):
            assert "grand valence" in service.search_text
        site = await Site.objects().where(Site.structure == ids["foyer"]).first()
        romans = load_gazetteer().get("26281")
        assert (site.commune, site.postcode) == ("26281", "26100")
        assert (site.lat, site.lon, site.geocoded) == (romans.lat, romans.lon, "commune")
        assert site.cell == cell_of(romans.lat, romans.lon)
        person = await Person.objects().where(Person.id == ids["resident"]).first()
        assert person.role == "Animatrice"

    asyncio.run(check())


def test_imported_services_are_findable(database_url: str, tmp_path: Path) -> None:
    """A hand-made spreadsheet: semicolons and a BOM (Excel), booleans written true/1,
    a site without coordinates, services without ids."""
    structure, site = str(uuid.uuid4()), str(uuid.uuid4())
    folder = tmp_path / "hand"
    write_csv(
        folder,
        "structures.csv",
        [["id", "name", "kind"], [structure, "Habitat Jeunes Valence", "housing"]],
        delimiter=";",
        encoding="utf-8-sig",
    )
    write_csv(
        folder,
        "sites.csv",
        [["id", "structure_id", "commune", "walk_in"], [site, structure, "26362", "true"]],
    )
    write_csv(
        folder,
        "services.csv",
        [
            ["id", "structure_id", "site_id", "name", "domains", "zone", "unconditional"],
            ["", structure, site, "Chambres meublées", "housing", "26", "1"],
            ["", structure, "", "Aide à l'installation", "housing|rights", "", "0"],
        ],
    )
    result = cli(database_url, "import", str(folder))
    assert result.exit_code == 0, result.output
    assert "1 structure, 1 site, 2 services" in result.output

    async def check() -> None:
        site_row = await Site.objects().first()
        valence = load_gazetteer().get("26362")
        assert (site_row.lat, site_row.lon, site_row.geocoded) == (
            valence.lat,
            valence.lon,
            "commune",
        )
        assert site_row.cell == cell_of(valence.lat, valence.lon)
        assert site_row.walk_in is True
        chambres = await Service.objects().where(Service.name == "Chambres meublées").first()
        assert chambres.unconditional is True
        assert fold("Habitat Jeunes Valence chambres meublées logement") in chambres.search_text
        keys = {
            r["key"] for r in await ServiceKey.select().where(ServiceKey.service == chambres.id)
        }
        assert keys == {"d:housing", "z:26"}
        assert await ServiceKey.count() == 4
        results = await search(valence, resolve_need("logement"), filters=SearchFilters())
        assert {hit.service_name for hit in results.items} == {
            "Chambres meublées",
            "Aide à l'installation",
        }
        results = await search(valence, resolve_need(""), words="meublées")
        assert [hit.service_name for hit in results.items] == ["Chambres meublées"]

    asyncio.run(check())


def test_a_failing_write_rolls_everything_back(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asyncio.run(a_rich_directory())
    folder = tmp_path / "export"
    assert cli(database_url, "export", str(folder)).exit_code == 0
    empty_directory()

    async def fail(*_args: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    # Structures, people, sites and services are written before the service keys fail.
    monkeypatch.setattr(csv_io._Import, "_write_keys", staticmethod(fail))
    result = cli(database_url, "import", str(folder))

    assert result.exit_code != 0
    assert "disk I/O error" in result.stderr
    assert set(counts().values()) == {0}


def test_a_nul_character_in_a_cell_is_refused(database_url: str, tmp_path: Path) -> None:
    """SQLite would store the name cut at the NUL, PostgreSQL would refuse it mid-import."""
    folder = tmp_path / "nul"
    write_csv(
        folder,
        "structures.csv",
        [["id", "name"], [str(uuid.uuid4()), "Foyer"], [str(uuid.uuid4()), "Foyer\x00 caché"]],
    )
    result = cli(database_url, "import", str(folder))
    assert result.exit_code != 0
    assert "structures.csv, ligne 3 : caractère nul (U+0000)" in result.stderr
    assert counts()[Structure._meta.tablename] == 0


def test_an_unterminated_quote_is_refused_not_swallowed(database_url: str, tmp_path: Path) -> None:
    """An opening quote never closed used to take the rest of the file into one cell."""
    folder = tmp_path / "quote"
    folder.mkdir()
    first, second = uuid.uuid4(), uuid.uuid4()
    (folder / "structures.csv").write_text(
        f'id,name,siret\n{first},"Foyer des Jeunes,{VALID_SIRET}\n{second},Autre,\n',
        encoding="utf-8",
    )
    result = cli(database_url, "import", str(folder))
    assert result.exit_code != 0
    assert (
        "structures.csv, ligne 2 : CSV illisible (un guillemet ouvert n'est jamais refermé)"
        in result.stderr
    )
    assert counts()[Structure._meta.tablename] == 0

    (folder / "structures.csv").write_text(
        f'id,name\n{first},"Foyer" des Jeunes\n', encoding="utf-8"
    )
    stray = cli(database_url, "import", str(folder))
    assert stray.exit_code != 0
    assert "structures.csv, ligne 2 : CSV illisible (du texte suit un guillemet fermant" in (
        stray.stderr
    )
    assert counts()[Structure._meta.tablename] == 0
