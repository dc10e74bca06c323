"""The audit trail: who read and who changed a referral or a directory record, readable by
coordinators, admins and the referent side, and itself free of anyone's personal data but
the actor's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from service.accounts.store import Role, create_api_token, create_user
from service.audit.tables import AuditEntry
from tests import factories as f
from tests.service.test_privacy import PERSONAL, _shows_personal_data
from tests.service.test_referrals import Territory, _link_act, _send


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, mail_outbox=tmp_path / "outbox", base_url="http://maillage.test")


@pytest.fixture
async def t(database_url) -> Territory:
    return await Territory().build()


async def _account(role: Role, of, name: str) -> tuple[str, dict[str, str]]:
    """An account with a name of its own, and the headers of its API token."""
    email = name.lower().replace(" ", ".") + "@exemple.fr"
    user_id = await create_user(email, name, f.PASSWORD, role, of)
    return str(user_id), {"Authorization": f"Bearer {await create_api_token(user_id, 'tests')}"}


def _lines(entries: list[dict]) -> list[tuple[str, str, str]]:
    return [(e["actor_label"], e["action"], e["detail"]) for e in entries]


async def _stored_trail() -> str:
    return "\n".join(str(v) for row in await AuditEntry.select() for v in row.values())


async def test_every_read_and_change_of_a_referral_is_in_its_trail(client, t):
    sent = await _send(client, t)
    young = sent["young_person_link"].rsplit("/", 1)[1]
    assert (await client.get(f"/p/{sent['token']}")).status_code == 200
    assert (await _link_act(client, sent["token"], "acknowledge")).status_code == 201
    assert (await client.get(f"/j/{young}")).status_code == 200

    trail = await client.get(f"/api/v1/audit/referrals/{sent['id']}", headers=t.advisor)
    assert trail.status_code == 200, trail.text
    link = "Partenaire (lien personnel)"
    assert _lines(trail.json()) == [
        ("Le jeune", "read", ""),
        (link, "read", ""),  # the answer to the action shows the referral again
        (link, "change", "acknowledge"),
        (link, "read", ""),
        ("Dominique Test", "change", "send"),
    ]
    assert [e["actor_kind"] for e in trail.json()][:2] == ["young_person_link", "partner_link"]
    # The trail names actors and codes, never what was read.
    stored = await _stored_trail()
    assert _shows_personal_data(stored) == [] and "Hébergé" not in stored


async def test_coordinators_read_the_trail_of_their_structure_only(client, t):
    sent = await _send(client, t)
    await client.get(f"/api/v1/links/{sent['token']}")
    _, own = await _account(Role.COORDINATOR, t.mission_locale, "Nadia Coordinatrice")
    _, elsewhere = await _account(Role.COORDINATOR, t.third, "Paul Coordinateur")
    _, admin = await _account(Role.ADMIN, None, "Alex Administrateur")

    params = {"subject_kind": "referral"}
    mine = await client.get("/api/v1/audit", params=params, headers=own)
    assert mine.status_code == 200
    assert {e["subject_id"] for e in mine.json()} == {sent["id"]}
    other = await client.get("/api/v1/audit", params=params, headers=elsewhere)
    assert other.status_code == 200 and other.json() == []
    everything = await client.get("/api/v1/audit", params=params, headers=admin)
    assert len(everything.json()) == 2

    advisor = await client.get("/api/v1/audit", headers=t.advisor)
    assert advisor.status_code == 403
    partner = await client.get(f"/api/v1/audit/referrals/{sent['id']}", headers=t.partner_user)
    assert partner.status_code == 403 and "conseiller référent" in partner.json()["detail"]
    unknown = await client.get("/api/v1/audit", params={"subject_kind": "jeune"}, headers=own)
    assert unknown.status_code == 400 and "Type d'élément inconnu" in unknown.text


async def test_directory_reads_and_changes_are_in_the_trail(client, t):
    coordinator_id, headers = await _account(Role.COORDINATOR, t.mission_locale, "Nadia Coord")
    changed = await client.put(
        f"/api/v1/services/{t.service}",
        json={"name": "Logement d'urgence", "domains": ["housing"]},
        headers=headers,
    )
    assert changed.status_code == 200
    created = await client.post("/api/v1/structures", json={"name": "Garage"}, headers=headers)
    assert created.status_code == 201, created.text
    assert (await client.get(f"/api/v1/people/{t.contact}", headers=headers)).status_code == 200
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await client.get(f"/api/v1/people/{missing}", headers=headers)).status_code == 404

    trail = (await client.get("/api/v1/audit", headers=headers)).json()
    assert [(e["subject_kind"], e["subject_id"], e["action"], e["detail"]) for e in trail] == [
        ("person", str(t.contact), "read", "GET /api/v1/people/{id}"),
        ("structure", created.json()["id"], "change", "POST /api/v1/structures"),
        ("service", str(t.service), "change", "PUT /api/v1/services/{id}"),
    ]
    assert {e["actor_user_id"] for e in trail} == {coordinator_id}

    # The pages leave the same trail as the API.
    await f.logged_in(client, Role.COORDINATOR, of=t.mission_locale)
    assert (await client.get(f"/structures/{t.partner}")).status_code == 200
    one = await client.get(
        "/api/v1/audit",
        params={"subject_kind": "structure", "subject_id": str(t.partner)},
        headers=headers,
    )
    assert _lines(one.json()) == [("Dominique Test", "read", "GET /structures/{id}")]


async def test_the_referral_page_shows_the_advisor_who_opened_it(client, t):
    sent = await _send(client, t)
    await client.get(f"/p/{sent['token']}")
    await f.logged_in(client, Role.ADVISOR, of=t.mission_locale)
    page = await client.get(f"/orientations/{sent['id']}")
    assert "Qui a consulté ou modifié cette orientation" in page.text
    assert "Partenaire (lien personnel) a consulté l’orientation" in page.text
    assert "Dominique Test : envoyer" in page.text

    client.cookies.clear()
    await f.logged_in(client, Role.ADVISOR, of=t.partner)
    partner_page = await client.get(f"/orientations/{sent['id']}")
    assert partner_page.status_code == 200
    assert "Qui a consulté" not in partner_page.text
    stored = await _stored_trail()
    assert [p for p in PERSONAL if p in stored] == []
