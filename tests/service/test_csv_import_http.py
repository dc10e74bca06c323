"""The CSV import through HTTP: the API endpoint and the coordinator's page, with the messy
national file of tests/directory/data/messy, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from directory.tables import Service, Site, Structure
from service.accounts.store import Role
from service.app import create_app
from service.settings import Settings
from tests import factories as f

MESSY = Path(__file__).parent.parent / "directory" / "data" / "messy"


@pytest.fixture
async def http(settings: Settings, tmp_path: Path) -> AsyncIterator[AsyncTestClient]:
    """The app with an empty media folder: import reports are kept in the database, so
    nothing of an import may depend on files there."""
    app = create_app(dataclasses.replace(settings, media_dir=tmp_path / "media"))
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as client:
        yield client


def messy_files(field: str | None) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The fixture's files: in one field (the page's), or one part per file (the API's)."""
    return [
        (field or path.stem, (path.name, path.read_bytes(), "text/csv"))
        for path in sorted(MESSY.glob("*.csv"))
    ]


def report_lines(body: bytes) -> dict[tuple[str, str], dict[str, str]]:
    assert body.startswith("\ufeff".encode())
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";")
    return {(r["fichier"], r["ligne"]): r for r in reader}


async def test_api_keeps_the_valid_rows_and_serves_the_report(http: AsyncTestClient) -> None:
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await http.post(
        "/api/v1/directory/import?keep_valid=true", files=messy_files(None), headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["done"] and body["keep_valid"] and body["refused"] == 9
    assert len(body["problems"]) == 9
    assert "8 structures, 8 sites, 2 services, 1 personne, 1 relation ;" in body["message"]
    assert any("lu comme https://www.lozere.fr" in w for w in body["warnings"])
    assert await Structure.count() == 8 and await Site.count() == 8
    assert await Service.count() == 2

    report = await http.get(body["report_url"], headers=headers)
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/csv")
    lines = report_lines(report.content)
    assert lines[("sites.csv", "7")]["statut"] == "refusée"
    assert "Nouvelle-Calédonie" in lines[("sites.csv", "7")]["motif"]
    assert lines[("sites.csv", "3")]["statut"] == "importée"
    assert "CEDEX" in lines[("sites.csv", "3")]["remarques"]

    again = await http.get(f"/api/v1/directory/imports/{body['id']}", headers=headers)
    assert again.status_code == 200 and again.json()["refused"] == 9


async def test_api_is_all_or_nothing_by_default(http: AsyncTestClient) -> None:
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await http.post("/api/v1/directory/import", files=messy_files(None), headers=headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert not body["done"]
    assert (
        "structures.csv, ligne 8 : siret : Ce SIRET n'est pas valide (clé de contrôle "
        "incorrecte)." in body["problems"]
    )
    assert await Structure.count() == 0
    report = await http.get(body["report_url"], headers=headers)
    assert report_lines(report.content)[("sites.csv", "2")]["statut"] == (
        "non importée (import annulé)"
    )


async def test_api_import_is_for_coordinators_and_names_bad_files(http: AsyncTestClient) -> None:
    advisor = await f.api_client_headers(Role.ADVISOR)
    refused = await http.post("/api/v1/directory/import", files=messy_files(None), headers=advisor)
    assert refused.status_code == 403
    assert "coordinateurs" in refused.json()["detail"]
    coordinator = await f.api_client_headers(Role.COORDINATOR)
    wrong = await http.post(
        "/api/v1/directory/import",
        files=[("annuaire", ("annuaire.xlsx", b"PK\x03\x04", "application/octet-stream"))],
        headers=coordinator,
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"]["files"] == (
        "Partie inconnue « annuaire » (parties possibles : structures, sites, services, "
        "people, relationships)."
    )
    nothing = await http.post("/api/v1/directory/import", headers=coordinator)
    assert nothing.status_code == 400
    assert nothing.json()["errors"]["files"] == "Choisissez au moins un fichier CSV."
    missing = await http.get(
        "/api/v1/directory/imports/00000000-0000-4000-8000-000000000000/report.csv",
        headers=coordinator,
    )
    assert missing.status_code == 404


async def test_the_page_offers_the_choice_and_the_report(http: AsyncTestClient) -> None:
    await f.logged_in(http, Role.COORDINATOR)
    listing = await http.get("/structures")
    assert 'href="/structures/import"' in listing.text
    page = await http.get("/structures/import")
    assert page.status_code == 200
    assert "Importer les lignes valides" in page.text and "Tout ou rien" in page.text
    once = re.search(r'name="_once" value="([^"]+)"', page.text)
    assert once
    form = {"_csrf_token": f.csrf_token(page.text), "_once": once[1]}

    # No choice made: the form comes back, nothing imported.
    unchosen = await http.post(
        "/structures/import", data=form, files=messy_files("fichiers"), follow_redirects=False
    )
    assert unchosen.status_code == 400
    assert "Choisissez ce que l" in unchosen.text
    assert await Structure.count() == 0

    page = await http.get("/structures/import")
    once = re.search(r'name="_once" value="([^"]+)"', page.text)
    assert once
    form = {"_csrf_token": f.csrf_token(page.text), "_once": once[1], "mode": "valides"}
    sent = await http.post(
        "/structures/import", data=form, files=messy_files("fichiers"), follow_redirects=False
    )
    assert sent.status_code in (302, 303), sent.text
    result_url = sent.headers["location"]
    assert re.fullmatch(r"/structures/import/[0-9a-f-]{36}", result_url)
    result = await http.get(result_url)
    assert "Import terminé : 8 structures" in result.text
    assert "Lignes refusées (9)" in result.text
    assert "services.csv, ligne 6 : domains : domaine inconnu « logment »" in result.text
    assert "lu comme https://www.lozere.fr" in result.text
    report = await http.get(result_url + "/rapport.csv")
    assert report.status_code == 200
    lines = report_lines(report.content)
    assert "domaine inconnu « logment »" in lines[("services.csv", "6")]["motif"]
    assert await Structure.count() == 8


async def test_the_page_is_for_coordinators(http: AsyncTestClient) -> None:
    await f.logged_in(http, Role.ADVISOR)
    page = await http.get("/structures/import")
    assert page.status_code == 403


async def test_the_outcome_and_report_are_in_the_database_not_the_media_folder(
    http: AsyncTestClient, settings: Settings, tmp_path: Path
) -> None:
    """Read by another app with another media folder, as another server would."""
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await http.post(
        "/api/v1/directory/import?keep_valid=true", files=messy_files(None), headers=headers
    )
    body = response.json()
    assert not (tmp_path / "media" / "imports").exists()
    other_app = create_app(dataclasses.replace(settings, media_dir=tmp_path / "elsewhere"))
    async with AsyncTestClient(other_app, base_url="http://127.0.0.1") as other:
        again = await other.get(f"/api/v1/directory/imports/{body['id']}", headers=headers)
        assert again.json()["refused"] == 9
        report = await other.get(body["report_url"], headers=headers)
        assert report_lines(report.content)[("sites.csv", "7")]["statut"] == "refusée"
