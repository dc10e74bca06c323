"""The young person's language (issue 9, item 12), through HTTP on both engines: the
advisor chooses it (API and forms), the young person's page and emails speak it, the
young person switches it on their page and the choice sticks; staff pages stay French."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from service.referrals.exchange import Rules
from service.referrals.reminders import run_reminders
from service.referrals.tables import Referral
from tests import factories as f
from tests.outbox import mail_settled
from tests.service.test_young_person_page import ADVISOR_EMAIL, VALENCE, Place, _words

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2030, 3, 4, 9, 0, tzinfo=PARIS)


@pytest.fixture
def settings(settings, threaded_smtp_server):
    """Mail goes through a real SMTP server on 127.0.0.1."""
    return replace(
        settings,
        smtp_host="127.0.0.1",
        smtp_port=threaded_smtp_server.port,
        smtp_starttls=False,
        base_url="http://maillage.test",
    )


@pytest.fixture
async def place(database_url, time_machine) -> Place:
    # A Monday morning of 2030: the appointment tests give one on the Wednesday after.
    time_machine.move_to(MONDAY)
    built = await Place().build()
    await f.site(
        built.partner, VALENCE, address="8 rue Bouffier", opening_hours="Mo-Fr 09:00-17:00"
    )
    return built


async def _send(client, place: Place, **extra) -> tuple[str, str, str]:
    body = {
        "to_structure_id": str(place.partner),
        "domain": "housing",
        "young_person": {
            "first_name": "Inès",
            "commune": VALENCE,
            "email": "ines@exemple.fr",
            "channel": "email",
        },
        "consent": {"given": True, "shares": ["commune"]},
        **extra,
    }
    response = await client.post("/api/v1/referrals", json=body, headers=place.advisor)
    assert response.status_code == 201, response.text
    sent = response.json()
    return (
        sent["id"],
        sent["partner_link"].rsplit("/", 1)[1],
        sent["young_person_link"].rsplit("/", 1)[1],
    )


async def _partner(client, token: str, transition: str, **fields) -> None:
    response = await client.post(
        f"/api/v1/links/{token}/actions", json={"transition": transition, **fields}
    )
    assert response.status_code == 201, response.text


# What each language must say on the page of a referral just sent.
SAYS = {
    "fr": (
        '<html lang="fr" dir="ltr">',
        "Bonjour Inès",
        "Camille Rousset vous a orienté·e vers Le Relais des Monts",
        "Aucun papier n’est exigé pour être orienté·e.",
        "J’y suis allé·e",
    ),
    "en": (
        '<html lang="en" dir="ltr">',
        "Hello Inès",
        "Camille Rousset has referred you to Le Relais des Monts",
        "You do not need any papers to be referred.",
        "I went",
    ),
    "ar": (
        '<html lang="ar" dir="rtl">',
        "مرحبًا Inès",
        "تم توجيهك من طرف Camille Rousset إلى Le Relais des Monts",
        "لا يُطلب منك أي وثيقة لكي يتم توجيهك.",
        "ذهبت إلى هناك",
    ),
}


@pytest.mark.parametrize("language", ["fr", "en", "ar"])
async def test_the_page_speaks_the_language_the_advisor_chose(client, place, language):
    referral_id, _partner_token, young = await _send(client, place, language=language)
    page = await client.get(f"/j/{young}")
    assert page.status_code == 200
    html_tag, *sentences = SAYS[language]
    assert html_tag in page.text
    text = _words(page.text)
    for sentence in sentences:
        assert sentence in text
    # The phone number reads left to right whatever the page's direction.
    assert '<span dir="ltr">04 75 00 33 44</span>' in page.text
    # The switch names each language in its own words, with its lang attribute.
    for code, name in (("fr", "Français"), ("en", "English"), ("ar", "العربية")):
        assert f'lang="{code}">{name}</' in page.text
    # The advisor reads the language back; their own pages stay French.
    read = await client.get(f"/api/v1/referrals/{referral_id}", headers=place.advisor)
    assert read.json()["language"] == language
    await f.login(client, ADVISOR_EMAIL)
    staff = await client.get(f"/orientations/{referral_id}")
    assert '<html lang="fr" dir="ltr">' in staff.text and "Historique" in staff.text
    named = {"fr": None, "en": "Anglais", "ar": "Arabe"}[language]
    assert ("Langue de sa page" in staff.text) == bool(named)
    assert not named or named in _words(staff.text)


async def test_an_unknown_language_is_refused_with_a_clear_message(client, place):
    body = {
        "to_structure_id": str(place.partner),
        "domain": "housing",
        "young_person": {"first_name": "Inès", "commune": VALENCE},
        "consent": {"given": True, "shares": []},
        "language": "de",
    }
    response = await client.post("/api/v1/referrals", json=body, headers=place.advisor)
    assert response.status_code == 400
    assert "language" in response.text
    assert not await Referral.exists()
    schema = (await client.get("/api/schema/openapi.json", headers=place.advisor)).json()
    language = schema["components"]["schemas"]["ReferralCreate"]["properties"]["language"]
    assert language["enum"] == ["fr", "en", "ar"] and language["default"] == "fr"


async def test_the_young_person_switches_language_and_it_sticks(client, place):
    referral_id, _partner_token, young = await _send(client, place)
    assert "Bonjour Inès" in (await client.get(f"/j/{young}")).text
    switched = await f.form_post(client, f"/j/{young}/langue", {"language": "ar"}, f"/j/{young}")
    assert switched.status_code == 200  # followed the redirect back to the page
    assert str(switched.url).endswith(f"/j/{young}")
    assert '<html lang="ar" dir="rtl">' in switched.text
    # Kept on the referral: another phone, a later visit, the advisor all see it.
    assert "مرحبًا Inès" in (await client.get(f"/j/{young}")).text
    row = await Referral.select(Referral.language).where(Referral.id == referral_id).first()
    assert row == {"language": "ar"}
    refused = await f.form_post(client, f"/j/{young}/langue", {"language": "xx"}, f"/j/{young}")
    assert refused.status_code == 400
    assert "يرجى اختيار لغة من القائمة" in refused.text
    back = await f.form_post(client, f"/j/{young}/langue", {"language": "en"}, f"/j/{young}")
    assert "Hello Inès" in back.text


async def test_answers_and_their_errors_in_english(client, place):
    _id, partner_token, young = await _send(client, place, language="en")
    await _partner(client, partner_token, "accept")
    step = await client.get(f"/j/{young}/pas-pu")
    assert "What stopped you from going?" in step.text and "A transport problem" in step.text
    empty = await f.form_post(
        client, f"/j/{young}/actions", {"transition": "could_not_go"}, f"/j/{young}/pas-pu"
    )
    assert empty.status_code == 400 and "Choose a reason from the list." in empty.text
    answered = await f.form_post(
        client,
        f"/j/{young}/actions",
        {"transition": "could_not_go", "reason": "transport", "call_back": "true"},
        f"/j/{young}/pas-pu",
    )
    text = _words(answered.text)
    assert "you told us that you could not go. Reason: A transport problem." in text
    assert "Camille Rousset has been told and will call you back, as you asked." in text
    again = await f.form_post(client, f"/j/{young}/actions", {"transition": "went"}, f"/j/{young}")
    assert again.status_code == 409 and "You have already answered" in again.text


@pytest.mark.parametrize(
    ("accept_language", "says"),
    [
        ("en-GB,en;q=0.8", "This link is not valid."),
        ("ar-MA,ar;q=0.9,fr;q=0.5", "هذا الرابط غير صالح."),
        ("de-DE", "Ce lien n'est pas valide."),
    ],
)
async def test_a_dead_link_speaks_the_browser_language(client, place, accept_language, says):
    page = await client.get("/j/not-a-real-token", headers={"Accept-Language": accept_language})
    assert page.status_code == 403
    assert says in page.text.replace("&#39;", "'")


async def test_the_forms_offer_the_language_and_the_reorientation_keeps_it(client, place):
    await f.login(client, ADVISOR_EMAIL)
    url = f"/orientations/nouvelle?structure={place.partner}"
    form = await client.get(url)
    assert '<select id="language" name="language"' in form.text
    assert '<option value="fr" selected>Français</option>' in form.text
    sent = await client.post(
        url,
        data={
            "domain": "housing",
            "first_name": "Inès",
            "commune": VALENCE,
            "consent": "on",
            "language": "en",
            "_csrf_token": f.csrf_token(form.text),
        },
    )
    assert sent.status_code == 200, sent.text
    row = await Referral.select(Referral.id, Referral.language).first()
    assert row["language"] == "en"
    # The partner declines; the advisor's re-orientation form keeps the young person's language.
    partner_token = await _partner_link(client, row["id"])
    await _partner(client, partner_token, "decline", reason="no_capacity")
    again = await client.get(f"/orientations/{row['id']}/reorienter")
    assert '<option value="en" selected>Anglais (English)</option>' in again.text


async def _partner_link(client, referral_id) -> str:
    renewed = await f.form_post(
        client, f"/orientations/{referral_id}/lien", {}, f"/orientations/{referral_id}"
    )
    return renewed.text.split("/p/", 1)[1].split("<", 1)[0].split('"', 1)[0]


async def test_emails_to_the_young_person_in_their_language(
    client, place, threaded_smtp_server, time_machine
):
    await _send(client, place, language="en")
    _id, partner_token, _young = await _send(client, place, language="ar")
    await mail_settled()
    by_subject = {m["Subject"]: m for m in threaded_smtp_server.inbox.messages()}
    english = by_subject["Inès, here is where you are referred to"]
    assert english["Content-Language"] == "en" and english["To"] == "ines@exemple.fr"
    text = english.get_body(preferencelist=("plain",)).get_content()
    assert "Camille Rousset has referred you to Le Relais des Monts." in text
    arabic = by_subject["Inès، إليك الجهة التي تم توجيهك إليها"]
    assert arabic["Content-Language"] == "ar"
    html = arabic.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html and "تم توجيهك من طرف" in html
    # The advisor hears of the partner's answer in French, whatever the young person's language.
    await _partner(client, partner_token, "accept")
    await mail_settled()
    staff = [m for m in threaded_smtp_server.inbox.messages() if m["To"] == ADVISOR_EMAIL]
    assert staff and {m["Content-Language"] for m in staff} == {"fr"}
    html = staff[0].get_body(preferencelist=("html",)).get_content()
    assert '<html lang="fr" dir="ltr">' in html

    # The reminder the day before, in Arabic, with the date in Arabic.
    given = await client.post(
        f"/api/v1/links/{partner_token}/appointment",
        json={"date": "2030-03-06", "time": "14:30", "place": "8 rue Bouffier"},
    )
    assert given.status_code in (200, 201), given.text
    time_machine.move_to(datetime(2030, 3, 5, 18, 0, tzinfo=PARIS))
    assert (await run_reminders(Rules())).appointment_reminders == 1
    await mail_settled()
    reminder = next(
        m for m in threaded_smtp_server.inbox.messages() if m["Subject"].startswith("تذكير")
    )
    assert reminder["Subject"] == "تذكير: موعدك في Le Relais des Monts"
    assert reminder["Content-Language"] == "ar"
    body = reminder.get_body(preferencelist=("plain",)).get_content()
    assert "الأربعاء 6 مارس 2030، الساعة 14:30" in body


async def test_the_calendar_file_in_the_young_person_language(client, place, time_machine):
    _id, partner_token, young = await _send(client, place, language="en")
    await _partner(client, partner_token, "accept")
    await client.post(
        f"/api/v1/links/{partner_token}/appointment",
        json={"date": "2030-03-06", "time": "14:30", "place": "8 rue Bouffier"},
    )
    page = await client.get(f"/j/{young}")
    assert "Wednesday 6 March 2030 at 14:30" in page.text
    ics = await client.get(f"/j/{young}/rendez-vous.ics")
    event = Calendar.from_ical(ics.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Appointment at Le Relais des Monts"
    assert "You do not need any papers to be seen." in str(event["DESCRIPTION"])
