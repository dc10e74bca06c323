"""Referral activity through HTTP on both engines: referrals sent and answered through the
real API at fixed moments, then the page, the JSON, the CSV exports, the filters, clear
400s and who may see what."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from directory.territories import save as save_territory
from service.accounts.store import Role
from service.referrals.exchange import Rules
from service.referrals.reminders import run_reminders
from tests import factories as f

PARIS = ZoneInfo("Europe/Paris")
PERIOD = {"du": "2026-01", "au": "2026-03"}


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, mail_outbox=tmp_path / "outbox", base_url="http://maillage.test")


def _at(time_machine, *parts: int) -> None:
    time_machine.move_to(datetime(*parts, tzinfo=PARIS), tick=False)


class Story:
    """A Mission Locale whose advisor sends seven referrals in the first quarter of 2026 (one
    redirected, which makes an eighth),
    and another Mission Locale that sends one the coordinator must not see."""

    async def send(self, client, to, young: dict | str, domain: str = "housing") -> dict:
        body = {
            "to_structure_id": str(to),
            "domain": domain,
            "message": "Besoin d'un coup de main.",
            "consent": {"given": True, "shares": ["age", "commune", "message"]},
        }
        if isinstance(young, str):
            body["young_person_id"] = young
        else:
            body["young_person"] = {"first_name": young["name"], "commune": young["commune"]}
        response = await client.post("/api/v1/referrals", json=body, headers=self.advisor)
        assert response.status_code == 201, response.text
        sent = response.json()
        sent["token"] = sent["partner_link"].rsplit("/", 1)[1]
        read = await client.get(f"/api/v1/referrals/{sent['id']}", headers=self.advisor)
        sent["young_person_id"] = read.json()["young_person_id"]
        return sent

    async def partner(self, client, sent: dict, transition: str, **fields) -> dict:
        response = await client.post(
            f"/api/v1/links/{sent['token']}/actions", json={"transition": transition, **fields}
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def build(self, client, tm) -> Story:
        _at(tm, 2026, 1, 5, 9)
        self.ml = await f.structure("Mission Locale Valence")
        self.advisor = await f.api_client_headers(Role.ADVISOR, of=self.ml)
        self.coordinator = await f.api_client_headers(Role.COORDINATOR, of=self.ml)
        self.admin = await f.api_client_headers(Role.ADMIN)
        self.foyer = await f.structure("Foyer Jeunes Travailleurs", email="fjt@exemple.fr")
        self.cidff = await f.structure("CIDFF Drôme", email="cidff@exemple.fr")
        self.zebre = await f.structure("Zèbre Mobilité", email="zebre@exemple.fr")
        self.other_ml = await f.structure("=Mission Locale Autre")
        self.territory = await save_territory("Valence", ["26362"], None, self.ml)
        self.other_territory = await save_territory("Ailleurs", ["26058"], None, self.other_ml)
        valence, romans = "26362", "26281"

        _at(tm, 2026, 1, 10, 10)
        r1 = await self.send(client, self.foyer, {"name": "Yanis", "commune": valence})
        _at(tm, 2026, 1, 12, 10)
        await self.partner(client, r1, "accept")
        _at(tm, 2026, 1, 20, 10)
        await self.partner(client, r1, "take_in")
        # Nobody will ever answer Sam's referral.
        _at(tm, 2026, 1, 15, 10)
        await self.send(client, self.foyer, {"name": "Sam", "commune": valence})
        # 23:30 in Paris on 31 January: still January.
        _at(tm, 2026, 1, 31, 23, 30)
        r2 = await self.send(client, self.cidff, {"name": "Inès", "commune": "26058"}, "rights")
        _at(tm, 2026, 2, 3, 10)
        await self.partner(client, r2, "decline", reason="not_eligible")
        # 00:30 in Paris on 1 February is 23:30 UTC on 31 January: February.
        _at(tm, 2026, 2, 1, 0, 30)
        r3 = await self.send(client, self.foyer, {"name": "Adam", "commune": valence})
        _at(tm, 2026, 2, 4, 10)
        await self.partner(client, r3, "decline", reason="no_capacity")
        _at(tm, 2026, 2, 10, 10)
        r4 = await self.send(client, self.cidff, r3["young_person_id"])
        _at(tm, 2026, 2, 11, 10)
        # The redirection makes a fifth referral, to the Zèbre: Adam's third in 90 days.
        await self.partner(client, r4, "redirect", redirect_to_structure_id=str(self.zebre))
        _at(tm, 2026, 2, 15, 10)
        r6 = await self.send(client, self.foyer, {"name": "Lina", "commune": valence}, "mobility")
        _at(tm, 2026, 2, 16, 10)
        withdraw = await client.post(
            f"/api/v1/referrals/{r6['id']}/actions",
            json={"transition": "withdraw"},
            headers=self.advisor,
        )
        assert withdraw.status_code in (200, 201), withdraw.text
        _at(tm, 2026, 3, 2, 10)
        r7 = await self.send(client, self.zebre, {"name": "Tom", "commune": romans}, "mobility")
        _at(tm, 2026, 3, 3, 10)
        await self.partner(client, r7, "accept")
        _at(tm, 2026, 3, 10, 10)
        await self.partner(client, r7, "no_show")
        _at(tm, 2026, 3, 5, 10)
        # Another Mission Locale's referral, that only an administrator sees.
        other_advisor = await f.api_client_headers(Role.ADVISOR, of=self.other_ml)
        response = await client.post(
            "/api/v1/referrals",
            json={
                "to_structure_id": str(self.zebre),
                "domain": "health",
                "message": "Autre",
                "young_person": {"first_name": "Zoé", "commune": "26058"},
                "consent": {"given": True, "shares": ["age"]},
            },
            headers=other_advisor,
        )
        assert response.status_code == 201, response.text
        # Weeks later, Sam's referral has expired; Adam's redirected one still waits.
        report = await run_reminders(Rules(), now=datetime(2026, 3, 10, 12, tzinfo=PARIS))
        assert report.expired == 1
        _at(tm, 2026, 4, 1, 10)
        return self


@pytest.fixture
async def story(client, time_machine) -> Story:
    return await Story().build(client, time_machine)


async def _activity(client, headers, **params) -> dict:
    response = await client.get("/api/v1/activite", params={**PERIOD, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_counts_equal_what_was_sent_and_answered(client, story):
    data = await _activity(client, story.coordinator)
    assert data["totaux"] == {
        "orientations": 8,
        "acceptees": 2,
        "refusees": 2,
        "reorientees": 1,
        "expirees": 1,
        "sans_reponse": 1,
    }
    tables = data["tableaux"]
    assert [(r["mois"], r["orientations"]) for r in tables["mois"]["lignes"]] == [
        ("janvier 2026", 3),
        ("février 2026", 4),
        ("mars 2026", 1),
    ]
    outcomes = {r["resultat"]: r["orientations"] for r in tables["resultats"]["lignes"]}
    assert outcomes["Jeune pris·e en charge"] == 1
    assert outcomes["Jeune non venu·e au rendez-vous"] == 1
    assert outcomes["Consentement retiré par le jeune"] == 1
    assert outcomes["Expirée sans réponse"] == 1
    assert outcomes["Réorientée vers une autre structure"] == 1
    assert outcomes["Refusée"] == 2
    assert sum(outcomes.values()) == 8
    assert {r["motif"]: r["refus"] for r in tables["motifs"]["lignes"]} == {
        "Le jeune ne correspond pas aux critères du service": 1,
        "Plus de place ou de créneau disponible": 1,
    }
    assert [(r["domaine"], r["orientations"]) for r in tables["domaines"]["lignes"]] == [
        ("Logement", 5),
        ("Accès aux droits", 1),
        ("Mobilité", 2),
    ]
    # By name, never by volume: the Foyer received the most and comes second.
    assert [(r["partenaire"], r["orientations"]) for r in tables["partenaires"]["lignes"]] == [
        ("CIDFF Drôme", 2),
        ("Foyer Jeunes Travailleurs", 4),
        ("Zèbre Mobilité", 2),
    ]
    assert [(r["structure"], r["orientations"]) for r in tables["structures"]["lignes"]] == [
        ("Mission Locale Valence", 8)
    ]
    # Adam's third referral in 90 days, none accepted: February.
    assert [r["jeunes_en_errance"] for r in tables["errance"]["lignes"]] == [0, 1, 0]
    assert data["jeunes_en_errance"] == 1
    answer = data["delais"]["reponse"]
    assert answer["orientations"] == 8 and answer["evenements"] == 5
    assert "sans réponse" in data["delais"]["explication"]


async def test_filters_by_period_and_territory(client, story):
    february = await _activity(client, story.coordinator, du="2026-02", au="2026-02")
    assert february["totaux"]["orientations"] == 4
    valence = await _activity(client, story.coordinator, territoire=str(story.territory))
    # Inès lives outside Valence, Tom in Romans-sur-Isère.
    assert valence["totaux"]["orientations"] == 6
    assert valence["territoire"] == {"id": str(story.territory), "nom": "Valence"}
    everyone = await _activity(client, story.admin)
    assert everyone["totaux"]["orientations"] == 9


async def test_csv_export_per_table(client, story):
    response = await client.get(
        "/api/v1/activite/partenaires.csv", params=PERIOD, headers=story.coordinator
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "activite-partenaires-2026-01_2026-03.csv" in response.headers["content-disposition"]
    lines = response.text.splitlines()
    assert lines[0].startswith("partenaire,orientations,acceptees,refusees")
    assert [line.split(",")[0] for line in lines[1:]] == [
        "CIDFF Drôme",
        "Foyer Jeunes Travailleurs",
        "Zèbre Mobilité",
    ]
    # A name a spreadsheet would run as a formula is written as text.
    senders = await client.get(
        "/api/v1/activite/structures.csv", params=PERIOD, headers=story.admin
    )
    assert "'=Mission Locale Autre" in senders.text
    months = await client.get("/api/v1/activite/mois.csv", params=PERIOD, headers=story.admin)
    assert months.text.splitlines()[1].startswith("janvier 2026,3,")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"du": "2026-13"}, "du"),
        ({"du": "janvier"}, "du"),
        ({"au": "2026-1"}, "au"),
        ({"du": "2026-05", "au": "2026-02"}, "au"),
        ({"du": "2020-01", "au": "2026-01"}, "du"),
        ({"territoire": "pas-un-identifiant"}, "territoire"),
    ],
)
async def test_bad_filters_get_a_400_naming_the_parameter(client, database_url, params, field):
    ml = await f.structure("Mission Locale")
    headers = await f.api_client_headers(Role.COORDINATOR, of=ml)
    for path in ("/api/v1/activite", "/api/v1/activite/mois.csv"):
        response = await client.get(path, params=params, headers=headers)
        assert response.status_code == 400, response.text
        assert list(response.json()["errors"]) == [field]
    await f.logged_in(client, Role.COORDINATOR, of=ml)
    page = await client.get("/activite", params=params)
    assert page.status_code == 400
    assert field in page.text


async def test_unknown_table_and_territory_are_404(client, story):
    response = await client.get("/api/v1/activite/classement.csv", headers=story.coordinator)
    assert response.status_code == 404
    response = await client.get(
        "/api/v1/activite",
        params={"territoire": "00000000-0000-0000-0000-000000000000"},
        headers=story.coordinator,
    )
    assert response.status_code == 404


async def test_who_may_see_the_activity(client, story):
    for headers in (story.advisor, await f.api_client_headers(Role.ADVISOR, of=story.foyer)):
        assert (await client.get("/api/v1/activite", headers=headers)).status_code == 403
        assert (await client.get("/api/v1/activite/mois.csv", headers=headers)).status_code == 403
    # A coordinator may not look through another structure's territory.
    response = await client.get(
        "/api/v1/activite",
        params={"territoire": str(story.other_territory)},
        headers=story.coordinator,
    )
    assert response.status_code == 403
    await f.logged_in(client, Role.ADVISOR, of=story.ml)
    page = await client.get("/activite")
    assert page.status_code == 403
    assert 'href="/activite"' not in page.text


async def test_the_page_shows_tables_charts_and_french_numbers(client, story):
    await f.logged_in(client, Role.COORDINATOR, of=story.ml)
    response = await client.get("/activite", params=PERIOD)
    assert response.status_code == 200, response.text
    html = response.text
    assert '<a href="/activite">Activité des orientations</a>' in html
    assert "de janvier 2026 à mars 2026" in html
    assert html.count('role="img"') == 5
    assert html.count("<table") == 7
    assert "Foyer Jeunes Travailleurs" in html
    assert html.index("CIDFF Drôme") < html.index("Foyer Jeunes Travailleurs")
    # Each partner leads to its record, the wandering alerts to the young people concerned.
    assert f'<a href="/structures/{story.foyer}">Foyer Jeunes Travailleurs</a>' in html
    assert '<a href="/orientations">' in html
    assert "en comptant les demandes encore sans réponse" in html
    assert "/api/v1/activite/mois.csv?du=2026-01&amp;au=2026-03" in html
    # The page's CSV links open with the browser's session.
    csv = await client.get("/api/v1/activite/mois.csv", params=PERIOD)
    assert csv.status_code == 200 and csv.text.startswith("mois,orientations,")
    # The territory of the coordinator's structure is offered; the other one is not.
    assert "Valence" in html and "Ailleurs" not in html
    assert "<script" not in html and 'style="' not in html
