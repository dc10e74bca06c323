"""Imports write the directory's history too: each record a CSV or data·inclusion import
creates or changes gets one line (who, when, each field before and after), shown on the
structure's history page and in the API; unchanged records get none; the version before
an import can be restored. On SQLite and PostgreSQL, through HTTP."""

from __future__ import annotations

import copy
import json
import re
from html import unescape
from pathlib import Path
from uuid import UUID

from directory.data_inclusion import row_id
from directory.tables import DirectoryChange, Service, Site, Structure
from service.accounts.store import Role
from tests import factories as f

DATA = Path(__file__).parent.parent / "directory" / "data" / "data_inclusion"
CSV_LABEL = "Import CSV (structures.csv) lancé par Dominique Test"


async def _history(client, structure_id, headers) -> list[dict]:
    response = await client.get(f"/api/v1/structures/{structure_id}/history", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


def _csv(name: str, text: str) -> tuple[str, tuple[str, bytes, str]]:
    return (name.removesuffix(".csv"), (name, text.encode(), "text/csv"))


async def _csv_import(client, headers, files: list, keep_valid: bool = False):
    url = "/api/v1/directory/import" + ("?keep_valid=true" if keep_valid else "")
    return await client.post(url, files=files, headers=headers)


async def _point_justice() -> tuple[UUID, UUID]:
    structure_id = await f.structure("Point Justice", phone="04 75 11 22 33")
    site_id = await f.site(structure_id, opening_hours="Mo-Fr 09:00-12:00")
    return structure_id, site_id


def _update_files(structure_id: UUID, site_id: UUID) -> list:
    return [
        _csv("structures.csv", f"id,name,phone\n{structure_id},Point Justice,04 75 99 88 77\n"),
        _csv(
            "sites.csv",
            f"id,structure_id,commune,opening_hours\n{site_id},{structure_id},26362,"
            "Mo-Fr 09:00-17:00\n",
        ),
    ]


async def test_a_csv_import_writes_before_and_after_and_the_page_shows_it(client) -> None:
    headers = await f.api_client_headers(Role.COORDINATOR)
    structure_id, site_id = await _point_justice()
    before = await DirectoryChange.count()

    done = await _csv_import(client, headers, _update_files(structure_id, site_id))
    assert done.status_code == 200, done.text
    assert await DirectoryChange.count() == before + 2
    items = await _history(client, structure_id, headers)
    structure_line, site_line = items[0], items[1]
    if structure_line["record_kind"] == "site":
        structure_line, site_line = site_line, structure_line
    assert structure_line["record_kind"] == "structure"
    assert structure_line["action"] == "update"
    assert structure_line["changes"] == {"phone": ["+33475112233", "+33475998877"]}
    assert structure_line["actor_kind"] == "import"
    assert structure_line["actor_label"] == "import CSV (structures.csv) lancé par Dominique Test"
    assert structure_line["sentence"] == f"{CSV_LABEL} a modifié la structure"
    assert (site_line["record_kind"], site_line["record_id"]) == ("site", str(site_id))
    assert site_line["changes"] == {"opening_hours": ["Mo-Fr 09:00-12:00", "Mo-Fr 09:00-17:00"]}
    assert site_line["actor_label"] == "import CSV (sites.csv) lancé par Dominique Test"

    await f.logged_in(client, Role.COORDINATOR)
    page = _text((await client.get(f"/structures/{structure_id}/historique")).text)
    assert f"{CSV_LABEL} a modifié la structure (import)" in page
    assert "Téléphone : « 04 75 11 22 33 » → « 04 75 99 88 77 »" in page
    assert "Import CSV (sites.csv) lancé par Dominique Test a modifié un lieu d'accueil" in page
    assert "Horaires : « Mo-Fr 09:00-12:00 » → « Mo-Fr 09:00-17:00 »" in page

    # The same files again change nothing: no new line.
    again = await _csv_import(client, headers, _update_files(structure_id, site_id))
    assert again.status_code == 200, again.text
    assert "inchangée" in again.json()["message"]
    assert await DirectoryChange.count() == before + 2


async def test_the_version_before_a_csv_import_is_restored_from_the_page(client) -> None:
    headers = await f.api_client_headers(Role.COORDINATOR)
    structure_id, site_id = await _point_justice()
    created = next(
        i for i in await _history(client, structure_id, headers) if i["record_kind"] == "structure"
    )
    assert (await _csv_import(client, headers, _update_files(structure_id, site_id))).is_success

    await f.logged_in(client, Role.COORDINATOR)
    url = f"/structures/{structure_id}/historique/{created['id']}/restaurer"
    assert "Oui, restaurer cette version" in (await client.get(url)).text
    done = await f.form_post(client, url, {})
    assert "La version antérieure est restaurée." in done.text
    row = await Structure.select(Structure.phone).where(Structure.id == structure_id).first()
    assert row["phone"] == "+33475112233"
    restore = (await _history(client, structure_id, headers))[0]
    assert restore["action"] == "restore"
    assert restore["changes"] == {"phone": ["+33475998877", "+33475112233"]}


async def test_keeping_the_valid_rows_writes_history_for_the_rows_written_only(client) -> None:
    headers = await f.api_client_headers(Role.COORDINATOR)
    good = await f.structure("CCAS de Valence", phone="04 75 11 22 33")
    bad = await f.structure("Foyer Habitat Jeunes")
    before = await DirectoryChange.count()
    rows = f"id,name,email\n{good},CCAS de Valence,ccas@valence.fr\n{bad},Foyer,pas-un-courriel\n"
    files = [_csv("structures.csv", rows)]

    refused = await _csv_import(client, headers, files)
    assert refused.status_code == 422, refused.text
    assert await DirectoryChange.count() == before

    kept = await _csv_import(client, headers, files, keep_valid=True)
    assert kept.status_code == 200, kept.text
    assert kept.json()["refused"] == 1
    assert await DirectoryChange.count() == before + 1
    line = (await _history(client, good, headers))[0]
    assert line["changes"] == {"email": ["", "ccas@valence.fr"]}
    assert all(i["actor_kind"] != "import" for i in await _history(client, bad, headers))


async def test_a_csv_import_that_creates_records_says_so(client) -> None:
    headers = await f.api_client_headers(Role.COORDINATOR)
    files = [
        _csv("structures.csv", "name\nMaison des adolescents\n"),
    ]
    assert (await _csv_import(client, headers, files)).is_success
    structure = await Structure.select(Structure.id).first()
    (line,) = await _history(client, structure["id"], headers)
    assert line["action"] == "create"
    assert line["changes"]["name"] == [None, "Maison des adolescents"]
    assert line["sentence"] == f"{CSV_LABEL} a créé la structure"


def _records() -> tuple[list[dict], list[dict]]:
    structures = json.loads((DATA / "structures.json").read_text())
    services = json.loads((DATA / "services.json").read_text())
    return structures, services


async def _di_import(client, headers, structures: list[dict], services: list[dict]) -> dict:
    body = {"structures": structures, "services": services}
    response = await client.post("/api/v1/imports/data-inclusion", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_data_inclusion_reimport_writes_one_line_per_change(client) -> None:
    headers = await f.api_client_headers(Role.COORDINATOR)
    structures, services = _records()
    await _di_import(client, headers, structures, services)
    rows = sum([await t.count() for t in (Structure, Site, Service)], 0)
    first = await DirectoryChange.count()
    assert first >= rows  # every row created, people (named contacts) included
    assert await DirectoryChange.count().where(DirectoryChange.action != "create") == 0

    # The same records again: nothing changed, nothing written.
    report = await _di_import(client, headers, structures, services)
    assert report["services"]["unchanged"] == 5
    assert await DirectoryChange.count() == first

    # One service changes: one line, with its before and after.
    changed = copy.deepcopy(services)
    old_description = changed[0]["description"]
    changed[0]["description"] = "Un accompagnement de 6 à 12 mois, avec une allocation."
    report = await _di_import(client, headers, structures, changed)
    assert report["services"]["updated"] == 1
    assert await DirectoryChange.count() == first + 1
    service_id = row_id("service", "dora", changed[0]["id"])
    structure_id = row_id("structure", "dora", changed[0]["structure_id"])
    line = (await _history(client, structure_id, headers))[0]
    assert (line["record_kind"], line["record_id"]) == ("service", str(service_id))
    assert line["changes"] == {"description": [old_description, changed[0]["description"]]}
    label = "import data·inclusion (dora, 12/03/2025) lancé par Dominique Test"
    assert line["actor_label"] == label
    assert line["sentence"] == f"I{label[1:]} a modifié un service"

    # The service's version before that import comes back.
    before_import = next(
        i
        for i in await _history(client, structure_id, headers)
        if i["record_id"] == str(service_id) and i["action"] == "create"
    )
    url = f"/api/v1/structures/{structure_id}/history/{before_import['id']}/restore"
    assert (await client.post(url, headers=headers)).status_code == 200
    row = await Service.select(Service.description).where(Service.id == service_id).first()
    assert row["description"] == old_description


async def test_a_data_inclusion_import_of_new_hours_shows_on_the_page_and_is_undone(
    client,
) -> None:
    headers = await f.api_client_headers(Role.COORDINATOR)
    structures, services = _records()
    await _di_import(client, headers, structures, services)
    changed = copy.deepcopy(structures)
    romans = next(s for s in changed if s["id"] == "dora--ccas-romans")
    romans["horaires_accueil"] = "Mo-Fr 08:30-12:00"
    romans["telephone"] = "+33475052199"
    await _di_import(client, headers, changed, services)
    structure_id = row_id("structure", "dora", "dora--ccas-romans")

    await f.logged_in(client, Role.COORDINATOR)
    page = _text((await client.get(f"/structures/{structure_id}/historique")).text)
    who = "Import data·inclusion (dora, 20/01/2025) lancé par Dominique Test"
    assert f"{who} a modifié la structure (import) Téléphone : « 04 75 05 21 00 »" in page
    assert f"{who} a modifié un lieu d'accueil (import)" in page
    assert "Horaires : « Mo-Fr 09:00-12:00 » → « Mo-Fr 08:30-12:00 »" in page

    items = await _history(client, structure_id, headers)
    created = next(i for i in items if i["record_kind"] == "structure" and i["action"] == "create")
    done = await f.form_post(
        client, f"/structures/{structure_id}/historique/{created['id']}/restaurer", {}
    )
    assert "La version antérieure est restaurée." in done.text
    row = await Structure.select(Structure.phone).where(Structure.id == structure_id).first()
    assert row["phone"] == "+33475052100"
