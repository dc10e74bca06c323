"""The appointment a partner gives the young person: set and changed through the API and
the link page, refused in the past or when it asks for papers, shown first to the young
person with an .ics file, reminded the day before, followed by "le jeune est-il venu ?"
once it has passed, and erased with the consent. Time is moved with time-machine."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from service.accounts.store import Role
from service.referrals.exchange import Rules
from service.referrals.purge import purge
from service.referrals.reminders import run_reminders
from service.referrals.tables import Appointment, OutboxMessage, Referral, ReferralEvent
from tests import factories as f
from tests.outbox import mail_settled

PARIS = ZoneInfo("Europe/Paris")
# A Monday morning in Paris; the appointment is on Wednesday afternoon, winter time (UTC+1).
MONDAY = datetime(2030, 3, 4, 9, 0, tzinfo=PARIS)
SLOT = {
    "date": "2030-03-06",
    "time": "14:30",
    "place": "5 avenue de Lyon, Valence — 2e étage",
    "ask_for": "Léna Faure",
    "bring": "Un CV si vous en avez un",
}


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, mail_outbox=tmp_path / "outbox", base_url="http://maillage.test")


class Accepted:
    """A referral sent by a Mission Locale and accepted by the partner's link."""

    async def build(self, client, channel: str = "email") -> Accepted:
        self.mission_locale = await f.structure("Mission Locale Valence")
        self.advisor = await f.api_client_headers(Role.ADVISOR, of=self.mission_locale)
        partner = await f.structure("Foyer Jeunes Travailleurs", email="accueil@fjt.exemple.fr")
        await f.site(partner, "26362", address="5 avenue de Lyon")
        self.partner_user = await f.api_client_headers(Role.ADVISOR, of=partner)
        body = {
            "to_structure_id": str(partner),
            "domain": "housing",
            "young_person": {
                "first_name": "Yanis",
                "commune": "26362",
                "email": "yanis@exemple.fr",
                "phone": "06 11 22 33 44",
                "channel": channel,
            },
            "consent": {"given": True, "shares": ["commune"]},
        }
        sent = await client.post("/api/v1/referrals", json=body, headers=self.advisor)
        assert sent.status_code == 201, sent.text
        self.id = sent.json()["id"]
        self.token = sent.json()["partner_link"].rsplit("/", 1)[1]
        self.young = (sent.json()["young_person_link"] or "").removeprefix("http://maillage.test")
        accepted = await client.post(
            f"/api/v1/links/{self.token}/actions", json={"transition": "accept"}
        )
        assert accepted.status_code == 201, accepted.text
        return self

    async def give(self, client, **changes):
        return await client.post(
            f"/api/v1/links/{self.token}/appointment", json={**SLOT, **changes}
        )


@pytest.fixture
async def accepted(client, time_machine) -> Accepted:
    time_machine.move_to(MONDAY)
    return await Accepted().build(client)


async def _events(referral_id: str) -> list[str]:
    rows = await ReferralEvent.select(ReferralEvent.transition).where(
        ReferralEvent.referral == referral_id
    )
    return [r["transition"] for r in rows]


async def test_partner_gives_then_changes_the_appointment(client, accepted):
    given = await accepted.give(client)
    assert given.status_code == 201, given.text
    appointment = given.json()["appointment"]
    assert appointment["when"] == "mercredi 6 mars 2030 à 14 h 30"
    assert appointment["starts_at"] == "2030-03-06T13:30:00Z"  # Paris wall-clock, UTC+1
    assert appointment["passed"] is False

    # The same form twice changes nothing the second time; a new time is a change, logged.
    assert (await accepted.give(client)).status_code == 201
    moved = await accepted.give(client, time="16:00")
    assert moved.json()["appointment"]["when"] == "mercredi 6 mars 2030 à 16 h 00"
    assert (await _events(accepted.id)).count("appointment") == 2
    assert await Appointment.count() == 1

    # The referent advisor reads it in the API, and was told by mail.
    seen = await client.get(f"/api/v1/referrals/{accepted.id}", headers=accepted.advisor)
    assert seen.json()["appointment"]["place"] == SLOT["place"]
    await f.logged_in(client, Role.ADVISOR, of=accepted.mission_locale)
    page = await client.get(f"/orientations/{accepted.id}")
    assert "<dt>Rendez-vous</dt><dd>mercredi 6 mars 2030 à 16 h 00, 5 avenue" in page.text
    assert "Donner un rendez-vous au jeune" not in page.text  # the partner's form only
    await mail_settled()
    kinds = await OutboxMessage.select(OutboxMessage.kind).where(
        OutboxMessage.kind == "appointment_given"
    )
    assert len(kinds) == 2


async def test_partner_account_gives_the_appointment_the_advisor_may_not(client, accepted):
    url = f"/api/v1/referrals/{accepted.id}/appointment"
    by_partner = await client.post(url, json=SLOT, headers=accepted.partner_user)
    assert by_partner.status_code == 201, by_partner.text
    by_advisor = await client.post(url, json={**SLOT, "time": "9:00"}, headers=accepted.advisor)
    assert by_advisor.status_code == 400  # the time's shape is checked first
    by_advisor = await client.post(url, json={**SLOT, "time": "09:00"}, headers=accepted.advisor)
    assert by_advisor.status_code == 409
    assert "Seul le partenaire" in by_advisor.json()["detail"]


async def test_a_past_moment_or_papers_are_refused_naming_the_field(client, accepted):
    yesterday = await accepted.give(client, date="2030-03-03")
    assert yesterday.status_code == 400
    assert "date" in yesterday.json()["errors"]
    assert "passée" in yesterday.json()["errors"]["date"]
    this_morning = await accepted.give(client, date="2030-03-04", time="08:00")
    assert this_morning.status_code == 400
    assert "heure du rendez-vous est passée" in this_morning.json()["errors"]["time"]
    papers = await accepted.give(client, bring="Carte d'identité et justificatif de domicile")
    assert papers.status_code == 400
    assert "Aucun papier ne peut être exigé" in papers.json()["errors"]["bring"]
    no_such_day = await accepted.give(client, date="2030-02-30")
    assert no_such_day.status_code == 400 and "date" in no_such_day.json()["errors"]
    assert await Appointment.count() == 0
    assert "appointment" not in await _events(accepted.id)


async def test_appointment_only_on_an_accepted_referral(client, time_machine):
    time_machine.move_to(MONDAY)
    t = await Accepted().build(client)
    await client.post(f"/api/v1/links/{t.token}/actions", json={"transition": "take_in"})
    refused = await t.give(client)
    assert refused.status_code == 409
    assert "orientation acceptée" in refused.json()["detail"]


async def test_young_person_page_leads_with_it_and_the_ics_reads_back(client, accepted):
    await accepted.give(client)
    page = await client.get(accepted.young)
    assert page.status_code == 200
    assert page.text.index("Votre rendez-vous") < page.text.index("vous a orienté")
    assert "mercredi 6 mars 2030 à 14 h 30" in page.text
    # One answer to "where" and "whom": the meeting's, not the structure's reception desk too.
    assert page.text.count("Qui demander") == 1 and "Présentez-vous à l’accueil" not in page.text
    assert "Où aller" not in page.text

    ics = await client.get(f"{accepted.young}/rendez-vous.ics")
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert start == datetime(2030, 3, 6, 14, 30, tzinfo=PARIS)
    assert str(start.tzinfo) == "Europe/Paris"
    assert str(event["location"]) == SLOT["place"]
    assert "Léna Faure" in str(event["description"])
    assert "Foyer Jeunes Travailleurs" in str(event["summary"])


async def test_reminder_the_day_before_exactly_once(client, accepted, settings, time_machine):
    await accepted.give(client)
    await run_reminders(Rules())  # Monday: two days before, nothing yet
    assert not await OutboxMessage.exists().where(OutboxMessage.kind == "appointment_reminder")

    time_machine.move_to(datetime(2030, 3, 5, 18, 0, tzinfo=PARIS))
    first = await run_reminders(Rules())
    again = await run_reminders(Rules())
    assert (first.appointment_reminders, again.appointment_reminders) == (1, 0)
    await mail_settled()
    mails = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in settings.mail_outbox.glob("*.eml")
    ]
    reminders = [m for m in mails if m["Subject"].startswith("Rappel : votre rendez-vous")]
    assert len(reminders) == 1
    assert reminders[0]["To"] == "yanis@exemple.fr"
    text = reminders[0].get_body(preferencelist=("plain",)).get_content()
    assert "mercredi 6 mars 2030 à 14 h 30" in text and "Léna Faure" in text
    link = re.search(r"http://maillage.test(/j/\S+)", text).group(1)
    assert "Votre rendez-vous" in (await client.get(link)).text


async def test_after_the_time_the_partner_is_asked_whether_they_came(
    client, accepted, settings, time_machine
):
    await accepted.give(client)
    before = await client.get(f"/p/{accepted.token}")
    assert "Le jeune est-il venu ?" not in before.text

    time_machine.move_to(datetime(2030, 3, 6, 16, 0, tzinfo=PARIS))
    report = await run_reminders(Rules())
    assert report.appointment_questions == 1
    assert (await run_reminders(Rules())).appointment_questions == 0
    await mail_settled()
    mails = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in settings.mail_outbox.glob("*.eml")
    ]
    asked = [m for m in mails if "est-il venu" in m["Subject"]]
    assert len(asked) == 1 and asked[0]["To"] == "accueil@fjt.exemple.fr"
    text = asked[0].get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"http://maillage.test(/p/\S+)", text).group(1)

    page = await client.get(path)
    assert page.text.index("Le jeune est-il venu ?") < page.text.index("Le jeune</h2>")
    came = await client.post(
        f"{path}/actions",
        data={
            "transition": "take_in",
            "expected_version": str((await Referral.objects().first()).version),
            "_csrf_token": f.csrf_token(page.text),
        },
    )
    assert came.status_code == 200, came.text
    assert (await Referral.objects().first()).status == "in_progress"
    assert "Le jeune est-il venu ?" not in came.text


async def test_no_show_closes_the_referral_as_failed(client, accepted, time_machine):
    await accepted.give(client)
    time_machine.move_to(datetime(2030, 3, 7, 9, 0, tzinfo=PARIS))
    page = await client.get(f"/p/{accepted.token}")
    assert "Non, il ou elle n’est pas venu·e" in page.text
    form = re.search(
        r'<form[^>]*>(?:(?!</form>).)*value="no_show"(?:(?!</form>).)*</form>', page.text, re.S
    )
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form.group(0)))
    answered = await client.post(f"/p/{accepted.token}/actions", data=fields)
    assert answered.status_code == 200, answered.text
    row = await Referral.objects().first()
    assert row.status == "failed"


async def test_link_page_form_posts_then_redirects(client, accepted):
    page = await client.get(f"/p/{accepted.token}")
    assert "Donner un rendez-vous au jeune" in page.text
    assert "Aucun papier ne peut être exigé" in page.text
    data = {**SLOT, "_csrf_token": f.csrf_token(page.text)}
    refused = await client.post(
        f"/p/{accepted.token}/rendez-vous", data={**data, "date": "2030-03-01"}
    )
    assert refused.status_code == 400
    assert 'id="date-error"' in refused.text and "La date du rendez-vous est passée" in refused.text
    assert SLOT["place"] in refused.text  # what was typed stays
    given = await client.post(f"/p/{accepted.token}/rendez-vous", data=data, follow_redirects=False)
    assert given.status_code == 303
    shown = await client.get(given.headers["location"])
    assert "Rendez-vous enregistré" in shown.text
    assert "Modifier le rendez-vous" in shown.text
    assert await Appointment.count() == 1


async def test_withdrawal_and_cancellation_erase_it(client, accepted, time_machine):
    await accepted.give(client)
    young_token = accepted.young.rsplit("/", 1)[1]
    withdrawn = await client.post(
        f"/api/v1/links/{young_token}/actions", json={"transition": "withdraw"}
    )
    assert withdrawn.status_code == 201, withdrawn.text
    assert await Appointment.count() == 0
    assert (await client.get(f"{accepted.young}/rendez-vous.ics")).status_code == 404

    other = await Accepted().build(client)
    await other.give(client)
    cancelled = await client.post(
        f"/api/v1/referrals/{other.id}/actions",
        json={"transition": "cancel", "reason": "other_solution"},
        headers=other.advisor,
    )
    assert cancelled.status_code == 201, cancelled.text
    assert await Appointment.count() == 0


async def test_no_reminder_without_an_email_chosen(client, time_machine):
    time_machine.move_to(MONDAY)
    by_sms = await Accepted().build(client, channel="sms")
    assert (await by_sms.give(client)).status_code == 201
    time_machine.move_to(datetime(2030, 3, 5, 18, 0, tzinfo=PARIS))
    assert (await run_reminders(Rules())).appointment_reminders == 0


async def test_purge_erases_the_appointment_of_a_closed_referral(client, accepted, time_machine):
    await accepted.give(client)
    time_machine.move_to(datetime(2030, 3, 7, 9, 0, tzinfo=PARIS))
    no_show = await client.post(
        f"/api/v1/links/{accepted.token}/actions", json={"transition": "no_show"}
    )
    assert no_show.status_code == 201, no_show.text
    assert await Appointment.count() == 1  # the advisor still reads what was planned
    report = await purge(24, now=datetime(2033, 1, 1, tzinfo=PARIS))
    assert report.anonymised == 1
    assert await Appointment.count() == 0
