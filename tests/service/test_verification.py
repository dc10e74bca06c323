"""Every record dated: saving a structure or a service through a form, the API or an
import records when and by whom it was last verified, nobody types it; a coordinator
confirms a record in one click; freshness is shown in search results and on the partner
page, stale records included. On SQLite and PostgreSQL, through HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from directory.tables import Service, Structure
from service.accounts.store import Role, create_user
from tests import factories as f

VALENCE = "26362"
DATA = Path(__file__).parent.parent / "directory" / "data" / "data_inclusion"
MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def _signed_in(client, name: str, role: Role, of=None) -> None:
    email = f"{name.split()[0].lower()}@exemple.fr"
    await create_user(email, name, f.PASSWORD, role, of)
    await f.login(client, email)


async def _verification(table, record_id) -> tuple[datetime, str, str]:
    row = (
        await table.select(table.verified_at, table.verified_by_kind, table.verified_by)
        .where(table.id == record_id)
        .first()
    )
    return row["verified_at"], row["verified_by_kind"], row["verified_by"]


async def test_form_saves_stamp_the_saving_user_and_the_typed_date_is_gone(
    client, time_machine
) -> None:
    time_machine.move_to(MOMENT, tick=False)
    structure_id = await f.structure("Foyer des Jeunes Travailleurs")
    time_machine.move_to(MOMENT + timedelta(days=3), tick=False)
    await _signed_in(client, "Nadia Belkacem", Role.COORDINATOR)
    form = await client.get(f"/structures/{structure_id}/modifier")
    assert "Fiche vérifiée le" not in form.text and "last_verified_on" not in form.text
    saved = await f.form_post(
        client,
        f"/structures/{structure_id}/modifier",
        {"name": "Foyer des Jeunes Travailleurs", "kind": "housing", "status": "active"},
    )
    assert saved.status_code == 200
    at, kind, by = await _verification(Structure, structure_id)
    assert (at, kind, by) == (MOMENT + timedelta(days=3), "coordinator", "Nadia Belkacem")

    created = await f.form_post(
        client,
        f"/structures/{structure_id}/services/nouveau",
        {"name": "Logement temporaire", "domains": "housing", "on_site": "on"},
    )
    assert created.status_code == 200
    service = await Service.select(Service.id).first()
    assert (await _verification(Service, service["id"]))[1:] == ("coordinator", "Nadia Belkacem")


async def test_api_saves_stamp_the_token_owner_and_refuse_the_old_field(client) -> None:
    structure_id = await f.structure("Mission Locale Valence")
    headers = await f.api_client_headers(Role.ADVISOR, of=structure_id)
    body = {"name": "Mission Locale Valence", "kind": "mission-locale"}
    updated = await client.put(f"/api/v1/structures/{structure_id}", json=body, headers=headers)
    assert updated.status_code == 200, updated.text
    read = updated.json()
    assert (read["verified_by_kind"], read["verified_by"]) == ("advisor", "Dominique Test")
    assert read["freshness"]["level"] == "fraiche"
    assert read["freshness"]["phrase"].startswith("vérifiée il y a")

    typed = {**body, "last_verified_on": "2025-01-01"}
    refused = await client.put(f"/api/v1/structures/{structure_id}", json=typed, headers=headers)
    assert refused.status_code == 400
    assert "last_verified_on" in refused.text

    service = {"name": "Accompagnement emploi", "domains": ["employment"]}
    created = await client.post(
        f"/api/v1/structures/{structure_id}/services", json=service, headers=headers
    )
    assert created.status_code == 201, created.text
    read = (await client.get(f"/api/v1/services/{created.json()['id']}", headers=headers)).json()
    assert (read["verified_by_kind"], read["verified_by"]) == ("advisor", "Dominique Test")


async def test_csv_import_stamps_the_import_and_its_file(client) -> None:
    headers = await f.api_client_headers(Role.COORDINATOR)
    files = [("structures", ("structures.csv", b"name,kind\nFoyer Test,housing\n", "text/csv"))]
    response = await client.post("/api/v1/directory/import", files=files, headers=headers)
    assert response.status_code == 200, response.text
    row = await Structure.select(Structure.id).where(Structure.name == "Foyer Test").first()
    at, kind, by = await _verification(Structure, row["id"])
    assert (kind, by) == ("import", "import CSV (structures.csv)")
    assert abs(at - datetime.now(UTC)) < timedelta(minutes=5)


async def test_data_inclusion_import_stamps_the_source_and_the_record_date(client) -> None:
    coordinator = await f.api_client_headers(Role.COORDINATOR)
    files = [
        ("files", ("structures.json", (DATA / "structures.json").read_bytes(), "application/json")),
        ("files", ("services.csv", (DATA / "services.csv").read_bytes(), "text/csv")),
    ]
    response = await client.post("/api/v1/imports/data-inclusion", files=files, headers=coordinator)
    assert response.status_code == 200, response.text
    rows = await Structure.select(
        Structure.source,
        Structure.source_date,
        Structure.verified_at,
        Structure.verified_by_kind,
        Structure.verified_by,
    )
    assert rows
    for row in rows:
        day = row["source_date"]
        assert row["verified_by_kind"] == "import"
        assert row["verified_by"] == (
            f"import data·inclusion ({row['source']}, {day.strftime('%d/%m/%Y')})"
        )
        assert row["verified_at"] == datetime(day.year, day.month, day.day, tzinfo=UTC)
    services = await Service.select(Service.verified_by_kind, Service.verified_at)
    assert services and all(s["verified_by_kind"] == "import" for s in services)


async def test_coordinator_confirms_a_record_in_one_click_an_advisor_cannot(
    client, time_machine
) -> None:
    time_machine.move_to(MOMENT, tick=False)
    structure_id = await f.structure("CCAS de Valence", description="Aide sociale.")
    time_machine.move_to(MOMENT + timedelta(days=400), tick=False)
    await _signed_in(client, "Dominique Advisor", Role.ADVISOR, of=structure_id)
    page = await client.get(f"/structures/{structure_id}")
    assert "Confirmer que la fiche est à jour" not in page.text
    refused = await f.form_post(
        client, f"/structures/{structure_id}/confirmer", {}, f"/structures/{structure_id}"
    )
    assert refused.status_code == 403
    assert (await _verification(Structure, structure_id))[0] == MOMENT

    await client.get("/logout")
    client.cookies.clear()
    await _signed_in(client, "Nadia Belkacem", Role.COORDINATOR)
    page = await client.get(f"/structures/{structure_id}")
    assert "à vérifier : plus de 12 mois" in page.text
    done = await f.form_post(
        client, f"/structures/{structure_id}/confirmer", {}, f"/structures/{structure_id}"
    )
    assert done.status_code == 200
    assert "la fiche est confirmée à jour" in done.text
    assert "vérifiée il y a 1 minute par Nadia Belkacem" in done.text or (
        "par Nadia Belkacem" in done.text
    )
    at, kind, by = await _verification(Structure, structure_id)
    assert (at, kind, by) == (MOMENT + timedelta(days=400), "coordinator", "Nadia Belkacem")
    row = await Structure.select(Structure.description).where(Structure.id == structure_id).first()
    assert row["description"] == "Aide sociale."


async def test_freshness_is_shown_in_search_results_and_stale_ones_stay(
    client, time_machine
) -> None:
    time_machine.move_to(MOMENT, tick=False)
    old = await f.structure("Point Accueil Écoute Jeunes")
    await f.site(old, VALENCE)
    await f.service(old, "Écoute et orientation", domains=["employment"])
    time_machine.move_to(MOMENT + timedelta(days=800), tick=False)
    recent = await f.structure("Mission Locale Valence")
    await f.site(recent, VALENCE)
    await f.service(recent, "Accompagnement vers l'emploi", domains=["employment"])
    time_machine.move_to(MOMENT + timedelta(days=890), tick=False)
    await f.logged_in(client, Role.ADVISOR)

    page = await client.get("/recherche", params={"commune": VALENCE, "need": "emploi"})
    assert page.status_code == 200
    assert "Écoute et orientation" in page.text  # stale, still listed
    assert "Fiche périmée" in page.text and "périmée : plus de 2 ans" in page.text
    assert "Fiche fraîche" in page.text
    assert "vérifiée il y a 2 mois par Coordination des tests" in page.text

    headers = await f.api_client_headers(Role.ADVISOR)
    found = await client.get(
        "/api/v1/search", params={"commune": VALENCE, "need": "emploi"}, headers=headers
    )
    hits = found.json()["results"]["items"]
    levels = {h["service_name"]: h["freshness"]["level"] for h in hits}
    assert levels == {"Écoute et orientation": "perimee", "Accompagnement vers l'emploi": "fraiche"}


async def test_the_migration_turns_typed_dates_into_legacy_verifications(client) -> None:
    import importlib

    migration = importlib.import_module(
        "directory.piccolo_migrations.directory_2026_12_01t02_01_00_000000"
    )
    typed = await f.structure("Foyer Typé")
    never = await f.structure("Foyer Jamais")
    engine = Structure._meta.db
    # The column as it was before the migration dropped it.
    await engine.run_ddl("ALTER TABLE structure ADD COLUMN last_verified_on DATE")
    try:
        await engine.run_ddl(
            f"UPDATE structure SET last_verified_on = '2025-03-14' WHERE id = '{typed}'"
        )
        await engine.run_ddl(f"UPDATE structure SET verified_at = NULL WHERE id = '{never}'")
        await migration.typed_dates_to_verified_at()
    finally:
        await engine.run_ddl("ALTER TABLE structure DROP COLUMN last_verified_on")
    assert await _verification(Structure, typed) == (
        datetime(2025, 3, 14, tzinfo=UTC),
        "legacy",
        "date saisie à la main",
    )
    assert (await _verification(Structure, never))[0] is None


async def test_partner_sees_and_confirms_its_record_from_its_personal_link(
    client, time_machine
) -> None:
    from tests.service.test_referral_pages import _partner, _send_by_form

    time_machine.move_to(MOMENT, tick=True)
    mission_locale = await f.structure("Mission Locale")
    partner, service = await _partner()
    time_machine.move_to(MOMENT + timedelta(days=250), tick=True)
    await f.logged_in(client, Role.ADVISOR, of=mission_locale)
    sent = await _send_by_form(client, partner, service)
    path = re.search(r"https?://[^/<]+(/p/[^<]+)</code>", sent.text).group(1)
    client.cookies.clear()  # the partner has no account

    page = await client.get(path)
    assert "Votre fiche dans l’annuaire" in page.text
    assert "Fiche à revoir" in page.text and "vérifiée il y a 8 mois" in page.text
    done = await client.post(f"{path}/fiche-a-jour", data={"_csrf_token": f.csrf_token(page.text)})
    assert done.status_code == 200
    assert "votre fiche est confirmée à jour" in done.text and "Fiche fraîche" in done.text
    at, kind, by = await _verification(Structure, partner)
    assert (kind, by) == ("partner_link", "Point Accueil Écoute Jeunes (par son lien personnel)")
    assert at > MOMENT + timedelta(days=250)
