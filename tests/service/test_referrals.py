"""The referral exchange through HTTP: every path of the life cycle, illegal transitions,
personal links, concurrency, privacy and the mail that goes with it."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from litestar.testing import AsyncTestClient

from directory.tables import Structure
from service.accounts.store import Role
from service.app import create_app
from service.referrals.calendar import is_working_day, working_days_between
from service.referrals.tables import AccessLink, Consent, Referral, ReferralEvent
from tests import factories as f
from tests.outbox import mail_settled

# Reads the clock: .ci/run also runs it at fixed awkward dates.
pytestmark = pytest.mark.dated

VALENCE = "26362"


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, mail_outbox=tmp_path / "outbox", base_url="http://maillage.test")


class Territory:
    """A Mission Locale with an advisor, a partner with a contact, and a third structure."""

    async def build(self) -> Territory:
        self.mission_locale = await f.structure("Mission Locale Valence")
        self.advisor = await f.api_client_headers(Role.ADVISOR, of=self.mission_locale)
        self.partner = await f.structure(
            "Foyer Jeunes Travailleurs", email="accueil@fjt.exemple.fr"
        )
        await f.site(
            self.partner, VALENCE, address="5 avenue de Lyon", opening_hours="Mo-Fr 09:00-17:00"
        )
        self.contact = await f.person(
            self.partner, "Léna", "Faure", email="lena@fjt.exemple.fr", phone="04 75 40 50 60"
        )
        self.service = await f.service(self.partner, "Logement temporaire", contact_id=self.contact)
        self.partner_user = await f.api_client_headers(Role.ADVISOR, of=self.partner)
        self.third = await f.structure("Résidence sociale du Rhône")
        await f.site(self.third, "26058")
        return self


@pytest.fixture
async def t(database_url) -> Territory:
    return await Territory().build()


def _body(t: Territory, **changes) -> dict:
    body = {
        "to_structure_id": str(t.partner),
        "to_service_id": str(t.service),
        "domain": "housing",
        "message": "Hébergé chez un ami jusqu'à la fin du mois.",
        "young_person": {
            "first_name": "Yanis",
            "age_range": "18-21",
            "commune": VALENCE,
            "phone": "06 11 22 33 44",
            "email": "yanis@exemple.fr",
            "channel": "email",
        },
        "consent": {"given": True, "shares": ["age", "commune", "phone", "message"]},
    }
    body.update(changes)
    return body


async def _send(client, t: Territory, **changes) -> dict:
    response = await client.post("/api/v1/referrals", json=_body(t, **changes), headers=t.advisor)
    assert response.status_code == 201, response.text
    sent = response.json()
    sent["token"] = sent["partner_link"].rsplit("/", 1)[1]
    return sent


async def _link_act(client, token: str, transition: str, **fields):
    return await client.post(
        f"/api/v1/links/{token}/actions", json={"transition": transition, **fields}
    )


async def _act(client, headers, referral_id: str, transition: str, **fields):
    return await client.post(
        f"/api/v1/referrals/{referral_id}/actions",
        json={"transition": transition, **fields},
        headers=headers,
    )


async def _outbox(settings) -> list[email.message.EmailMessage]:
    await mail_settled()
    folder = settings.mail_outbox
    if not folder.exists():
        return []
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(folder.glob("*.eml"))
    ]


def _text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


async def test_happy_path_from_sending_to_completion(client, t, settings):
    sent = await _send(client, t)
    for transition in ("acknowledge", "accept", "take_in"):
        response = await _link_act(client, sent["token"], transition)
        assert response.status_code == 201, response.text
    closed = await _link_act(client, sent["token"], "close", reason="need_met")
    assert closed.json()["status"] == "completed"

    referral = (await client.get(f"/api/v1/referrals/{sent['id']}", headers=t.advisor)).json()
    assert referral["status"] == "completed" and referral["outcome"] == "need_met"
    assert [(e["transition"], e["from_status"], e["to_status"]) for e in referral["events"]] == [
        ("send", "draft", "sent"),
        ("acknowledge", "sent", "received"),
        ("accept", "received", "accepted"),
        ("take_in", "accepted", "in_progress"),
        ("close", "in_progress", "completed"),
    ]
    assert referral["closed_at"] is not None and referral["allowed"] == []

    mails = await _outbox(settings)
    to_partner = [m for m in mails if m["To"] == "lena@fjt.exemple.fr"]
    assert len(to_partner) == 1
    assert sent["partner_link"] in _text(to_partner[0])
    assert "Yanis" in _text(to_partner[0])
    assert "06 11" not in _text(to_partner[0])  # contact details stay behind the link
    to_young = [m for m in mails if m["To"] == "yanis@exemple.fr"]
    assert len(to_young) == 1 and "/j/" in _text(to_young[0])
    advisor_subjects = [m["Subject"] for m in mails if m["To"].startswith("user")]
    assert len(advisor_subjects) == 3  # accepted, taken in, closed
    assert any("terminée" in s for s in advisor_subjects)


async def test_deadlines_are_working_days_ahead(client, t):
    sent = await _send(client, t)
    referral = (await client.get(f"/api/v1/referrals/{sent['id']}", headers=t.advisor)).json()
    sent_at = datetime.fromisoformat(referral["sent_at"])
    acknowledge_due = datetime.fromisoformat(referral["acknowledge_due"])
    answer_due = datetime.fromisoformat(referral["answer_due"])
    # Five and ten French working days (the defaults): weekends and bank holidays do not
    # count, and a deadline never falls on a day off.
    assert working_days_between(sent_at, acknowledge_due) == pytest.approx(5)
    assert working_days_between(sent_at, answer_due) == pytest.approx(10)
    assert is_working_day(acknowledge_due) and is_working_day(answer_due)
    assert referral["overdue"] is False


async def test_consent_is_required_and_nothing_is_written_without_it(client, t):
    response = await client.post(
        "/api/v1/referrals",
        json=_body(t, consent={"given": False, "shares": []}),
        headers=t.advisor,
    )
    assert response.status_code == 400
    assert "consentement" in response.json()["errors"]["consent"]
    assert await Referral.count() == 0


async def test_no_identity_document_can_even_be_sent(client, t):
    body = _body(t)
    body["young_person"]["social_security_number"] = "1 99 05 26 362 123 45"
    response = await client.post("/api/v1/referrals", json=body, headers=t.advisor)
    assert response.status_code == 400
    assert await Referral.count() == 0


async def test_decline_needs_a_reason_and_its_message_reaches_the_advisor_only(client, t, settings):
    sent = await _send(client, t)
    missing = await _link_act(client, sent["token"], "decline")
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    assert (await Referral.objects().first()).status == "sent"

    declined = await _link_act(
        client,
        sent["token"],
        "decline",
        reason="no_capacity",
        note="Complet jusqu'en janvier, essayez la résidence sociale.",
    )
    assert declined.status_code == 201
    advisor_view = (await client.get(f"/api/v1/referrals/{sent['id']}", headers=t.advisor)).json()
    assert advisor_view["status"] == "declined"
    assert advisor_view["private_note"].startswith("Complet")
    partner_view = (await client.get(f"/api/v1/links/{sent['token']}")).json()
    assert partner_view["private_note"] == ""
    assert all(e["note"] == "" for e in partner_view["events"] if e["transition"] == "decline")
    mail = [m for m in await _outbox(settings) if "refusée" in m["Subject"]]
    assert len(mail) == 1 and "Complet jusqu'en janvier" in _text(mail[0])


async def test_illegal_transitions_are_refused_with_409_and_change_nothing(client, t):
    sent = await _send(client, t)
    too_early = await _link_act(client, sent["token"], "take_in")
    assert too_early.status_code == 409
    assert "envoyée" in too_early.json()["detail"]
    not_theirs = await _link_act(client, sent["token"], "cancel", reason="other", note="x")
    assert not_theirs.status_code == 409
    advisor_accepting = await _act(client, t.advisor, sent["id"], "accept")
    assert advisor_accepting.status_code == 409
    unknown = await _link_act(client, sent["token"], "teleport")
    assert unknown.status_code == 400
    row = await Referral.objects().first()
    assert (row.status, row.version) == ("sent", 1)
    assert await ReferralEvent.count() == 1


async def test_redirect_creates_a_linked_referral_with_the_same_referent(client, t, settings):
    sent = await _send(client, t)
    response = await _link_act(
        client,
        sent["token"],
        "redirect",
        redirect_to_structure_id=str(t.third),
        note="La résidence sociale a des places.",
    )
    assert response.status_code == 201, response.text
    parent = (await client.get(f"/api/v1/referrals/{sent['id']}", headers=t.advisor)).json()
    assert parent["status"] == "redirected"
    [child_id] = parent["children_ids"]
    child = (await client.get(f"/api/v1/referrals/{child_id}", headers=t.advisor)).json()
    assert child["status"] == "sent" and child["parent_id"] == sent["id"]
    assert child["to_structure_name"] == "Résidence sociale du Rhône"
    assert child["referent_name"] == parent["referent_name"] != ""
    assert child["young_person_id"] == parent["young_person_id"]
    journey = (
        await client.get(
            f"/api/v1/referrals/journeys/{parent['young_person_id']}", headers=t.advisor
        )
    ).json()
    assert [j["to_structure_name"] for j in journey] == [
        "Foyer Jeunes Travailleurs",
        "Résidence sociale du Rhône",
    ]
    assert any(
        "redirect" in s or "réorientée" in s.lower()
        for s in [m["Subject"] for m in await _outbox(settings)]
    )


async def test_redirect_to_itself_or_nowhere_is_refused(client, t):
    sent = await _send(client, t)
    nowhere = await _link_act(client, sent["token"], "redirect")
    itself = await _link_act(
        client, sent["token"], "redirect", redirect_to_structure_id=str(t.partner)
    )
    assert nowhere.status_code == itself.status_code == 400
    assert await Referral.count() == 1


async def test_hold_and_resume_by_the_advisor(client, t):
    sent = await _send(client, t)
    await _link_act(client, sent["token"], "acknowledge")
    held = await _act(client, t.advisor, sent["id"], "hold", reason="young_person_time")
    assert held.json()["status"] == "on_hold"
    blocked = await _link_act(client, sent["token"], "accept")
    assert blocked.status_code == 409
    resumed = await _act(client, t.advisor, sent["id"], "resume")
    assert resumed.json()["status"] == "received"  # back where it was
    assert (await _link_act(client, sent["token"], "accept")).status_code == 201


async def test_cancel_needs_a_reason(client, t):
    sent = await _send(client, t)
    assert (await _act(client, t.advisor, sent["id"], "cancel")).status_code == 400
    cancelled = await _act(client, t.advisor, sent["id"], "cancel", reason="other_solution")
    assert cancelled.json()["status"] == "cancelled"


async def test_no_show_fails_the_referral(client, t):
    sent = await _send(client, t)
    await _link_act(client, sent["token"], "accept")
    failed = await _link_act(client, sent["token"], "no_show")
    assert failed.json()["status"] == "failed"


async def test_young_person_withdraws_consent_and_what_was_shared_is_erased(client, t, settings):
    sent = await _send(client, t)
    young_token = sent["young_person_link"].rsplit("/", 1)[1]
    page = await client.get(f"/j/{young_token}")
    assert page.status_code == 200
    assert "5 avenue de Lyon" in page.text and "Léna Faure" in page.text
    withdrawn = await _link_act(client, young_token, "withdraw")
    assert withdrawn.json()["status"] == "cancelled"
    consent = await Consent.objects().first()
    assert consent.withdrawn_at is not None and consent.shares == []
    row = await Referral.objects().first()
    assert row.message == ""
    partner = await client.get(f"/api/v1/links/{sent['token']}")
    assert partner.status_code == 403  # the partner's link is revoked


async def test_young_person_says_they_went(client, t):
    sent = await _send(client, t)
    young_token = sent["young_person_link"].rsplit("/", 1)[1]
    await _link_act(client, sent["token"], "accept")
    went = await _link_act(client, young_token, "went")
    assert went.status_code == 201 and went.json()["status"] == "accepted"
    view = went.json()
    assert view["decline_reason"] == "" and view["private_note"] == ""
    assert (await _link_act(client, young_token, "accept")).status_code == 409


async def test_forged_expired_and_revoked_links_open_nothing(client, t):
    forged = await client.get("/api/v1/links/not-a-real-token")
    assert forged.status_code == 403
    page = await client.get("/p/not-a-real-token")
    assert page.status_code == 403 and "pas valide" in page.text and "Yanis" not in page.text
    sent = await _send(client, t)
    await AccessLink.update(
        {AccessLink.expires_at: datetime.now(UTC) - timedelta(minutes=1)}
    ).where(AccessLink.party == "partner")
    expired = await client.get(f"/p/{sent['token']}")
    assert expired.status_code == 403 and "expiré" in expired.text and "Yanis" not in expired.text
    renewed = await client.post(f"/api/v1/referrals/{sent['id']}/partner-link", headers=t.advisor)
    assert renewed.status_code == 201
    new_token = renewed.json()["partner_link"].rsplit("/", 1)[1]
    assert (await client.get(f"/api/v1/links/{new_token}")).status_code == 200
    assert (await client.get(f"/api/v1/links/{sent['token']}")).status_code == 403


async def test_partners_see_only_referrals_addressed_to_them(client, t):
    sent = await _send(client, t)
    outsider = await f.api_client_headers(Role.ADVISOR, of=t.third)
    assert (
        await client.get(f"/api/v1/referrals/{sent['id']}", headers=outsider)
    ).status_code == 404
    assert (await _act(client, outsider, sent["id"], "accept")).status_code == 404
    assert (await client.get("/api/v1/referrals?box=in", headers=outsider)).json() == []
    inbox = (await client.get("/api/v1/referrals?box=in", headers=t.partner_user)).json()
    assert [r["id"] for r in inbox] == [sent["id"]]
    partner_view = (
        await client.get(f"/api/v1/referrals/{sent['id']}", headers=t.partner_user)
    ).json()
    assert partner_view["young_person"] == {
        "first_name": "Yanis",
        "birth_year": None,
        "age_range": "18-21",
        "commune": VALENCE,
        "phone": "+33611223344",
    }  # no e-mail: the young person did not agree to share it
    accepted = await _act(client, t.partner_user, sent["id"], "accept")
    assert accepted.status_code == 201


async def test_two_partners_acting_at_once_exactly_one_wins(client, t):
    sent = await _send(client, t)
    accept, decline = await asyncio.gather(
        _link_act(client, sent["token"], "accept"),
        _act(client, t.partner_user, sent["id"], "decline", reason="no_capacity"),
    )
    statuses = sorted([accept.status_code, decline.status_code])
    assert statuses == [201, 409], (accept.text, decline.text)
    assert await ReferralEvent.count() == 2
    row = await Referral.objects().first()
    assert row.version == 2 and row.status in ("accepted", "declined")


async def test_stale_page_is_told_someone_else_acted(client, t):
    sent = await _send(client, t)
    await _link_act(client, sent["token"], "acknowledge")
    stale = await _link_act(
        client, sent["token"], "decline", reason="no_capacity", expected_version=1
    )
    assert stale.status_code == 409 and "rechargez" in stale.json()["detail"]


async def test_wandering_alert_after_three_referrals_without_acceptance(client, t):
    first = await _send(client, t)
    young_person_id = (
        await client.get(f"/api/v1/referrals/{first['id']}", headers=t.advisor)
    ).json()["young_person_id"]
    await _link_act(client, first["token"], "decline", reason="no_capacity")
    assert (await client.get("/api/v1/referrals/alerts", headers=t.advisor)).json() == []
    second = await _send(
        client,
        t,
        young_person=None,
        young_person_id=young_person_id,
        to_structure_id=str(t.third),
        to_service_id=None,
    )
    await _link_act(client, second["token"], "decline", reason="not_eligible")
    await _send(client, t, young_person=None, young_person_id=young_person_id, to_service_id=None)
    [alert] = (await client.get("/api/v1/referrals/alerts", headers=t.advisor)).json()
    assert alert["young_first_name"] == "Yanis"
    assert set(alert["kinds"]) == {"many_without_acceptance", "bounce_back"}
    coordinator = await f.api_client_headers(Role.COORDINATOR, of=t.mission_locale)
    assert len((await client.get("/api/v1/referrals/alerts", headers=coordinator)).json()) == 1


async def test_a_homonym_structure_is_not_a_bounce_but_the_same_one_is(client, t):
    homonym = await f.structure("Foyer Jeunes Travailleurs")  # same name, another town
    await f.site(homonym, "26281")
    first = await _send(client, t)
    young_person_id = (
        await client.get(f"/api/v1/referrals/{first['id']}", headers=t.advisor)
    ).json()["young_person_id"]
    await _link_act(client, first["token"], "decline", reason="no_capacity")
    again = {"young_person": None, "young_person_id": young_person_id, "to_service_id": None}
    await _send(client, t, to_structure_id=str(homonym), **again)
    assert (await client.get("/api/v1/referrals/alerts", headers=t.advisor)).json() == []

    await _send(client, t, **again)  # back to the first Foyer
    [alert] = (await client.get("/api/v1/referrals/alerts", headers=t.advisor)).json()
    assert "bounce_back" in alert["kinds"]


async def test_sending_to_an_inactive_structure_is_refused(client, t):
    await Structure.update({Structure.status: "closed"}).where(Structure.id == t.partner)
    response = await client.post("/api/v1/referrals", json=_body(t), headers=t.advisor)
    assert response.status_code == 400
    assert "active" in response.json()["errors"]["to_structure_id"]


async def test_mail_reaches_a_real_smtp_server(t, settings, threaded_smtp_server):
    smtp_server = threaded_smtp_server
    smtp_settings = replace(
        settings, smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_starttls=False
    )
    async with AsyncTestClient(create_app(smtp_settings), base_url="http://127.0.0.1") as client:
        sent = await _send(client, t)
        await mail_settled()
    [to_partner, to_young] = sorted(smtp_server.inbox.messages(), key=lambda m: m["To"])
    assert to_partner["To"] == "lena@fjt.exemple.fr"
    assert "Nouvelle orientation de Mission Locale Valence" in to_partner["Subject"]
    text = _text(to_partner).replace("\r\n", "\n")
    assert sent["partner_link"] in text
    html = to_partner.get_body(preferencelist=("html",)).get_content()
    assert sent["partner_link"] in html
    assert to_young["To"] == "yanis@exemple.fr"


async def test_response_times_are_plain_phrases_counting_the_unanswered(client, t):
    first = await _send(client, t)
    times = (
        await client.get(f"/api/v1/structures/{t.partner}/response-times", headers=t.advisor)
    ).json()
    assert times["answer"].startswith("Pas encore assez")
    for _ in range(3):
        sent = await _send(client, t)
        await _link_act(client, sent["token"], "accept")
    await _link_act(client, first["token"], "acknowledge")
    times = (
        await client.get(f"/api/v1/structures/{t.partner}/response-times", headers=t.advisor)
    ).json()
    # Sent a moment ago, still within its acknowledgement deadline: not late, not counted.
    assert times["count"] == 3
    assert times["answer"] == "Répond en général en moins d'un jour ouvré (3 orientations)."

    # The same referral once its acknowledgement deadline has passed, still unanswered.
    sent_at = datetime.now(UTC) - timedelta(days=15)
    await Referral.update(
        {Referral.sent_at: sent_at, Referral.acknowledge_due: sent_at + timedelta(days=3)}
    ).where(Referral.id == UUID(first["id"]))
    times = (
        await client.get(f"/api/v1/structures/{t.partner}/response-times", headers=t.advisor)
    ).json()
    assert times["count"] == 4
    assert times["answer"] == (
        "Répond en général en moins d'un jour ouvré "
        "(4 orientations, dont 1 sans réponse à ce jour)."
    )
    page = await client.get(f"/structures/{t.partner}", headers=t.advisor)
    assert "dont 1 sans réponse" in page.text
    results = await client.get(
        "/api/v1/search", params={"commune": VALENCE, "need": "logement"}, headers=t.advisor
    )
    [hit] = results.json()["results"]["items"]
    assert hit["response_times"] == times["answer"]
