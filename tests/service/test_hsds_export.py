"""The directory as Open Referral HSDS 3.0, read through the API and written by the command
line, on SQLite and PostgreSQL, checked against Open Referral's own schemas."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner

from directory.tables import Service, Structure
from service import cli
from service.demo import load_demo
from tests import factories as f
from tests.directory.hsds_schemas import all_problems, page_validator

VALENCE, DROME, VALENCE_ROMANS_AGGLO = "26362", "26", "200068781"


async def _export_through_api(client, headers: dict[str, str], **params: object) -> list[dict]:
    """Every organization, page after page, each page checked against the HSDS `Page`."""
    found: list[dict] = []
    page = 1
    while True:
        response = await client.get(
            "/api/v1/exports/hsds", params={"page": page, **params}, headers=headers
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert not list(page_validator().iter_errors(body))
        found += body["contents"]
        assert body["page_number"] == page and body["size"] == len(body["contents"])
        if body["last_page"]:
            assert body["total_items"] == len(found)
            return found
        page += 1


async def _export_through_cli(database_url: str, folder, *options: str) -> list[dict]:
    """`maillage export-hsds FOLDER`, in a thread of its own: the command runs its own
    event loop, as it does from a shell."""
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli.main,
        ["--database-url", database_url, "export-hsds", str(folder), *options],
    )
    assert result.exit_code == 0, result.output
    assert "HSDS 3.0" in result.output
    return json.loads((folder / "organizations.json").read_text(encoding="utf-8"))


def _ids(node: object) -> list[str]:
    """Every row id in an export; taxonomy terms are shared by design, so left out."""
    if isinstance(node, list):
        return [i for item in node for i in _ids(item)]
    if not isinstance(node, dict):
        return []
    own = [node["id"]] if "id" in node else []
    return own + [i for key, value in node.items() if key != "taxonomy_term" for i in _ids(value)]


def _location_schedules(orgs: list[dict], structure_id) -> list[dict]:
    [org] = [o for o in orgs if o["id"] == str(structure_id)]
    return [s for location in org["locations"] for s in location["schedules"]]


@pytest.mark.dated  # the demo's referrals are dated from the real clock
async def test_the_demo_exports_as_valid_hsds_through_the_api_and_the_command_line(
    client, database_url, tmp_path
):
    await load_demo()
    headers = await f.api_client_headers()

    from_api = await _export_through_api(client, headers, per_page=40)
    from_cli = await _export_through_cli(database_url, tmp_path)

    assert all_problems(from_api) == []
    assert from_cli == from_api
    assert len(from_api) == await Structure.count()
    assert sum(len(o["services"]) for o in from_api) == await Service.count()
    every_id = _ids(from_api)
    assert len(every_id) == len(set(every_id)), "an HSDS id stands for two rows"
    # Schedules and service areas are there, not only organizations.
    assert any(loc["schedules"] for o in from_api for loc in o["locations"])
    assert any(s["service_areas"] for o in from_api for s in o["services"])


async def test_the_same_directory_exports_the_same_ids_every_time(client, database_url, tmp_path):
    structure = await f.structure("Point Information Jeunesse", phone="04 75 00 00 00")
    await f.site(structure, VALENCE, opening_hours="Mo-Fr 09:00-12:00; PH off")
    await f.service(structure, "Accueil", zone=[VALENCE])
    headers = await f.api_client_headers()

    first = await _export_through_api(client, headers)
    again = await _export_through_api(client, headers)
    written = await _export_through_cli(database_url, tmp_path)

    assert first == again == written
    assert first[0]["id"] == str(structure)
    assert all_problems(first) == []


async def test_hours_become_schedules_hsds_can_read_and_nothing_is_lost(client):
    always = await f.structure("Foyer d'urgence")
    await f.site(always, VALENCE, opening_hours="24/7")
    holidays = await f.structure("Mairie de Valence")
    await f.site(holidays, VALENCE, opening_hours="Mo-Fr 09:00-12:00,14:00-17:00; PH off")
    seasonal = await f.structure("Base nautique")
    await f.site(seasonal, VALENCE, opening_hours="Jul-Aug Mo-Sa 10:00-18:00")
    orgs = await _export_through_api(client, await f.api_client_headers())
    assert all_problems(orgs) == []

    [day_and_night] = _location_schedules(orgs, always)
    assert day_and_night["freq"] == "WEEKLY"
    assert day_and_night["byday"] == "MO,TU,WE,TH,FR,SA,SU"
    assert (day_and_night["opens_at"], day_and_night["closes_at"]) == ("00:00", "23:59")
    assert day_and_night["description"] == "Ouvert 24 h/24, 7 j/7"

    morning, afternoon, closed = _location_schedules(orgs, holidays)
    assert [(s["byday"], s["opens_at"], s["closes_at"]) for s in (morning, afternoon)] == [
        ("MO,TU,WE,TH,FR", "09:00", "12:00"),
        ("MO,TU,WE,TH,FR", "14:00", "17:00"),
    ]
    assert morning["description"] == "Du lundi au vendredi : 9 h 00 – 12 h 00"
    # HSDS has no field for public holidays: said in words, not claimed as an opening.
    assert closed["description"] == "Fermé les jours fériés"
    assert "opens_at" not in closed and "freq" not in closed
    assert all("Mo-Fr 09:00-12:00,14:00-17:00; PH off" in s["notes"] for s in (morning, closed))

    # Nor for months: a summer opening is not turned into an all-year one.
    [summer] = _location_schedules(orgs, seasonal)
    assert summer["description"] == "De juillet à août, du lundi au samedi : 10 h 00 – 18 h 00"
    assert "opens_at" not in summer and "byday" not in summer
    assert "Jul-Aug Mo-Sa 10:00-18:00" in summer["notes"]


async def test_eligibility_zones_become_named_service_areas(client):
    structure = await f.structure("Wimoov Drôme")
    await f.site(structure, VALENCE)
    service = await f.service(
        structure, "Conseil mobilité", zone=[VALENCE, VALENCE_ROMANS_AGGLO, DROME, "france"]
    )
    orgs = await _export_through_api(client, await f.api_client_headers())
    assert all_problems(orgs) == []

    [hsds_service] = orgs[0]["services"]
    assert hsds_service["id"] == str(service)
    assert [(a["name"], a.get("uri")) for a in hsds_service["service_areas"]] == [
        ("Valence (26)", "https://geo.api.gouv.fr/communes/26362"),
        ("CA Valence Romans Agglo", "https://geo.api.gouv.fr/epcis/200068781"),
        ("Drôme", "https://geo.api.gouv.fr/departements/26"),
        ("France entière", None),
    ]
    [at] = hsds_service["service_at_locations"]
    assert at["location_id"] == orgs[0]["locations"][0]["id"]


async def test_people_who_left_are_never_exported_and_contacts_can_be_left_out(
    client, database_url, tmp_path
):
    structure = await f.structure("Mission Locale de Valence")
    await f.site(structure, VALENCE)
    here = await f.person(structure, "Nadia", "Benali", role="Conseillère", phone="06 12 34 56 78")
    await f.person(structure, "Paul", "Ancien", active=False, left_on="2026-01-31")
    await f.service(structure, "Accompagnement", contact_id=str(here))
    headers = await f.api_client_headers()

    [org] = await _export_through_api(client, headers)
    assert all_problems([org]) == []
    [contact] = org["contacts"]
    assert (contact["name"], contact["title"]) == ("Nadia Benali", "Conseillère")
    assert contact["phones"][0]["number"] == "+33612345678"
    assert contact["phones"][0]["type"] == "cell"
    assert [c["name"] for c in org["services"][0]["contacts"]] == ["Nadia Benali"]
    assert "Ancien" not in json.dumps(org)

    without = await _export_through_api(client, headers, contacts="false")
    written = await _export_through_cli(database_url, tmp_path, "--without-contacts")
    assert without == written
    for text in (json.dumps(without), (tmp_path / "organizations.json").read_text()):
        assert "Benali" not in text and "+33612345678" not in text
    assert all_problems(without) == []


async def test_the_export_needs_an_account_and_sane_pages(client):
    assert (await client.get("/api/v1/exports/hsds")).status_code == 401
    headers = await f.api_client_headers()
    for params, field, message in (
        ({"per_page": 0}, "per_page", "La valeur minimale est 1."),
        ({"per_page": 501}, "per_page", "La valeur maximale est 500."),
        ({"page": 0}, "page", "La valeur minimale est 1."),
        ({"contacts": "peut-être"}, "contacts", "Oui ou non (true ou false) est attendu."),
    ):
        response = await client.get("/api/v1/exports/hsds", params=params, headers=headers)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["errors"] == {field: message}
    empty = await client.get("/api/v1/exports/hsds", headers=headers)
    assert empty.json()["empty"] is True and empty.json()["contents"] == []
