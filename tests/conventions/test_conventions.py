"""Conventions: status from dates, validation, termination, the signed PDF, and the
deadlines they give to referrals between their signatories."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from conventions.lifecycle import ConventionStatus, status
from directory.hours import local_date
from service.accounts.store import Role
from service.referrals.calendar import working_days_between
from tests import factories as f

# Reads the clock: .ci/run also runs it at fixed awkward dates.
pytestmark = pytest.mark.dated

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    "signed, starts, ends, terminated, expected",
    [
        (None, date(2026, 1, 1), None, None, "draft"),
        (date(2026, 1, 1), date(2027, 1, 1), None, None, "draft"),
        (date(2026, 1, 1), date(2026, 1, 1), None, None, "active"),
        (date(2026, 1, 1), date(2026, 1, 1), date(2027, 6, 1), None, "active"),
        (date(2026, 1, 1), date(2026, 1, 1), date(2027, 2, 23), None, "expiring"),
        (date(2026, 1, 1), date(2026, 1, 1), date(2026, 11, 25), None, "expired"),
        (date(2026, 1, 1), date(2026, 1, 1), None, date(2026, 10, 1), "terminated"),
        (date(2026, 1, 1), date(2026, 1, 1), None, date(2026, 12, 31), "active"),
    ],
)
def test_status_follows_the_dates(signed, starts, ends, terminated, expected):
    assert status(signed, starts, ends, terminated, TODAY) == ConventionStatus(expected)


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, media_dir=tmp_path / "media", mail_outbox=tmp_path / "outbox")


async def _parties():
    mission_locale = await f.structure("Mission Locale")
    partner = await f.structure("Foyer Jeunes Travailleurs")
    await f.site(partner, "26362")
    referent_ml = await f.person(mission_locale, "Nadia", "Belkacem")
    referent_partner = await f.person(partner, "Léna", "Faure")
    return mission_locale, partner, referent_ml, referent_partner


def _body(ml, partner, r_ml, r_partner, **changes):
    today = local_date()
    body = {
        "title": "Convention logement des jeunes",
        "level": "operational",
        "domains": ["housing"],
        "parties": [
            {"structure_id": str(ml), "referent_id": str(r_ml)},
            {"structure_id": str(partner), "referent_id": str(r_partner)},
        ],
        "signed_on": str(today - timedelta(days=30)),
        "starts_on": str(today - timedelta(days=30)),
        "ends_on": str(today + timedelta(days=365)),
        "acknowledge_days": 2,
        "answer_days": 4,
        "commitments": "Un créneau réservé chaque semaine.",
    }
    body.update(changes)
    return body


async def test_coordinator_records_a_convention_and_its_status_is_derived(client):
    ml, partner, r_ml, r_partner = await _parties()
    headers = await f.api_client_headers(Role.COORDINATOR, of=ml)
    created = await client.post(
        "/api/v1/conventions", json=_body(ml, partner, r_ml, r_partner), headers=headers
    )
    assert created.status_code == 201, created.text
    read = (await client.get(f"/api/v1/conventions/{created.json()['id']}", headers=headers)).json()
    assert read["status"] == "active"
    assert {p["referent_name"] for p in read["parties"]} == {"Nadia Belkacem", "Léna Faure"}
    listed = (await client.get(f"/api/v1/conventions?structure={partner}", headers=headers)).json()
    assert [c["title"] for c in listed] == ["Convention logement des jeunes"]


async def test_invalid_conventions_are_refused_with_the_field_named(client):
    ml, partner, r_ml, r_partner = await _parties()
    headers = await f.api_client_headers(Role.COORDINATOR, of=ml)
    alone = _body(ml, partner, r_ml, r_partner)
    alone["parties"] = alone["parties"][:1]
    assert (
        await client.post("/api/v1/conventions", json=alone, headers=headers)
    ).status_code == 400
    wrong_referent = _body(ml, partner, r_partner, r_ml)
    response = await client.post("/api/v1/conventions", json=wrong_referent, headers=headers)
    assert response.status_code == 400 and "parties" in response.json()["errors"]
    backwards = _body(ml, partner, r_ml, r_partner, ends_on="2020-01-01")
    response = await client.post("/api/v1/conventions", json=backwards, headers=headers)
    assert response.status_code == 400 and "ends_on" in response.json()["errors"]
    advisor = await f.api_client_headers(Role.ADVISOR, of=ml)
    refused = await client.post(
        "/api/v1/conventions", json=_body(ml, partner, r_ml, r_partner), headers=advisor
    )
    assert refused.status_code == 403
    assert (await client.get("/api/v1/conventions", headers=headers)).json() == []


async def test_referrals_between_signatories_take_the_conventions_deadlines(client):
    ml, partner, r_ml, r_partner = await _parties()
    coordinator = await f.api_client_headers(Role.COORDINATOR, of=ml)
    created = await client.post(
        "/api/v1/conventions", json=_body(ml, partner, r_ml, r_partner), headers=coordinator
    )
    advisor = await f.api_client_headers(Role.ADVISOR, of=ml)
    sent = await client.post(
        "/api/v1/referrals",
        json={
            "to_structure_id": str(partner),
            "domain": "housing",
            "young_person": {"first_name": "Yanis", "commune": "26362"},
            "consent": {"given": True},
        },
        headers=advisor,
    )
    referral = (await client.get(f"/api/v1/referrals/{sent.json()['id']}", headers=advisor)).json()
    assert referral["convention_id"] == created.json()["id"]
    sent_at = datetime.fromisoformat(referral["sent_at"])
    # The convention's 2 and 4 working days, not the exchange's default 5 and 10.
    acknowledge_due = datetime.fromisoformat(referral["acknowledge_due"])
    assert working_days_between(sent_at, acknowledge_due) == pytest.approx(2)
    assert working_days_between(sent_at, datetime.fromisoformat(referral["answer_due"])) == (
        pytest.approx(4)
    )
    page = await client.get(f"/orientations/{referral['id']}", headers=advisor)
    assert "Convention logement des jeunes" in page.text


async def test_terminated_conventions_no_longer_set_deadlines(client):
    ml, partner, r_ml, r_partner = await _parties()
    coordinator = await f.api_client_headers(Role.COORDINATOR, of=ml)
    created = (
        await client.post(
            "/api/v1/conventions", json=_body(ml, partner, r_ml, r_partner), headers=coordinator
        )
    ).json()
    missing_reason = await client.post(
        f"/api/v1/conventions/{created['id']}/termination",
        json={"on": str(local_date()), "reason": ""},
        headers=coordinator,
    )
    assert missing_reason.status_code == 400
    ended = await client.post(
        f"/api/v1/conventions/{created['id']}/termination",
        json={"on": str(local_date()), "reason": "Fusion des deux associations"},
        headers=coordinator,
    )
    assert ended.json()["status"] == "terminated"
    again = await client.post(
        f"/api/v1/conventions/{created['id']}/termination",
        json={"on": str(local_date()), "reason": "Encore"},
        headers=coordinator,
    )
    assert again.status_code == 409
    advisor = await f.api_client_headers(Role.ADVISOR, of=ml)
    sent = await client.post(
        "/api/v1/referrals",
        json={
            "to_structure_id": str(partner),
            "domain": "housing",
            "young_person": {"first_name": "Yanis", "commune": "26362"},
            "consent": {"given": True},
        },
        headers=advisor,
    )
    referral = (await client.get(f"/api/v1/referrals/{sent.json()['id']}", headers=advisor)).json()
    assert referral["convention_id"] is None


async def test_signed_pdf_is_checked_stored_and_served(client, settings):
    ml, partner, r_ml, r_partner = await _parties()
    coordinator = await f.api_client_headers(Role.COORDINATOR, of=ml)
    created = (
        await client.post(
            "/api/v1/conventions", json=_body(ml, partner, r_ml, r_partner), headers=coordinator
        )
    ).json()
    url = f"/api/v1/conventions/{created['id']}/pdf"
    not_pdf = await client.put(url, content=b"MZ\x90\x00 not a pdf", headers=coordinator)
    assert not_pdf.status_code == 400 and "PDF" in not_pdf.json()["errors"]["pdf"]
    pdf = b"%PDF-1.4\n% convention signee\n%%EOF\n"
    stored = await client.put(
        url + "?filename=convention-signee.pdf", content=pdf, headers=coordinator
    )
    assert stored.status_code == 200 and stored.json()["has_pdf"] is True
    fetched = await client.get(url, headers=coordinator)
    assert fetched.content == pdf and fetched.headers["content-type"] == "application/pdf"
    files = list((settings.media_dir / "conventions").glob("*.pdf"))
    assert len(files) == 1


async def test_convention_pages(client):
    ml, partner, _r_ml, r_partner = await _parties()
    await f.logged_in(client, Role.COORDINATOR, of=ml)
    page = await client.get("/conventions/nouvelle")
    today = local_date()
    created = await client.post(
        "/conventions/nouvelle",
        data={
            "title": "Convention santé",
            "level": "organisational",
            "domains": ["health"],
            "structures": [str(ml), str(partner)],
            "referents": [str(r_partner)],
            "starts_on": str(today),
            "signed_on": str(today),
            "_csrf_token": f.csrf_token(page.text),
        },
    )
    assert created.status_code == 200, created.text
    assert "Convention santé" in created.text and "Léna Faure" in created.text
    assert "aucun·e" in created.text  # the Mission Locale named no referent
    bad = await client.post(
        "/conventions/nouvelle",
        data={
            "title": "",
            "level": "",
            "structures": [str(ml)],
            "_csrf_token": f.csrf_token(page.text),
        },
    )
    assert bad.status_code == 400
    for field in ("title", "level", "structures", "starts_on"):
        assert f'id="{field}-error"' in bad.text, field
    listing = await client.get("/conventions")
    assert "Convention santé" in listing.text


async def test_a_convention_signed_after_midnight_in_paris_is_not_in_the_future(
    client, time_machine
):
    # 00:30 on 1 January in Paris is still 31 December in UTC.
    time_machine.move_to(datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo("Europe/Paris")))
    ml, partner, r_ml, r_partner = await _parties()
    headers = await f.api_client_headers(Role.COORDINATOR, of=ml)
    body = _body(ml, partner, r_ml, r_partner, signed_on="2027-01-01", starts_on="2027-01-01")
    created = await client.post("/api/v1/conventions", json=body, headers=headers)
    assert created.status_code == 201, created.text
    url = f"/api/v1/conventions/{created.json()['id']}"
    assert (await client.get(url, headers=headers)).json()["status"] == "active"
    tomorrow = _body(ml, partner, r_ml, r_partner, signed_on="2027-01-02")
    refused = await client.post("/api/v1/conventions", json=tomorrow, headers=headers)
    assert refused.status_code == 400 and "signed_on" in refused.json()["errors"]
