"""data·inclusion v1 in and out, through the real command line and API, on SQLite and
PostgreSQL: upsert by (source, id), refused records with their reasons, exports valid
against the package's own models, and export -> import -> export giving the same records."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from data_inclusion.schema import v1

from directory import store
from directory.tables import Person, Service, ServiceKey, Site, Structure
from directory.vocabulary import (
    DOMAIN_THEMATIQUES,
    NETWORKS,
    PUBLICS,
    THEMATIQUE_DOMAINS,
    THEMATIQUES,
    Domain,
)
from service.accounts.store import Role
from service.cli import main
from tests import factories

DATA = Path(__file__).parent / "data" / "data_inclusion"
TABLES = (ServiceKey, Service, Person, Site, Structure)


def cli(database_url: str, *args: str | Path) -> Result:
    return CliRunner().invoke(main, ["--database-url", database_url, *map(str, args)])


def counts() -> dict[str, int]:
    async def run() -> dict[str, int]:
        return {t._meta.tablename: await t.count() for t in TABLES}

    return asyncio.run(run())


def empty_directory() -> None:
    async def run() -> None:
        for table in TABLES:
            await table.delete(force=True)

    asyncio.run(run())


def records(folder: Path) -> tuple[list[dict], list[dict]]:
    return (
        json.loads((folder / "structures.json").read_text()),
        json.loads((folder / "services.json").read_text()),
    )


def test_every_national_code_is_known_and_mapped_to_domains() -> None:
    assert set(THEMATIQUES) == {t.value for t in v1.Thematique}
    assert set(PUBLICS) == {p.value for p in v1.Public}
    assert set(NETWORKS) == {r.value for r in v1.ReseauPorteur}
    assert "siae" not in NETWORKS
    assert set(THEMATIQUE_DOMAINS) == set(THEMATIQUES)
    assert all(THEMATIQUE_DOMAINS.values()), "a thematique without a domain is never found"
    assert "mobilite--preparer-un-permis" in DOMAIN_THEMATIQUES[Domain.MOBILITY]
    assert THEMATIQUE_DOMAINS["sante--constituer-un-dossier-mdph-invalidite"] == (
        Domain.HEALTH,
        Domain.RIGHTS,
    )


def test_json_import_then_the_same_records_in_csv_change_nothing(database_url: str) -> None:
    result = cli(database_url, "import-di", DATA / "structures.json", DATA / "services.json")
    assert result.exit_code == 0, result.output
    assert "Structures : 4 créée(s)" in result.output
    assert "Services : 5 créée(s)" in result.output
    before = counts()
    assert before["structure"] == 4 and before["service"] == 5

    async def stored() -> tuple[dict, dict, list[str]]:
        ml = await Structure.select().where(Structure.source_id == "dora--ml-valence").first()
        cej = await Service.select().where(Service.source_id == "dora--ml-valence-cej").first()
        keys = await ServiceKey.select(ServiceKey.key).where(ServiceKey.service == cej["id"])
        return ml, cej, sorted(k["key"] for k in keys)

    ml, cej, keys = asyncio.run(stored())
    assert (ml["source"], str(ml["source_date"]), ml["network"]) == (
        "dora",
        "2025-03-12",
        "mission-locale",
    )
    assert ml["phone"] == "+33475821120"
    assert cej["domains"] == ["employment", "career"]
    assert cej["on_site"] and cej["remote"]
    assert cej["zone"] == ["200068781"]
    assert cej["fees"] == "Gratuit"
    assert "d:career" in keys and "p:jeunes" in keys and "z:200068781" in keys
    # Found by search as a service typed in Maillage would be.
    assert cej["search_text"] == store.service_text(cej, ml["name"])

    again = cli(database_url, "import-di", DATA / "structures.csv", DATA / "services.csv")
    assert again.exit_code == 0, again.output
    assert "Structures : 0 créée(s), 0 mise(s) à jour, 4 inchangée(s)" in again.output
    assert "Services : 0 créée(s), 0 mise(s) à jour, 5 inchangée(s)" in again.output
    assert counts() == before


def test_a_changed_record_is_updated_not_duplicated(database_url: str, tmp_path: Path) -> None:
    assert cli(database_url, "import-di", *DATA.glob("*.json")).exit_code == 0
    structures, services = records(DATA)
    structures[1]["nom"] = "CCAS de Romans"
    services[2]["zone_eligibilite"] = ["26281", "26057"]
    (tmp_path / "s.json").write_text(json.dumps(structures + services))
    before = counts()

    result = cli(database_url, "import-di", tmp_path / "s.json")

    assert "Structures : 0 créée(s), 1 mise(s) à jour, 3 inchangée(s)" in result.output
    assert "Services : 0 créée(s), 1 mise(s) à jour, 4 inchangée(s)" in result.output
    after = counts()
    assert after.pop("service_key") == before.pop("service_key") + 1  # "z:26057"
    assert after == before

    async def zone() -> list[str]:
        row = await Service.select(Service.zone).where(
            Service.source_id == "dora--ccas-romans-budget"
        )
        return row[0]["zone"]

    assert asyncio.run(zone()) == ["26281", "26057"]


def test_refused_records_are_reported_with_their_reasons(database_url: str, tmp_path: Path) -> None:
    structures, services = records(DATA)
    bad_structure = {**structures[0], "id": "dora--sans-nom", "nom": "AB"}
    bad_date = {**structures[1], "id": "dora--date", "date_maj": "12/03/2025"}
    bad_service = {**services[0], "id": "dora--x", "thematiques": ["cuisine--faire-des-crepes"]}
    orphan = {**services[1], "id": "dora--orphelin", "structure_id": "dora--inconnue"}
    child_of_refused = {**services[1], "id": "dora--enfant", "structure_id": "dora--sans-nom"}
    file = tmp_path / "lot.json"
    file.write_text(
        json.dumps(
            [*structures, bad_structure, bad_date, *services, bad_service, orphan, child_of_refused]
        )
    )

    result = cli(database_url, "import-di", file)

    assert result.exit_code == 0, result.output
    assert (
        "Structures : 4 créée(s), 0 mise(s) à jour, 0 inchangée(s), 2 refusée(s)" in result.output
    )
    assert "Services : 5 créée(s), 0 mise(s) à jour, 0 inchangée(s), 3 refusée(s)" in result.output
    assert "dora--sans-nom, lot.json, élément 5) : nom : trop court" in result.output
    assert "dora--date" in result.output and "date_maj : date invalide" in result.output
    assert "thematiques : valeur inconnue « cuisine--faire-des-crepes »" in result.output
    assert "la structure « dora--inconnue » n'est ni dans l'import ni dans l'annuaire" in (
        result.output
    )
    assert "la structure « dora--sans-nom » a été refusée plus haut" in result.output
    assert counts()["structure"] == 4


def test_unreadable_files_are_refused_before_anything_is_written(
    database_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "structures.json"
    broken.write_text('[{"source": "dora", "id": ')
    not_di = tmp_path / "autre.csv"
    not_di.write_text("nom;ville\nA;B\n")

    for file in (broken, not_di):
        result = cli(database_url, "import-di", DATA / "structures.json", file)
        assert result.exit_code == 1
        assert "Import refusé, rien n'a été écrit" in result.output
    assert counts()["structure"] == 0


def test_export_is_valid_and_survives_a_round_trip(database_url: str, tmp_path: Path) -> None:
    assert cli(database_url, "import-di", *DATA.glob("*.json")).exit_code == 0

    async def typed_in_maillage() -> None:
        structure = await factories.structure("Espace jeunes du Valentinois", network="mjc")
        await factories.site(structure, commune="26362")
        await factories.service(structure, "Loisirs", [Domain.LEISURE], description="")

    asyncio.run(typed_in_maillage())
    first, second = tmp_path / "first", tmp_path / "second"
    result = cli(database_url, "export-di", first)
    assert result.exit_code == 0, result.output
    assert "5 structure(s), 6 service(s)" in result.output
    structures, services = records(first)
    for record in structures:
        v1.Structure.model_validate(record)
    for record in services:
        v1.Service.model_validate(record)
    # What was imported comes back as it was given (sets in any order).
    given = {s["id"]: s for s in records(DATA)[1]}
    for record in services:
        if record["id"] in given:
            original = v1.Service.model_validate(given[record["id"]]).model_dump(mode="json")
            for key, value in original.items():
                expected = (
                    sorted(value)
                    if isinstance(value, list) and key != "zone_eligibilite"
                    else value
                )
                if key == "telephone" and value:
                    continue  # given as 04 75 33 00 00, exported in E.164
                assert record[key] == expected, (record["id"], key)
    own = next(s for s in structures if s["source"] == "maillage")
    assert own["reseaux_porteurs"] == ["mjc"] and own["code_insee"] == "26362"

    empty_directory()
    assert (
        cli(database_url, "import-di", first / "structures.csv", first / "services.csv").exit_code
        == 0
    )
    assert cli(database_url, "export-di", second).exit_code == 0
    assert records(second) == records(first)


async def test_api_import_for_coordinators_with_a_clear_report(client) -> None:
    files = [
        ("files", ("structures.json", (DATA / "structures.json").read_bytes(), "application/json")),
        ("files", ("services.csv", (DATA / "services.csv").read_bytes(), "text/csv")),
    ]
    advisor = await factories.api_client_headers(Role.ADVISOR)
    refused = await client.post("/api/v1/imports/data-inclusion", files=files, headers=advisor)
    assert refused.status_code == 403
    assert await Structure.count() == 0

    coordinator = await factories.api_client_headers(Role.COORDINATOR)
    response = await client.post("/api/v1/imports/data-inclusion", files=files, headers=coordinator)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["structures"] == {"created": 4, "updated": 0, "unchanged": 0, "refused": 0}
    assert report["services"]["created"] == 5

    structures, services = records(DATA)
    body = {"structures": structures, "services": [*services, {**services[0], "nom": ""}]}
    again = await client.post("/api/v1/imports/data-inclusion", json=body, headers=coordinator)
    assert again.status_code == 200, again.text
    assert again.json()["services"] == {"created": 0, "updated": 0, "unchanged": 5, "refused": 1}
    assert again.json()["refused"][0]["reasons"] == ["nom : trop court"]

    exported = await client.get("/api/v1/exports/data-inclusion", headers=coordinator)
    assert exported.status_code == 200
    assert len(exported.json()["structures"]) == 4 and len(exported.json()["services"]) == 5


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b'[{"source": "dora",', "application/json", 400, "pas un JSON valide"),
        (b'{"foo": [1]}', "application/json", 400, "liste « structures »"),
        (b"\xff\xfe\x00", "text/csv", 400, "pas en UTF-8"),
        (b"nom;ville\nA;B\n", "text/csv", 400, "pas de colonne « id »"),
        (b"", "application/json", 400, "vide"),
        (b"x" * (21 * 1024 * 1024), "application/json", 413, ""),
    ],
)
async def test_api_bad_files_get_a_clear_error(client, body, content_type, status, message) -> None:
    coordinator = await factories.api_client_headers(Role.COORDINATOR)
    response = await client.post(
        "/api/v1/imports/data-inclusion",
        content=body,
        headers={**coordinator, "Content-Type": content_type},
    )
    assert response.status_code == status, response.text
    assert message in response.text
    assert await Structure.count() == 0


def test_fixtures_are_the_published_shape() -> None:
    """The test data is what the national open data publishes: every field of the models,
    valid, in JSON and CSV."""
    structures, services = records(DATA)
    assert all(set(s) == set(v1.Structure.model_fields) for s in structures)
    assert all(set(s) == set(v1.Service.model_fields) for s in services)
    header = (DATA / "services.csv").read_text().splitlines()[0].split(",")
    assert header == list(v1.Service.model_fields)


def test_the_migration_moves_retired_network_codes_to_national_ones(database_url: str) -> None:
    import importlib

    migration = importlib.import_module(
        "directory.piccolo_migrations.directory_2026_12_01t00_41_00_000000"
    )

    async def run() -> list[str]:
        # Stored before the vocabulary change (today's store refuses the code).
        await Structure.insert(
            Structure(name="Chantier d'insertion Rivières et Sentiers", network="siae")
        )
        await factories.structure("Mission Locale", network="mission-locale")
        await migration.retire_networks()
        rows = await Structure.select(Structure.network).order_by(Structure.name)
        return [r["network"] for r in rows]

    assert asyncio.run(run()) == ["aci", "mission-locale"]
