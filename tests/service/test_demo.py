"""The demo territory, loaded through the importers a coordinator uses and through the
command line, on SQLite and PostgreSQL: a plausible Drôme mesh with conventions, dated from
the loading day, deterministic, loaded once."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from click.testing import CliRunner
from data_inclusion.schema import v1

from conventions.tables import Convention, ConventionParty
from directory.errors import Invalid
from directory.gazetteer import load_gazetteer
from directory.schemas import STRUCTURE_KINDS
from directory.tables import Person, Relationship, Service, ServiceKey, Site, Structure
from directory.vocabulary import Domain, Level
from graph.analyses import ONLY_ACTIVE_PERSON, ONLY_CONTACT, ONLY_REFERENT
from service import cli
from service.accounts.store import Role, authenticate, create_user
from service.accounts.tables import User
from service.demo import (
    ACCOUNTS,
    DATA,
    EMAIL_DOMAIN,
    FJT_VALENCE,
    ML_VALENCE,
    PASSWORD,
    SOURCE,
    load_demo,
)
from service.network import report as network_report
from service.referrals.tables import (
    AccessLink,
    Consent,
    OutboxMessage,
    Referral,
    ReferralEvent,
    YoungPerson,
)
from tests import factories as f

# Reads the clock: .ci/run also runs it at fixed awkward dates.
pytestmark = pytest.mark.dated

DAY = date(2026, 3, 2)
PARIS = ZoneInfo("Europe/Paris")
NOON = datetime(2026, 3, 2, 12, 0, tzinfo=PARIS)


async def _counts() -> dict[str, int]:
    return {
        "structures": await Structure.count(),
        "sites": await Site.count(),
        "services": await Service.count(),
        "people": await Person.count(),
        "relationships": await Relationship.count(),
        "conventions": await Convention.count(),
        "users": await User.count(),
    }


async def _snapshot() -> dict[str, list]:
    """Everything the demo wrote, by names instead of generated ids."""
    people = {
        p["id"]: f"{p['first_name']} {p['last_name']}"
        for p in await Person.select(Person.id, Person.first_name, Person.last_name)
    }
    structures = await Structure.select(
        Structure.name,
        Structure.kind,
        Structure.network,
        Structure.email,
        Structure.phone,
        Structure.status,
        Structure.verified_by_kind,
        Structure.verified_by,
    )
    sites = await Site.select(
        Site.structure.name,
        Site.name,
        Site.address,
        Site.commune,
        Site.postcode,
        Site.opening_hours,
        Site.walk_in,
    )
    services = await Service.select(
        Service.structure.name,
        Service.name,
        Service.domains,
        Service.thematiques,
        Service.publics,
        Service.zone,
        Service.on_site,
        Service.remote,
        Service.unconditional,
        Service.site.commune,
        Service.contact,
    )
    for service in services:
        service["contact"] = people.get(service["contact"])
    persons = await Person.select(
        Person.structure.name,
        Person.first_name,
        Person.last_name,
        Person.role,
        Person.email,
        Person.phone,
        Person.preferred_channel,
        Person.active,
        Person.left_on,
    )
    relationships = await Relationship.select(
        Relationship.source.name,
        Relationship.target_structure.name,
        Relationship.target_person,
        Relationship.level,
        Relationship.kind,
        Relationship.since,
        Relationship.note,
    )
    for relationship in relationships:
        relationship["target_person"] = people.get(relationship["target_person"])
    users = await User.select(User.email, User.name, User.role, User.structure.name)
    conventions = await ConventionParty.select(
        ConventionParty.convention.title,
        ConventionParty.convention.level,
        ConventionParty.convention.signed_on,
        ConventionParty.convention.ends_on,
        ConventionParty.convention.terminated_on,
        ConventionParty.structure.name,
        ConventionParty.referent.last_name,
    )

    def rows(items: list[dict]) -> list:
        return sorted(repr(sorted(item.items())) for item in items)

    return {
        "structures": rows(structures),
        "sites": rows(sites),
        "services": rows(services),
        "people": rows(persons),
        "relationships": rows(relationships),
        "users": rows(users),
        "conventions": rows(conventions),
    }


async def _names() -> list[str]:
    return sorted(await Structure.select(Structure.name).output(as_list=True))


async def _erase() -> None:
    referral_tables = (AccessLink, OutboxMessage, ReferralEvent, Consent, Referral, YoungPerson)
    for table in (
        *referral_tables,
        User,
        ConventionParty,
        Convention,
        Relationship,
        ServiceKey,
        Service,
        Person,
        Site,
        Structure,
    ):
        await table.delete(force=True)


async def test_demo_is_a_plausible_drome_territory(database_url: str, time_machine) -> None:
    time_machine.move_to(NOON)
    report = await load_demo()

    assert not report.already_loaded
    # The demo's referrals are history: no email of theirs waits to go out.
    assert await OutboxMessage.count() == 0
    assert 130 <= report.structures <= 170
    assert report.users == len(ACCOUNTS) == 4
    assert await _counts() == {
        "structures": report.structures,
        "sites": report.sites,
        "services": report.services,
        "people": report.people,
        "relationships": report.relationships,
        "conventions": report.conventions,
        "users": report.users,
    }

    structures = await Structure.select(
        Structure.id, Structure.name, Structure.kind, Structure.network
    )
    assert {s["kind"] for s in structures} == set(STRUCTURE_KINDS)
    networks = Counter(s["network"] for s in structures)
    assert 2 <= networks["mission-locale"] <= 3
    for network in ("france-travail", "ccas-cias", "residences-fjt", "cmp", "csapa", "cidff"):
        assert networks[network] >= 1, network
    assert networks["points-justice"] >= 1 and networks["communes"] >= 2

    # Every site is on a real commune of the Drôme; larger towns hold more structures, but
    # small communes have some too.
    gazetteer = load_gazetteer()
    sites = await Site.select(Site.structure, Site.commune, Site.opening_hours, Site.walk_in)
    communes = [gazetteer.get(s["commune"]) for s in sites]
    assert all(c is not None and c.departement == "26" for c in communes)
    per_commune = Counter(c.name for c in communes if c)
    assert per_commune.most_common(1)[0][0] == "Valence"
    assert sum(1 for c in communes if c and c.population < 2000) >= 10
    assert sum(bool(s["opening_hours"]) for s in sites) > 0.8 * len(sites)
    assert any(s["walk_in"] for s in sites) and not all(s["walk_in"] for s in sites)

    # 1-3 sites and services, 1-10 people per structure.
    services = await Service.select()
    people = await Person.select()
    for rows, most in ((sites, 3), (services, 3), (people, 10)):
        per_structure = Counter(r["structure"] for r in rows)
        assert set(per_structure) == {s["id"] for s in structures}
        assert max(per_structure.values()) <= most

    # Services cover the eleven domains and speak data·inclusion.
    assert {d for s in services for d in s["domains"]} == {d.value for d in Domain}
    assert all(s["thematiques"] for s in services)
    assert sum("jeunes" in s["publics"] for s in services) > 0.7 * len(services)
    assert any(s["remote"] and not s["on_site"] for s in services)
    assert any(s["unconditional"] for s in services)
    assert any(not s["unconditional"] for s in services)
    assert all(s["contact"] is not None for s in services)
    zone_kinds = {gazetteer.zone_kind(code) for s in services for code in s["zone"]}
    assert zone_kinds == {"commune", "epci", "departement", "france"}

    # Fictional people, reachable the way the forms accept.
    assert all(p["email"].endswith("@" + EMAIL_DOMAIN) for p in people)
    phones = [p["phone"] for p in people if p["phone"]]
    assert len(phones) > len(people) / 2
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(n)) for n in phones)
    assert {n[:4] for n in phones} >= {"+334", "+336"}
    departed = [p for p in people if not p["active"]]
    assert len(departed) >= 3
    assert all(p["left_on"] is not None and p["left_on"] < DAY for p in departed)
    assert all(p["left_on"] is None for p in people if p["active"])

    # The mesh: three levels, person ties, isolated structures, one-person partnerships.
    relationships = await Relationship.select()
    assert {r["level"] for r in relationships} == {level.value for level in Level}
    levels = Counter(r["level"] for r in relationships)
    assert levels["operational"] > levels["organisational"] > 0
    to_people = [r for r in relationships if r["target_person"] is not None]
    assert len(to_people) >= 5
    departed_ids = {p["id"] for p in departed}
    assert any(r["target_person"] in departed_ids for r in to_people)
    structure_of = {p["id"]: p["structure"] for p in people}
    tied = {r["source"] for r in relationships}
    tied |= {r["target_structure"] for r in relationships}
    tied |= {structure_of[r["target_person"]] for r in to_people}
    isolated = [s for s in structures if s["id"] not in tied]
    assert 5 <= len(isolated) <= 20
    active_people = Counter(p["structure"] for p in people if p["active"])
    assert sum(1 for s in structures if s["id"] in tied and active_people[s["id"]] == 1) >= 5

    # The demo accounts log in with the documented password.
    names = {s["id"]: s["name"] for s in structures}
    for account in ACCOUNTS:
        actor = await authenticate(account.email, PASSWORD)
        assert actor is not None, account.email
        assert actor.role == account.role
        assert (names[actor.structure_id] if actor.structure_id else "") == account.structure
    assert {a.role for a in ACCOUNTS} == set(Role)
    assert await authenticate(ACCOUNTS[0].email, "not-the-password") is None
    assert {a.structure for a in ACCOUNTS} >= {ML_VALENCE, FJT_VALENCE}

    text = report.describe()
    assert PASSWORD in text
    assert all(account.email in text for account in ACCOUNTS)

    # A second load writes nothing and says so.
    again = await load_demo()
    assert again.already_loaded
    assert (again.structures, again.people, again.relationships, again.users) == (0, 0, 0, 0)
    assert "déjà chargée" in again.describe()
    assert PASSWORD in again.describe()
    assert await _counts() == {
        "structures": report.structures,
        "sites": report.sites,
        "services": report.services,
        "people": report.people,
        "relationships": report.relationships,
        "conventions": report.conventions,
        "users": report.users,
    }


async def test_demo_is_deterministic(database_url: str, time_machine) -> None:
    time_machine.move_to(NOON)
    await load_demo()
    first = await _snapshot()
    await _erase()
    assert (await _counts())["structures"] == 0
    await load_demo()
    second = await _snapshot()
    assert second == first
    shipped = json.loads((DATA / "di" / "structures.json").read_text(encoding="utf-8"))
    assert len(first["structures"]) == len(shipped)


async def test_a_failed_load_writes_nothing(database_url: str) -> None:
    # An account that collides with a demo one stops the load at its very end.
    await create_user(ACCOUNTS[-1].email, "Quelqu'un d'autre", "un-autre-mot-de-passe")
    with pytest.raises(Invalid):
        await load_demo()
    counts = await _counts()
    assert counts == {
        "structures": 0,
        "sites": 0,
        "services": 0,
        "people": 0,
        "relationships": 0,
        "conventions": 0,
        "users": 1,
    }


def test_cli_demo_loads_once(database_url: str) -> None:
    runner = CliRunner()
    first = runner.invoke(cli.main, ["--database-url", database_url, "demo"])
    assert first.exit_code == 0, first.output
    assert "Démonstration chargée" in first.output
    assert PASSWORD in first.output
    assert all(account.email in first.output for account in ACCOUNTS)
    counts = asyncio.run(_counts())
    assert 130 <= counts["structures"] <= 170
    names = asyncio.run(_names())
    assert ML_VALENCE in names

    second = runner.invoke(cli.main, ["--database-url", database_url, "demo"])
    assert second.exit_code == 0, second.output
    assert "déjà chargée" in second.output
    assert asyncio.run(_counts()) == counts
    assert asyncio.run(_names()) == names


def test_the_shipped_dataset_is_valid_data_inclusion() -> None:
    """Anyone can read the demo's structures and services with data·inclusion's own
    models; what data·inclusion cannot carry is in Maillage's CSV files, which refer to
    the same records."""
    structures = json.loads((DATA / "di" / "structures.json").read_text(encoding="utf-8"))
    services = json.loads((DATA / "di" / "services.json").read_text(encoding="utf-8"))
    for record in structures:
        assert v1.Structure.model_validate(record).source == SOURCE
    ids = {record["id"] for record in structures}
    for record in services:
        assert v1.Service.model_validate(record).structure_id in ids
    people = list(csv.DictReader(io.StringIO((DATA / "csv" / "people.csv").read_text())))
    assert len(people) > 2 * len(structures)
    manifest = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))
    assert date.fromisoformat(manifest["reference_date"])


async def test_demo_goes_through_the_importers(client, time_machine) -> None:
    time_machine.move_to(NOON)
    report = await load_demo()

    # data·inclusion and the CSV import took every record.
    assert report.refused == 0
    assert "Structures : " in report.imports and "0 refusée(s)" in report.imports
    structures = await Structure.select(Structure.name, Structure.source, Structure.kind)
    assert {s["source"] for s in structures} == {SOURCE}
    assert {s["kind"] for s in structures} == set(STRUCTURE_KINDS)
    # What only the CSV files carry reached the records data·inclusion created.
    sites = await Site.select(Site.name, Site.walk_in)
    assert sum(bool(s["name"]) for s in sites) >= 20 and any(s["walk_in"] for s in sites)
    services = await Service.select(Service.contact, Service.site, Service.unconditional)
    assert all(s["contact"] for s in services) and any(s["site"] for s in services)
    assert report.describe().count("conventions") == 1


async def test_the_network_rests_on_more_than_single_people(client, time_machine) -> None:
    time_machine.move_to(datetime(2026, 5, 11, 10, 0, tzinfo=PARIS))
    await load_demo()
    network = await network_report()
    partnerships = {
        (u, v) if u < v else (v, u)
        for u, v, d in network.graph.edges(data=True)
        if d["type"] == "relationship" and not d["target_is_person"]
    }
    # Several people per structure: most partnerships are held by more than one person.
    assert len(network.dependencies) < len(partnerships) / 3
    assert {d.reason for d in network.dependencies} == {
        ONLY_ACTIVE_PERSON,
        ONLY_REFERENT,
        ONLY_CONTACT,
    }
    people = await Person.select(Person.structure, Person.active)
    active = Counter(p["structure"] for p in people if p["active"])
    assert sum(1 for n in active.values() if n >= 2) > len(active) / 2
    assert max(active.values()) >= 6
    # People linked to several relationships.
    targeted = Counter(
        r["target_person"] for r in await Relationship.select() if r["target_person"]
    )
    assert max(targeted.values()) >= 2
    # A convention expiring soon shows among the network's warnings, and on the page.
    assert network.expiring
    await f.login(client, "coordination@demo.maillage.fr", PASSWORD)
    page = await client.get("/reseau")
    assert page.status_code == 200
    assert "Parcours santé mentale des 16-25 ans" in page.text


async def test_conventions_page_shows_every_status(client, time_machine) -> None:
    time_machine.move_to(NOON)
    await load_demo()
    await f.login(client, "coordination@demo.maillage.fr", PASSWORD)
    page = await client.get("/conventions")
    assert page.status_code == 200
    for label in (
        "En vigueur",
        "Expire dans moins de 90 jours",
        "Expirée",
        "Résiliée",
        "En préparation",
    ):
        assert label in page.text, label
    assert "Parcours santé mentale des 16-25 ans" in page.text
    levels = {c["level"] for c in await Convention.select(Convention.level)}
    assert levels == {level.value for level in Level}
    referents = await ConventionParty.select(ConventionParty.referent.first_name)
    assert sum(1 for r in referents if r["referent.first_name"]) >= 10


async def _dates() -> tuple[date, date]:
    """The last verification of the main Mission Locale and the end of a convention."""
    verified = (
        await Structure.select(Structure.verified_at).where(Structure.name == ML_VALENCE).first()
    )
    ends = (
        await Convention.select(Convention.ends_on)
        .where(Convention.title == "Parcours santé mentale des 16-25 ans")
        .first()
    )
    assert verified is not None and ends is not None
    return verified["verified_at"].date(), ends["ends_on"]


async def test_demo_dates_follow_the_loading_day(client, time_machine) -> None:
    """The demo never looks stale: loaded a year later, every date is a year later, so
    the convention about to expire is still about to expire."""
    first_day = datetime(2026, 5, 11, 10, 0, tzinfo=PARIS)
    time_machine.move_to(first_day)
    await load_demo()
    verified, ends = await _dates()
    assert verified <= first_day.date() < ends <= first_day.date() + timedelta(days=90)

    await _erase()
    time_machine.move_to(first_day + timedelta(days=365))
    await load_demo()
    assert await _dates() == (verified + timedelta(days=365), ends + timedelta(days=365))
