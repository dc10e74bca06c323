"""Verification campaigns through HTTP, on SQLite and PostgreSQL: a coordinator starts one,
partners get an email with a personal link, confirm or correct their entry, the progress
page counts right, reminders go once, closing revokes the links; the API and the CLI."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from directory import territories
from directory.tables import Person, Site, Structure
from directory.verification import Verifier
from service.accounts.store import Role
from service.app import create_app
from service.campaigns.tables import CampaignTarget, EntryLink
from service.cli import main
from service.entry_links import digest
from service.referrals.tables import OutboxMessage
from tests import factories as f
from tests.outbox import mail_settled

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
OLD = Verifier("coordinator", "Coordination", datetime(2025, 6, 1, tzinfo=UTC))


@pytest.fixture
def settings(settings, tmp_path):
    return replace(settings, mail_outbox=tmp_path / "outbox", base_url="http://maillage.test")


def _once(html: str) -> str:
    match = re.search(r'name="_once" value="([^"]+)"', html)
    assert match, "no one-time key in the form"
    return match.group(1)


async def _post(client, page_url: str, url: str, data: dict | None = None):
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    form = {**(data or {}), "_csrf_token": f.csrf_token(page.text), "_once": _once(page.text)}
    return await client.post(url, data=form)


class Drome:
    """A territory of two communes and structures old, fresh, closed and elsewhere."""

    async def build(self, old: Verifier = OLD) -> Drome:
        self.old = old
        self.mission_locale = await f.structure("Mission Locale Valence", phone="04 75 82 11 20")
        self.territory = await territories.save(
            "Valence et Crest", ["26362", "26108"], structure_id=self.mission_locale
        )
        self.foyer = await self._old("Foyer Le Relais", "26362", email="accueil@relais.fr")
        self.epicerie = await self._old("Épicerie solidaire", "26108")
        person = await f.person(self.epicerie, "Lucie", "Bernard", email="lucie@epicerie.fr")
        await f.person(self.epicerie, "Ali", "Aaron", email="ali@epicerie.fr")
        await f.service(self.epicerie, "Colis alimentaires", by=old, contact_id=str(person))
        self.lucie = person
        self.garage = await self._old("Garage solidaire", "26362", phone="04 75 00 00 09")
        self.cafe = await self._old("Café des jeunes", "26108", email="bonjour@cafe.fr")
        await self._old("Ancienne permanence", "26362", email="x@ferme.fr", status="closed")
        await self._old("Loin d'ici", "26198", email="loin@ailleurs.fr")
        fresh = await f.structure("Tout frais", email="frais@exemple.fr")
        await f.site(fresh, "26362")
        return self

    async def _old(self, name: str, commune: str, **fields: object):
        structure_id = await f.structure(name, by=self.old, **fields)
        await f.site(
            structure_id,
            commune,
            address="1 place de la Liberté",
            opening_hours="Mo-Fr 09:00-12:00",
        )
        return structure_id


async def _mails(settings) -> list[email.message.EmailMessage]:
    await mail_settled()
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(settings.mail_outbox.glob("*.eml"))
    ]


def _link(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://maillage.test(/fiche/\S+)", text).group(1)


async def _later(client, time_machine, moment: datetime) -> None:
    """Days go by: the coordinator signs in again, as after a weekend."""
    time_machine.move_to(moment)
    await f.login(client, COORDINATOR_EMAIL)


COORDINATOR_EMAIL = "nadia.coordination@exemple.fr"


async def _start(client, drome: Drome) -> str:
    await f.user(Role.COORDINATOR, drome.mission_locale, COORDINATOR_EMAIL)
    await f.login(client, COORDINATOR_EMAIL)
    query = {
        "apercu": "1",
        "name": "Printemps 2027",
        "territory_id": str(drome.territory),
        "older_than_months": "12",
    }
    preview = await client.get("/campagnes", params=query)
    assert preview.status_code == 200
    assert "Aperçu : 4 structures" in preview.text
    assert "1 n’ont pas d’adresse" in preview.text
    for name in ("Loin d", "Tout frais", "Ancienne permanence"):
        assert name not in preview.text.split("Aperçu")[1]
    form = {"_csrf_token": f.csrf_token(preview.text), "_once": _once(preview.text), **query}
    form.pop("apercu")
    started = await client.post("/campagnes", data=form)
    assert started.status_code == 200, started.text
    return re.search(r"/campagnes/([0-9a-f-]{36})/relancer", started.text).group(1)


async def test_a_campaign_from_start_to_corrections(client, settings, time_machine):
    time_machine.move_to(START)
    drome = await Drome().build()
    campaign_id = await _start(client, drome)
    mails = await _mails(settings)
    assert sorted(m["To"] for m in mails) == [
        "accueil@relais.fr",
        "bonjour@cafe.fr",
        "lucie@epicerie.fr",
    ]
    first = mails[0].get_body(preferencelist=("plain",)).get_content()
    assert "2 minutes" in first and "orienter les jeunes" in first
    assert "rien à faire" in first and "04 75 82 11 20" in first
    links = {m["To"]: _link(m) for m in mails}
    for link in links.values():  # only hashes are stored, never the token
        token = link.split("/")[-1]
        assert len(token) >= 43
        assert await EntryLink.exists().where(EntryLink.token_hash == digest(token))
        assert not await EntryLink.exists().where(EntryLink.token_hash == token)

    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1") as partner:
        foyer = links["accueil@relais.fr"]
        confirmed = await _post(partner, foyer, f"{foyer}/a-jour")
        assert "Votre fiche est confirmée à jour" in confirmed.text
        epicerie = links["lucie@epicerie.fr"]
        site = await Site.select(Site.id).where(Site.structure == drome.epicerie)
        url = f"{epicerie}/lieux/{site[0]['id']}"
        hours = {
            "address": "1 place de la Liberté",
            "commune": "26108",
            "opening_hours": "Mo-Fr 14:00-18:00",
        }
        assert (await _post(partner, url, url, hours)).status_code == 200
        departure = f"{epicerie}/personnes/{drome.lucie}/depart"
        asked = await partner.get(departure)
        select = re.search(r'<select id="([^"]+)" name="\1"', asked.text).group(1)
        nobody = {"_departure": "1", select: "none"}  # "Personne pour l'instant"
        left = await _post(partner, departure, departure, nobody)
        assert "A quitté la structure" in left.text
        assert (await partner.get(links["bonjour@cafe.fr"])).status_code == 200  # only looks
    assert (await Site.select(Site.opening_hours).where(Site.id == site[0]["id"]))[0][
        "opening_hours"
    ] == "Mo-Fr 14:00-18:00"
    assert not (await Person.select(Person.active).where(Person.id == drome.lucie))[0]["active"]

    page = await client.get(f"/campagnes/{campaign_id}")
    text = re.sub(r"\s+", " ", page.text)
    assert "2 structures sur 4 ont répondu (50 %)" in text
    for label, count in (
        ("Courriels envoyés", 3),
        ("Rien n’a changé", 1),
        ("Fiche corrigée", 1),
        ("Pas encore de réponse", 1),
        ("Courriel non distribué", 0),
        ("Sans courriel", 1),
    ):
        assert f"<dt>{label}</dt><dd>{count}</dd>" in text, label
    call = text.split("À appeler")[1].split("Toutes les structures")[0]
    assert "Garage solidaire" in call and 'href="tel:+33475000009"' in call
    assert "Café des jeunes" not in call
    assert "a ouvert le lien, sans répondre" in text.split("Toutes les structures")[1]
    lost = text.split("Sans contact depuis un départ (1)")[1].split("Toutes les structures")[0]
    assert "Épicerie solidaire" in lost and "« Colis alimentaires » : Lucie Bernard" in lost

    # Reminders: none before 7 days; once on the 8th day, however often one clicks.
    assert (
        "Personne à relancer"
        in (
            await _post(client, f"/campagnes/{campaign_id}", f"/campagnes/{campaign_id}/relancer")
        ).text
    )
    await _later(client, time_machine, START + timedelta(days=8))
    once = await _post(client, f"/campagnes/{campaign_id}", f"/campagnes/{campaign_id}/relancer")
    assert "1 relance envoyée" in once.text
    twice = await _post(client, f"/campagnes/{campaign_id}", f"/campagnes/{campaign_id}/relancer")
    assert "Personne à relancer" in twice.text
    await _later(client, time_machine, START + timedelta(days=16))
    await _post(client, f"/campagnes/{campaign_id}", f"/campagnes/{campaign_id}/relancer")
    await _later(client, time_machine, START + timedelta(days=24))
    third = await _post(client, f"/campagnes/{campaign_id}", f"/campagnes/{campaign_id}/relancer")
    assert "Personne à relancer" in third.text  # two reminders at most
    to_cafe = [m for m in await _mails(settings) if m["To"] == "bonjour@cafe.fr"]
    assert [m["Subject"].startswith("Rappel") for m in to_cafe] == [False, True, True]
    page = await client.get(f"/campagnes/{campaign_id}")
    assert "Café des jeunes" in page.text.split("À appeler")[1].split("Toutes les structures")[0]

    # Closing revokes every link of the campaign, the reminders' too.
    closed = await _post(client, f"/campagnes/{campaign_id}", f"/campagnes/{campaign_id}/clore")
    assert "Campagne close" in closed.text
    for message in await _mails(settings):
        assert (await client.get(_link(message))).status_code == 404


async def test_a_bounced_mail_puts_the_structure_on_the_list_to_call(
    client, settings, time_machine
):
    time_machine.move_to(START)
    drome = await Drome().build()
    campaign_id = await _start(client, drome)
    await mail_settled()
    # What the courier records when the SMTP server refuses an address for good.
    key = f"campaign:{campaign_id}:{drome.foyer}:0"
    await OutboxMessage.update({OutboxMessage.given_up_at: START}).where(OutboxMessage.key == key)
    page = re.sub(r"\s+", " ", (await client.get(f"/campagnes/{campaign_id}")).text)
    assert "<dt>Courriel non distribué</dt><dd>1</dd>" in page
    assert "Foyer Le Relais" in page.split("À appeler")[1].split("Toutes les structures")[0]
    await _later(client, time_machine, START + timedelta(days=8))
    response = await _post(
        client, f"/campagnes/{campaign_id}", f"/campagnes/{campaign_id}/relancer"
    )
    # The épicerie and the café: no reminder to an address that bounced.
    assert "2 relances envoyées" in response.text
    assert not await OutboxMessage.exists().where(OutboxMessage.key == key[:-1] + "1")


async def test_starting_twice_mails_nobody_twice(client, settings, time_machine):
    time_machine.move_to(START)
    drome = await Drome().build()
    headers = await f.api_client_headers(Role.COORDINATOR, of=drome.mission_locale)
    body = {"name": "Printemps 2027", "territory_id": str(drome.territory)}
    first = await client.post("/api/v1/campaigns", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["counts"]["sent"] == 3
    again = await client.post("/api/v1/campaigns", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert await OutboxMessage.count() == 3
    assert await CampaignTarget.count() == 4
    # A structure that became stale joins the campaign on the next run, alone.
    await Structure.update({Structure.verified_at: OLD.at}).where(Structure.name == "Tout frais")
    third = await client.post("/api/v1/campaigns", json=body, headers=headers)
    assert third.json()["counts"]["targets"] == 5 and await OutboxMessage.count() == 4


async def test_the_api_for_coordinators_only(client, settings, time_machine):
    time_machine.move_to(START)
    drome = await Drome().build()
    coordinator = await f.api_client_headers(Role.COORDINATOR, of=drome.mission_locale)
    advisor = await f.api_client_headers(Role.ADVISOR, of=drome.mission_locale)
    body = {"name": "Printemps 2027", "territory_id": str(drome.territory)}
    assert (await client.post("/api/v1/campaigns", json=body, headers=advisor)).status_code == 403
    assert (await client.get("/api/v1/campaigns", headers=advisor)).status_code == 403
    bad = await client.post(
        "/api/v1/campaigns",
        json={
            "name": " ",
            "older_than_months": 0,
            "territory_id": str(drome.territory),
            "structure_ids": [str(drome.foyer)],
        },
        headers=coordinator,
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"name", "older_than_months", "territory_id"}
    selection = {"name": "Deux structures", "structure_ids": [str(drome.foyer), str(drome.garage)]}
    created = await client.post("/api/v1/campaigns", json=selection, headers=coordinator)
    assert created.status_code == 201
    campaign = created.json()
    assert campaign["scope"] == "sélection de 2 structures"
    assert {t["name"]: t["state"] for t in campaign["targets"]} == {
        "Foyer Le Relais": "pas encore de réponse",
        "Garage solidaire": "sans courriel — à appeler",
    }
    listed = await client.get("/api/v1/campaigns", headers=coordinator)
    assert [c["id"] for c in listed.json()] == [campaign["id"]]
    detail = await client.get(f"/api/v1/campaigns/{campaign['id']}", headers=coordinator)
    assert detail.json()["counts"]["to_call"] == 1
    assert detail.json()["lost_contacts"] == []
    # Lucie left without anyone named for her service: the campaign says so.
    await Person.update({Person.active: False}).where(Person.id == drome.lucie)
    epicerie = {"name": "Épicerie", "structure_ids": [str(drome.epicerie)]}
    created = await client.post("/api/v1/campaigns", json=epicerie, headers=coordinator)
    lost = created.json()["lost_contacts"]
    assert [(x["kind"], x["what"], x["person_name"]) for x in lost] == [
        ("service", "Colis alimentaires", "Lucie Bernard")
    ]
    reminded = await client.post(
        f"/api/v1/campaigns/{campaign['id']}/reminders", headers=coordinator
    )
    assert reminded.json() == {"reminders_sent": 0}
    assert (
        await client.post(f"/api/v1/campaigns/{campaign['id']}/reminders", headers=advisor)
    ).status_code == 403
    closed = await client.post(f"/api/v1/campaigns/{campaign['id']}/close", headers=coordinator)
    assert closed.json() == {"links_revoked": 1}
    after = await client.post(f"/api/v1/campaigns/{campaign['id']}/reminders", headers=coordinator)
    assert after.status_code == 409
    assert (
        await client.get(
            "/api/v1/campaigns/00000000-0000-0000-0000-000000000000", headers=coordinator
        )
    ).status_code == 404


async def test_the_pages_are_for_coordinators_only(client, time_machine):
    time_machine.move_to(START)
    drome = await Drome().build()
    await f.logged_in(client, Role.ADVISOR, of=drome.mission_locale)
    assert (await client.get("/campagnes")).status_code == 403
    assert 'href="/campagnes"' not in (await client.get("/structures")).text


@pytest.mark.dated
def test_the_cli_starts_reminds_and_tells_the_counts(database_url, tmp_path):
    # Whatever the day the suite runs on, these entries are two years old.
    two_years_ago = Verifier("coordinator", "Coordination", datetime.now(UTC) - timedelta(days=730))
    drome = asyncio.run(Drome().build(two_years_ago))
    runner = CliRunner(env={"MAILLAGE_MAIL_OUTBOX": str(tmp_path)})
    args = ["--database-url", database_url, "verify"]
    started = runner.invoke(
        main,
        [
            *args,
            "start",
            "--territory",
            "Valence et Crest",
            "--older-than",
            "12",
            "--name",
            "Printemps",
        ],
    )
    assert started.exit_code == 0, started.output
    assert "Campagne lancée" in started.output
    mails = list(tmp_path.glob("*.eml"))
    assert len(mails) == 3  # sent at once
    # Started from the command line: the partner is told to call the territory's Mission Locale.
    text = email.message_from_bytes(mails[0].read_bytes(), policy=email.policy.default)
    body = text.get_body(preferencelist=("plain",)).get_content()
    assert "Contactez Mission Locale Valence au 04 75 82 11 20" in body
    assert "4 structures : 3 courriels envoyés" in started.output
    campaign_id = re.search(r"[0-9a-f-]{36}", started.output).group(0)
    again = runner.invoke(
        main,
        [
            *args,
            "start",
            "--territory",
            str(drome.territory),
            "--older-than",
            "12",
            "--name",
            "Printemps",
        ],
    )
    assert "déjà en cours" in again.output and "3 courriels envoyés" in again.output
    reminded = runner.invoke(main, [*args, "remind", campaign_id])
    assert reminded.exit_code == 0 and "0 relance(s)" in reminded.output
    status = runner.invoke(main, [*args, "status", campaign_id])
    assert "À appeler : Garage solidaire" in status.output
    unknown = runner.invoke(main, [*args, "start", "--territory", "Nulle part", "--name", "X"])
    assert unknown.exit_code == 1 and "Territoire introuvable" in unknown.output


async def test_a_bad_campaign_form_says_what_is_wrong_and_starts_nothing(client, time_machine):
    time_machine.move_to(START)
    drome = await Drome().build()
    await f.logged_in(client, Role.COORDINATOR, of=drome.mission_locale)
    preview = await client.get(
        "/campagnes", params={"apercu": "1", "name": "", "older_than_months": "douze"}
    )
    assert preview.status_code == 400 and "Un nombre entier de mois" in preview.text
    both = {
        "name": "X",
        "territory_id": str(drome.territory),
        "structure_ids": str(drome.foyer),
        "older_than_months": "12",
    }
    with_form = f"/campagnes?apercu=1&name=Y&territory_id={drome.territory}"
    refused = await _post(client, with_form, "/campagnes", both)
    assert refused.status_code == 400
    assert "Choisissez un territoire, ou une sélection de structures" in refused.text
    assert await CampaignTarget.count() == 0 and await OutboxMessage.count() == 0
    selection = {**both, "territory_id": ""}
    started = await _post(client, with_form, "/campagnes", selection)
    assert started.status_code == 200 and "Sélection de 1 structure" in started.text


async def test_after_its_end_a_campaign_reminds_nobody_and_its_links_have_expired(
    client, settings, time_machine
):
    time_machine.move_to(START)
    drome = await Drome().build()
    campaign_id = await _start(client, drome)
    links = [_link(m) for m in await _mails(settings)]
    await _later(client, time_machine, START + timedelta(days=50))
    reminded = await _post(
        client, f"/campagnes/{campaign_id}", f"/campagnes/{campaign_id}/relancer"
    )
    assert "3 relances envoyées" in reminded.text
    reminder_links = [_link(m) for m in await _mails(settings)]
    await _later(client, time_machine, START + timedelta(days=61))
    page = await client.get(f"/campagnes/{campaign_id}")
    assert "arrivée à son terme" in page.text and ">Relancer<" not in page.text
    headers = await f.api_client_headers(Role.COORDINATOR)
    late = await client.post(f"/api/v1/campaigns/{campaign_id}/reminders", headers=headers)
    assert late.status_code == 409
    for link in {*links, *reminder_links}:  # the reminders' links end with the campaign too
        assert (await client.get(link)).status_code == 404


async def test_identical_starts_sent_together_make_one_campaign(client, settings, time_machine):
    time_machine.move_to(START)
    drome = await Drome().build()
    headers = await f.api_client_headers(Role.COORDINATOR, of=drome.mission_locale)
    body = {"name": "Printemps 2027", "territory_id": str(drome.territory)}
    answers = await asyncio.gather(
        *(client.post("/api/v1/campaigns", json=body, headers=headers) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert await OutboxMessage.count() == 3
