"""The young person's page in French, English and Arabic, in Debian's chromium at 320 px:
every state they can meet (sent, acknowledged, accepted with an appointment, declined,
expired, redirected, cancelled, no-show), their own answers (went; could not go, with a
reason), a withdrawal with its confirmation, the language switch and a dead link. Every
page passes axe-core and has no horizontal scroll; screenshots go to
tests/screenshots/test_young_person_in_each_language/<lang>/."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from directory.hours import LOCAL_TIME
from directory.tables import Site
from service import i18n
from tests.live import running_server
from tests.service.test_account_browser import _axe_violations
from tests.service.test_browser import browser  # noqa: F401 - fixture
from tests.service.test_young_person_browser import _expire_everything_waiting
from tests.service.test_young_person_page import Place

SHOTS = Path(__file__).parent.parent / "screenshots" / "test_young_person_in_each_language"

# What each state says, in each language: the words a young person relies on.
STATES = {
    "fr": {
        "sent": "Camille Rousset vous a orienté·e vers",
        "appointment": "Votre rendez-vous",
        "went": "vous nous avez dit que vous y êtes allé·e",
        "could_not_go": "Raison : J’avais peur, ou je n’étais pas à l’aise.",
        "withdrawn": "Cette orientation est annulée",
        "declined": "Le Relais des Monts ne peut pas vous recevoir.",
        "expired": "Le Relais des Monts n’a pas répondu à temps.",
        "redirected": "Votre orientation a été transmise à Résidence sociale du Rhône",
        "cancelled": "inutile de vous rendre chez Le Relais des Monts",
        "no_show": "le rendez-vous n’a pas eu lieu",
        "bad_link": "Ce lien n'est pas valide.",
    },
    "en": {
        "sent": "Camille Rousset has referred you to",
        "appointment": "Your appointment",
        "went": "you told us that you went",
        "could_not_go": "Reason: I was afraid, or I did not feel comfortable.",
        "withdrawn": "This referral is cancelled",
        "declined": "Le Relais des Monts cannot see you.",
        "expired": "Le Relais des Monts did not answer in time.",
        "redirected": "Your referral was passed on to Résidence sociale du Rhône",
        "cancelled": "you do not need to go to Le Relais des Monts",
        "no_show": "the appointment did not take place",
        "bad_link": "This link is not valid.",
    },
    "ar": {
        "sent": "تم توجيهك من طرف Camille Rousset",
        "appointment": "موعدك",
        "went": "أخبرتنا بأنك ذهبت إلى هناك",
        "could_not_go": "السبب: شعرت بالخوف أو بعدم الارتياح.",
        "withdrawn": "تم إلغاء هذا التوجيه",
        "declined": "لا يمكن لـ Le Relais des Monts استقبالك.",
        "expired": "لم يصلنا رد من Le Relais des Monts في الوقت المحدد.",
        "redirected": "تمت إحالة توجيهك إلى Résidence sociale du Rhône",
        "cancelled": "لا داعي للذهاب إلى Le Relais des Monts",
        "no_show": "أن الموعد لم يتم",
        "bad_link": "هذا الرابط غير صالح.",
    },
}
BROWSER_LOCALE = {"fr": "fr-FR", "en": "en-GB", "ar": "ar-MA"}


class Journey:
    """One language's walk through the states, against a live server."""

    def __init__(self, base: str, place: Place, lang: str, page) -> None:
        self.base, self.place, self.lang, self.page = base, place, lang, page
        self.says = STATES[lang]
        self.shots = SHOTS / lang
        self.visited = 0

    def send(self) -> tuple[str, str, str]:
        body = {
            "to_structure_id": str(self.place.partner),
            "domain": "housing",
            "young_person": {
                "first_name": "Inès",
                "commune": "26362",
                "phone": "06 11 22 33 44",
                "channel": "sms",
            },
            "consent": {"given": True, "shares": ["commune"]},
            "language": self.lang,
        }
        sent = httpx.post(f"{self.base}/api/v1/referrals", json=body, headers=self.place.advisor)
        assert sent.status_code == 201, sent.text
        data = sent.json()
        return (
            data["id"],
            data["partner_link"].rsplit("/", 1)[1],
            data["young_person_link"].rsplit("/", 1)[1],
        )

    def partner(self, token: str, transition: str, **fields: str) -> None:
        answer = httpx.post(
            f"{self.base}/api/v1/links/{token}/actions", json={"transition": transition, **fields}
        )
        assert answer.status_code == 201, answer.text

    def appointment(self, token: str) -> None:
        day = (datetime.now(UTC) + timedelta(days=7)).astimezone(LOCAL_TIME).date()
        given = httpx.post(
            f"{self.base}/api/v1/links/{token}/appointment",
            json={
                "date": day.isoformat(),
                "time": "14:30",
                "place": "5 avenue de Lyon, 26000 Valence — 2e étage",
                "ask_for": "Léna Faure",
                "bring": "Un CV si vous en avez un",
            },
        )
        assert given.status_code in (200, 201), given.text

    def open(self, young: str, step: str = "") -> None:
        self.page.goto(f"{self.base}/j/{young}{step}")

    def click(self, french: str) -> None:
        """Click the button or link whose French text is `french`, in the page's language."""
        words = i18n.gettext(self.lang, french)
        self.page.locator(f"main :is(button, a):has-text('{words}')").first.click()

    def look(self, name: str, expect: str = "") -> None:
        if expect:
            assert self.says[expect] in self.page.inner_text("main"), (self.lang, name)
        html = self.page.locator("html")
        assert html.get_attribute("lang") == self.lang, name
        assert html.get_attribute("dir") == ("rtl" if self.lang == "ar" else "ltr"), name
        assert not _axe_violations(self.page), (self.lang, name)
        assert self.page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        ), (self.lang, name)
        self.visited += 1
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(
            path=str(self.shots / f"{self.visited:02d}-{name}.png"), full_page=True
        )


async def _place_with_hours() -> Place:
    """The partner opens on weekdays and welcomes without an appointment: the week's
    hours and the state now are shown in the young person's language."""
    built = await Place().build()
    await Site.update(
        {Site.opening_hours: "Mo-Fr 09:00-12:00,14:00-17:00", Site.walk_in: True}
    ).where(Site.structure == built.partner)
    return built


@pytest.fixture
def place(database_url) -> Place:
    # Built before the browser starts: Playwright's own loop then runs in this thread.
    return asyncio.run(_place_with_hours())


@pytest.mark.parametrize("lang", ["fr", "en", "ar"])
def test_young_person_in_each_language(database_url, place, browser, lang):  # noqa: F811
    with running_server(database_url) as base:
        context = browser.new_context(
            viewport={"width": 320, "height": 700}, locale=BROWSER_LOCALE[lang]
        )
        page = context.new_page()
        walk = Journey(base, place, lang, page)

        # Expired first: the deadline worker expires every referral still waiting.
        _id, _partner, young = walk.send()
        _expire_everything_waiting()
        walk.open(young)
        walk.look("expired", "expired")

        _id, partner, went = walk.send()
        walk.open(went)
        walk.look("sent", "sent")
        hours = page.inner_text("table.hours")
        monday = i18n.hours_words(lang).days[0]
        assert monday.lower() in hours.lower() and ("09:00" in hours or "9 h 00" in hours)
        walk.partner(partner, "acknowledge")
        walk.open(went)
        walk.look("acknowledged", "sent")
        walk.partner(partner, "accept")
        walk.appointment(partner)
        walk.open(went)
        walk.look("accepted-appointment", "appointment")
        walk.click("J’y suis allé·e")
        walk.look("went", "went")

        _id, partner, young = walk.send()
        walk.partner(partner, "accept")
        walk.open(young)
        walk.click("Je n’ai pas pu y aller")
        walk.look("could-not-go-why")
        walk.click("Envoyer ma réponse")  # no reason chosen: said kindly, in the language
        assert i18n.gettext(lang, "Choisissez une raison dans la liste.") in page.inner_text("main")
        walk.look("could-not-go-no-reason")
        page.check("input[value=worry]")
        page.check("input[name=call_back]")
        walk.click("Envoyer ma réponse")
        walk.look("could-not-go-answered", "could_not_go")

        _id, _partner, young = walk.send()
        walk.open(young)
        walk.click("J’ai changé d’avis")
        walk.look("withdraw-confirm")
        walk.click("Oui, annuler l’orientation")
        walk.look("withdrawn", "withdrawn")

        for name, steps in (
            ("declined", [("decline", {"reason": "no_capacity"})]),
            ("redirected", [("redirect", {"redirect_to_structure_id": str(place.third)})]),
            ("no_show", [("accept", {}), ("no_show", {})]),
        ):
            _id, partner, young = walk.send()
            for transition, fields in steps:
                walk.partner(partner, transition, **fields)
            walk.open(young)
            walk.look(name.replace("_", "-"), name)

        referral_id, _partner, young = walk.send()
        cancelled = httpx.post(
            f"{base}/api/v1/referrals/{referral_id}/actions",
            json={"transition": "cancel", "reason": "other_solution"},
            headers=place.advisor,
        )
        assert cancelled.status_code == 201, cancelled.text
        walk.open(young)
        walk.look("cancelled", "cancelled")

        # The young person switches language on their page, without script.
        _id, _partner, young = walk.send()
        walk.open(young)
        other = "fr" if lang != "fr" else "ar"
        page.click(f"header button[lang={other}]")
        assert page.locator("html").get_attribute("lang") == other
        walk.shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(walk.shots / f"switched-to-{other}.png"), full_page=True)
        assert not _axe_violations(page)
        page.click(f"header button[lang={lang}]")
        walk.look("switched-back", "sent")

        # A dead link speaks the browser's language.
        walk.open("pas-un-vrai-lien")
        walk.look("bad-link", "bad_link")
        assert walk.visited == 16
        context.close()

        # The same page on a wide screen: mirrored for Arabic, nothing stretched.
        wide = browser.new_context(
            viewport={"width": 1366, "height": 900}, locale=BROWSER_LOCALE[lang]
        )
        walk.page = wide.new_page()
        walk.open(went)
        walk.look("1366-went", "went")
        wide.close()
