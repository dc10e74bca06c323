"""The directory's history: each kind of change is kept with who, when, and each field's
before and after; it is shown on the structure page; a coordinator restores an earlier
version of a structure or service, an advisor cannot. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from directory.tables import DirectoryChange, Structure
from directory.vocabulary import Level
from service.accounts.store import Role, create_user
from tests import factories as f

VALENCE = "26362"
MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def _coordinator_headers() -> dict[str, str]:
    return await f.api_client_headers(Role.COORDINATOR)


async def _history(client, structure_id, headers) -> list[dict]:
    response = await client.get(f"/api/v1/structures/{structure_id}/history", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_every_kind_of_change_is_kept_with_before_and_after(client, time_machine) -> None:
    time_machine.move_to(MOMENT, tick=True)
    headers = await _coordinator_headers()
    created = await client.post(
        "/api/v1/structures",
        json={"name": "CCAS de Valence", "phone": "04 75 11 22 33"},
        headers=headers,
    )
    structure_id = created.json()["id"]
    body = {"name": "CCAS de Valence", "phone": "04 75 99 88 77"}
    assert (
        await client.put(f"/api/v1/structures/{structure_id}", json=body, headers=headers)
    ).status_code == 200
    site = await client.post(
        f"/api/v1/structures/{structure_id}/sites", json={"commune": VALENCE}, headers=headers
    )
    site_id = site.json()["id"]
    await client.put(
        f"/api/v1/sites/{site_id}", json={"commune": VALENCE, "walk_in": True}, headers=headers
    )
    service = await client.post(
        f"/api/v1/structures/{structure_id}/services",
        json={"name": "Aide alimentaire", "domains": ["health"]},
        headers=headers,
    )
    await client.put(
        f"/api/v1/services/{service.json()['id']}",
        json={"name": "Aide alimentaire d'urgence", "domains": ["health"]},
        headers=headers,
    )
    person = await client.post(
        f"/api/v1/structures/{structure_id}/people",
        json={"first_name": "Nora", "last_name": "Benali", "email": "nora@exemple.fr"},
        headers=headers,
    )
    await client.put(
        f"/api/v1/people/{person.json()['id']}",
        json={
            "first_name": "Nora",
            "last_name": "Benali",
            "email": "nora@exemple.fr",
            "role": "Travailleuse sociale",
        },
        headers=headers,
    )
    other = await f.structure("Mission Locale Valence")
    relation = await client.post(
        f"/api/v1/structures/{structure_id}/relationships",
        json={"level": Level.OPERATIONAL.value, "target_structure_id": str(other)},
        headers=headers,
    )
    assert relation.status_code == 201, relation.text
    deleted = await client.delete(f"/api/v1/relationships/{relation.json()['id']}", headers=headers)
    assert deleted.status_code in (200, 204)

    items = await _history(client, structure_id, headers)
    seen = [(i["record_kind"], i["action"]) for i in items]
    assert seen == [
        ("relationship", "delete"),
        ("relationship", "create"),
        ("person", "update"),
        ("person", "create"),
        ("service", "update"),
        ("service", "create"),
        ("site", "update"),
        ("site", "create"),
        ("structure", "update"),
        ("structure", "create"),
    ]
    by_kind = {(i["record_kind"], i["action"]): i for i in items}
    assert by_kind[("structure", "update")]["changes"] == {
        "phone": ["+33475112233", "+33475998877"]
    }
    assert by_kind[("site", "update")]["changes"] == {"walk_in": [False, True]}
    assert by_kind[("service", "update")]["changes"] == {
        "name": ["Aide alimentaire", "Aide alimentaire d'urgence"]
    }
    assert by_kind[("person", "update")]["changes"] == {"role": ["", "Travailleuse sociale"]}
    assert by_kind[("relationship", "delete")]["changes"]["level"] == ["operational", None]
    assert all(i["actor_label"] == "Dominique Test" for i in items)
    assert all(i["actor_kind"] == "coordinator" for i in items)
    assert by_kind[("structure", "update")]["sentence"] == "Dominique Test a modifié la structure"


async def test_structure_page_shows_the_history_newest_first(client) -> None:
    structure_id = await f.structure("Foyer Habitat Jeunes", phone="04 75 11 22 33")
    await create_user("nadia@exemple.fr", "Nadia Belkacem", f.PASSWORD, Role.COORDINATOR)
    await f.login(client, "nadia@exemple.fr")
    saved = await f.form_post(
        client,
        f"/structures/{structure_id}/modifier",
        {
            "name": "Foyer Habitat Jeunes",
            "kind": "housing",
            "status": "active",
            "phone": "04 75 99 88 77",
        },
    )
    assert saved.status_code == 200
    page = (await client.get(f"/structures/{structure_id}")).text
    assert "Historique des modifications" in page
    assert "Téléphone : « 04 75 11 22 33 » → « 04 75 99 88 77 »" in page
    assert "Nadia Belkacem a modifié la structure" in page
    assert "Type : « Association » → « Bailleur, résidence, hébergement »" in page
    assert page.index("Nadia Belkacem a modifié") < page.index("a créé la structure")
    assert "Revenir à cet état" in page


async def test_coordinator_restores_an_earlier_version_an_advisor_cannot(
    client, time_machine
) -> None:
    time_machine.move_to(MOMENT, tick=False)
    headers = await _coordinator_headers()
    structure_id = await f.structure("Point Justice", phone="04 75 11 22 33")
    service_id = await f.service(structure_id, "Permanence juridique", domains=("rights",))
    time_machine.move_to(MOMENT + timedelta(hours=1), tick=False)
    body = {"name": "Point Justice Drôme", "phone": "04 75 99 88 77"}
    await client.put(f"/api/v1/structures/{structure_id}", json=body, headers=headers)
    await client.put(
        f"/api/v1/services/{service_id}",
        json={"name": "Permanence", "domains": ["rights"], "fees": "Gratuit"},
        headers=headers,
    )
    time_machine.move_to(MOMENT + timedelta(hours=2), tick=False)
    items = await _history(client, structure_id, headers)
    first = next(i for i in items if i["record_kind"] == "structure" and i["action"] == "create")
    first_service = next(
        i for i in items if i["record_kind"] == "service" and i["action"] == "create"
    )

    advisor = await f.api_client_headers(Role.ADVISOR, of=structure_id)
    url = f"/api/v1/structures/{structure_id}/history/{first['id']}/restore"
    refused = await client.post(url, headers=advisor)
    assert refused.status_code == 403
    assert "restaurent" in refused.text

    restored = await client.post(url, headers=headers)
    assert restored.status_code == 200, restored.text
    assert (restored.json()["name"], restored.json()["phone"]) == ("Point Justice", "+33475112233")
    url = f"/api/v1/structures/{structure_id}/history/{first_service['id']}/restore"
    assert (await client.post(url, headers=headers)).status_code == 200
    service = (await client.get(f"/api/v1/services/{service_id}", headers=headers)).json()
    assert (service["name"], service["fees"]) == ("Permanence juridique", "")

    items = await _history(client, structure_id, headers)
    restore = next(i for i in items if i["action"] == "restore" and i["record_kind"] == "structure")
    assert restore["changes"]["name"] == ["Point Justice Drôme", "Point Justice"]
    assert restore["sentence"].endswith("a restauré une version antérieure de la structure")

    wrong = await f.structure("Autre structure")
    url = f"/api/v1/structures/{wrong}/history/{first['id']}/restore"
    assert (await client.post(url, headers=headers)).status_code == 404


async def test_restore_from_the_page_asks_for_confirmation(client) -> None:
    structure_id = await f.structure("Point Justice", phone="04 75 11 22 33")
    change = await DirectoryChange.select(DirectoryChange.id).first()
    await f.logged_in(client, Role.ADVISOR, of=structure_id)
    url = f"/structures/{structure_id}/historique/{change['id']}/restaurer"
    assert (await client.get(url)).status_code == 403
    assert "Revenir à cet état" not in (await client.get(f"/structures/{structure_id}")).text
    await client.get("/logout")
    client.cookies.clear()

    await f.logged_in(client, Role.COORDINATOR)
    body = {"name": "Point Justice Drôme", "kind": "association", "status": "active"}
    await f.form_post(client, f"/structures/{structure_id}/modifier", body)
    confirm = await client.get(url)
    assert confirm.status_code == 200
    assert "Oui, restaurer cette version" in confirm.text
    done = await f.form_post(client, url, {})
    assert done.status_code == 200
    assert "La version antérieure est restaurée." in done.text
    row = await Structure.select(Structure.name).where(Structure.id == structure_id).first()
    assert row["name"] == "Point Justice"
