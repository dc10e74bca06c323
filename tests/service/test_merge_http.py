"""Merging duplicates through the real stack, on SQLite and PostgreSQL: every referral,
relationship, convention, account and territory of the merged structure ends on the kept
one, the merged one redirects, search shows one; undo puts every row back exactly. People
and services merge too; only coordinators merge, and bad requests say why."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conventions.tables import ConventionParty
from directory.data_inclusion import Raw, import_records
from directory.hours import local_date
from directory.tables import (
    Person,
    Relationship,
    Service,
    ServiceKey,
    Site,
    Structure,
    Territory,
)
from directory.vocabulary import Domain, Level
from service.accounts.store import Role
from service.accounts.tables import User
from service.referrals.tables import Referral, ReferralEvent
from tests import factories as f

# Conventions and referrals read today's date.
pytestmark = pytest.mark.dated

VALENCE = "26362"


async def _dump() -> dict[str, list]:
    """Every row a merge may touch, in a comparable form."""

    def rows(found: list[dict]) -> list:
        return sorted((sorted((k, str(v)) for k, v in r.items()) for r in found), key=str)

    keys = await ServiceKey.select(ServiceKey.service, ServiceKey.key)
    return {
        "structure": rows(await Structure.select()),
        "site": rows(await Site.select()),
        "person": rows(await Person.select()),
        "service": rows(await Service.select()),
        "service_key": sorted((str(k["service"]), k["key"]) for k in keys),
        "relationship": rows(await Relationship.select()),
        "convention_party": rows(await ConventionParty.select()),
        "referral": rows(await Referral.select()),
        "referral_event": rows(await ReferralEvent.select()),
        # Accounts of a structure (a test signs a coordinator in on the way).
        "user": rows(
            await User.select(User.id, User.structure).where(User.structure.is_not_null())
        ),
        "territory": rows(await Territory.select(Territory.id, Territory.structure)),
    }


def _referral(to_structure, to_service=None, **changes) -> dict:
    body = {
        "to_structure_id": str(to_structure),
        "domain": "housing",
        "message": "Cherche un logement.",
        "young_person": {"first_name": "Yanis", "age_range": "18-21", "commune": VALENCE},
        "consent": {"given": True, "shares": ["age", "commune"]},
    }
    if to_service:
        body["to_service_id"] = str(to_service)
    return body | changes


async def _send(client, headers, to_structure, to_service=None) -> str:
    response = await client.post(
        "/api/v1/referrals", json=_referral(to_structure, to_service), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def _convention(client, headers, parties: list[tuple]) -> str:
    today = local_date()
    body = {
        "title": "Convention logement",
        "level": "operational",
        "domains": ["housing"],
        "parties": [{"structure_id": str(s), "referent_id": str(p)} for s, p in parties],
        "signed_on": str(today - timedelta(days=30)),
        "starts_on": str(today - timedelta(days=30)),
        "ends_on": str(today + timedelta(days=365)),
    }
    response = await client.post("/api/v1/conventions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


class Pair:
    """Two records of one foyer, each with a life of its own, and their neighbours."""

    async def build(self, client) -> Pair:
        self.keep = await f.structure("Foyer Jeunes Travailleurs de Valence", phone="0475405060")
        self.other = await f.structure(
            "FJT Valence", email="accueil@fjt.exemple.fr", siret="44321538000009"
        )
        self.ml = await f.structure("Mission Locale Valence")
        self.third = await f.structure("Résidence sociale")
        for s in (self.keep, self.other, self.ml, self.third):
            await f.site(s, VALENCE)
        self.keep_person = await f.person(self.keep, "Léna", "Faure")
        self.other_person = await f.person(self.other, "Marc", "Roux")
        ml_person = await f.person(self.ml, "Nadia", "Belkacem")
        self.keep_service = await f.service(self.keep, "Hébergement")
        self.other_service = await f.service(
            self.other, "Logement temporaire", contact_id=self.other_person
        )
        # Edges: both directions, third parties, one between the pair, one doubled.
        await f.relationship(self.keep, self.third)
        await f.relationship(self.other, self.third)  # doubles the one above
        await f.relationship(self.other, self.ml, Level.ORGANISATIONAL)
        await f.relationship(self.ml, self.other)
        await f.relationship(self.keep, self.other)  # becomes a self-loop
        await store_person_edge(self.third, self.other_person)
        self.coordinator = await f.api_client_headers(Role.COORDINATOR, of=self.ml)
        self.convention = await _convention(
            client, self.coordinator, [(self.ml, ml_person), (self.other, self.other_person)]
        )
        self.both = await _convention(
            client,
            self.coordinator,
            [(self.keep, self.keep_person), (self.other, self.other_person)],
        )
        advisor = await f.api_client_headers(Role.ADVISOR, of=self.ml)
        self.to_other = await _send(client, advisor, self.other, self.other_service)
        self.to_keep = await _send(client, advisor, self.keep)
        self.partner_user, self.partner_email = await f.user(Role.ADVISOR, of=self.other)
        self.partner = await f.api_client_headers(Role.ADVISOR, of=self.other)
        self.from_other = await _send(client, self.partner, self.keep)  # becomes internal
        self.territory = Territory(
            name="Valence", structure=self.other, communes=[VALENCE], created_at=datetime.now(UTC)
        )
        await self.territory.save()
        return self


async def store_person_edge(source, person) -> None:
    from directory import store
    from directory.schemas import RelationshipWrite

    await store.create_relationship(
        source, RelationshipWrite(level=Level.OPERATIONAL, target_person_id=person), f.SAVED_BY
    )


async def _merge(client, headers, kind, keep, other, **extra):
    body = {"kind": kind, "keep": str(keep), "merge": str(other), **extra}
    return await client.post("/api/v1/directory/merges", json=body, headers=headers)


async def test_a_structure_merge_keeps_every_referral_and_relationship_and_undoes(client):
    pair = await Pair().build(client)
    before = await _dump()
    merged = await _merge(client, pair.coordinator, "structure", pair.keep, pair.other)
    assert merged.status_code == 201, merged.text
    done = merged.json()
    assert done["moved"] == {
        "account_user": 2,
        "convention_party": 2,
        "person": 1,
        "referral": 2,  # one sent to it, one sent from it
        "relationship": 4,
        "service": 1,
        "site": 1,
        "territory": 1,
    }
    # The doubled edge, the self-loop, and the second party of the shared convention.
    assert done["dropped"] == {"convention_party": 1, "relationship": 2}
    # Empty fields filled from the other record; the kept name stays.
    assert done["fields"]["email"] == ["", "accueil@fjt.exemple.fr"]
    assert "name" not in done["fields"]

    keep = str(pair.keep)
    for referral_id in (pair.to_other, pair.to_keep, pair.from_other):
        referral = await Referral.select().where(Referral.id == referral_id).first()
        assert str(referral["to_structure"]) == keep
    internal = await Referral.select().where(Referral.id == pair.from_other).first()
    assert internal["from_structure"] == internal["to_structure"]
    assert await Referral.count().where(Referral.to_structure == pair.keep) == 3
    edges = await Relationship.select().where(
        (Relationship.source == pair.other) | (Relationship.target_structure == pair.other)
    )
    assert edges == []
    assert await Relationship.count().where(Relationship.source == pair.keep) == 2
    assert await ConventionParty.count().where(ConventionParty.structure == pair.keep) == 2
    assert (await User.select(User.structure).where(User.id == pair.partner_user))[0][
        "structure"
    ] == pair.keep

    gone = await client.get(
        f"/api/v1/structures/{pair.other}", headers=pair.coordinator, follow_redirects=False
    )
    assert gone.status_code == 307
    assert gone.headers["location"] == f"/api/v1/structures/{keep}"
    # A referral between the two is now internal to the kept structure, and still opens.
    internal = await client.get(f"/api/v1/referrals/{pair.from_other}", headers=pair.partner)
    assert internal.status_code == 200, internal.text
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get(f"/structures/{pair.other}", follow_redirects=False)
    assert page.status_code == 302 and page.headers["location"].startswith(f"/structures/{keep}")
    listed = (await client.get("/api/v1/structures?q=foyer", headers=pair.coordinator)).json()
    assert [s["id"] for s in listed["items"]] == [keep]
    history = (await client.get(f"/structures/{keep}/historique")).text
    assert "a fusionné la fiche structure « FJT Valence » dans cette fiche" in history
    assert f"/structures/{keep}?fusion={done['id']}" in history  # its undo, later on
    moved = await client.get(f"/structures/{pair.other}/historique", follow_redirects=False)
    assert moved.headers["location"] == f"/structures/{keep}/historique"

    read = await client.get(f"/api/v1/directory/merges/{done['id']}", headers=pair.coordinator)
    assert read.json()["moved"] == done["moved"]
    undone = await client.post(
        f"/api/v1/directory/merges/{done['id']}/undo", headers=pair.coordinator
    )
    assert undone.status_code == 200, undone.text
    assert undone.json()["left_as_is"] == 0
    assert await _dump() == before
    again = await client.post(
        f"/api/v1/directory/merges/{done['id']}/undo", headers=pair.coordinator
    )
    assert again.status_code == 409
    back = await client.get(
        f"/api/v1/structures/{pair.other}", headers=pair.coordinator, follow_redirects=False
    )
    assert back.status_code == 200
    history = (await client.get(f"/structures/{pair.other}/historique")).text
    assert "a annulé la fusion de cette fiche structure" in history


async def test_the_coordinator_chooses_conflicting_fields(client):
    keep = await f.structure("Foyer de Valence", phone="0475405060")
    other = await f.structure("FJT de Valence", phone="0475000000")
    headers = await f.api_client_headers(Role.COORDINATOR)
    merged = await _merge(
        client, headers, "structure", keep, other, fields={"name": "merge", "phone": "keep"}
    )
    assert merged.status_code == 201, merged.text
    read = (await client.get(f"/api/v1/structures/{keep}", headers=headers)).json()
    assert (read["name"], read["phone"]) == ("FJT de Valence", "+33475405060")
    found = (await client.get("/api/v1/structures?q=fjt", headers=headers)).json()
    assert [s["id"] for s in found["items"]] == [str(keep)]


async def test_people_merge_moves_contacts_referents_and_edges(client):
    pair = await Pair().build(client)
    twin = await f.person(
        pair.other, "Marc", "Roux", email="", phone="0611223344", preferred_channel="phone"
    )
    merged = await _merge(client, pair.coordinator, "person", twin, pair.other_person)
    assert merged.status_code == 201, merged.text
    assert merged.json()["moved"] == {
        "convention_party": 2,
        "relationship": 1,
        "service": 1,
    }
    service = await Service.select(Service.contact).where(Service.id == pair.other_service)
    assert service[0]["contact"] == twin
    person = (await client.get(f"/api/v1/people/{twin}", headers=pair.coordinator)).json()
    assert person["email"].startswith("marc.roux")
    gone = await client.get(
        f"/api/v1/people/{pair.other_person}", headers=pair.coordinator, follow_redirects=False
    )
    assert gone.status_code == 307
    before_undo = await Person.count()
    undone = await client.post(
        f"/api/v1/directory/merges/{merged.json()['id']}/undo", headers=pair.coordinator
    )
    assert undone.status_code == 200, undone.text
    assert await Person.count() == before_undo + 1
    service = await Service.select(Service.contact).where(Service.id == pair.other_service)
    assert service[0]["contact"] == pair.other_person


async def test_services_merge_moves_referrals_and_rewrites_keys(client):
    pair = await Pair().build(client)
    twin = await f.service(pair.other, "Logement d'urgence", domains=(Domain.HEALTH,))
    before = await _dump()
    merged = await _merge(client, pair.coordinator, "service", twin, pair.other_service)
    assert merged.status_code == 201, merged.text
    assert merged.json()["moved"] == {"referral": 1}
    referral = await Referral.select(Referral.to_service).where(Referral.id == pair.to_other)
    assert referral[0]["to_service"] == twin
    keys = {k["key"] for k in await ServiceKey.select().where(ServiceKey.service == twin)}
    assert {"d:health", "d:housing"} <= keys
    assert await ServiceKey.count().where(ServiceKey.service == pair.other_service) == 0
    undone = await client.post(
        f"/api/v1/directory/merges/{merged.json()['id']}/undo", headers=pair.coordinator
    )
    assert undone.status_code == 200, undone.text
    assert await _dump() == before


async def test_only_coordinators_merge_and_bad_requests_say_why(client):
    keep = await f.structure("Foyer A")
    other = await f.structure("Foyer B")
    elsewhere = await f.person(await f.structure("Ailleurs"))
    mine = await f.person(keep)
    advisor = await f.api_client_headers(Role.ADVISOR)
    headers = await f.api_client_headers(Role.COORDINATOR)
    assert (await _merge(client, advisor, "structure", keep, other)).status_code == 403
    itself = await _merge(client, headers, "structure", keep, keep)
    assert itself.status_code == 400 and "elle-même" in itself.text
    unknown = await _merge(client, headers, "structure", keep, mine)
    assert unknown.status_code == 404
    apart = await _merge(client, headers, "person", mine, elsewhere)
    assert apart.status_code == 409 and "structures différentes" in apart.text
    bad_field = await _merge(client, headers, "structure", keep, other, fields={"colour": "keep"})
    assert bad_field.status_code == 400 and "colour" in bad_field.text
    assert (await _merge(client, headers, "structure", keep, other)).status_code == 201
    twice = await _merge(client, headers, "structure", keep, other)
    assert twice.status_code == 409 and "déjà été fusionnée" in twice.text
    missing = await client.post(
        "/api/v1/directory/merges/00000000-0000-4000-8000-000000000000/undo", headers=headers
    )
    assert missing.status_code == 404


async def test_a_new_import_does_not_bring_back_a_merged_structure(client):
    folder = Path(__file__).parents[1] / "directory" / "data" / "data_inclusion"
    raws = [
        Raw(f"{name}.json", i, record)
        for name in ("structures", "services")
        for i, record in enumerate(json.loads((folder / f"{name}.json").read_text()))
    ]
    first = await import_records(raws)
    imported = await Structure.select(Structure.id).where(Structure.source_id == "dora--ml-valence")
    other = imported[0]["id"]
    keep = await f.structure("Mission Locale Valence Drôme des Collines")
    headers = await f.api_client_headers(Role.COORDINATOR)
    merged = await _merge(client, headers, "structure", keep, other)
    assert merged.status_code == 201, merged.text
    count = await Structure.count()

    again = await import_records(raws)
    assert again.refusals == [], again.refusals
    assert again.services.refused == first.services.refused
    assert await Structure.count() == count
    assert not await Structure.exists().where(Structure.id == other)
    services = await Service.select(Service.structure).where(Service.source_id.like("dora--ml-%"))
    assert services and {s["structure"] for s in services} == {keep}

    undone = await client.post(
        f"/api/v1/directory/merges/{merged.json()['id']}/undo", headers=headers
    )
    assert undone.status_code == 200, undone.text
    services = await Service.select(Service.structure).where(Service.source_id.like("dora--ml-%"))
    assert {s["structure"] for s in services} == {other}


async def test_a_merge_is_undone_only_while_no_later_merge_touches_it(client):
    a, b, c = [await f.structure(n) for n in ("Foyer A", "Foyer B", "Foyer C")]
    headers = await f.api_client_headers(Role.COORDINATOR)
    first = (await _merge(client, headers, "structure", a, b)).json()
    second = (await _merge(client, headers, "structure", c, a)).json()
    gone = await client.get(f"/api/v1/structures/{b}", headers=headers, follow_redirects=False)
    assert gone.headers["location"] == f"/api/v1/structures/{c}"  # follows both merges
    refused = await client.post(f"/api/v1/directory/merges/{first['id']}/undo", headers=headers)
    assert refused.status_code == 409 and "plus récente" in refused.text
    for merge_id in (second["id"], first["id"]):
        undone = await client.post(f"/api/v1/directory/merges/{merge_id}/undo", headers=headers)
        assert undone.status_code == 200, undone.text
    assert await Structure.count().where(Structure.id.is_in([a, b, c])) == 3


def _once(html: str, action: str) -> dict[str, str]:
    """The one-time key and CSRF token of the form posting to `action`."""
    form = html[html.index(f'action="{action}"') :]
    once = re.search(r'name="_once" value="([^"]+)"', form)
    assert once, f"no one-time key in the form to {action}"
    return {"_once": once.group(1), "_csrf_token": f.csrf_token(form)}


async def test_the_pages_compare_merge_and_undo(client):
    keep = await f.structure("Foyer de Valence", phone="0475405060", email="foyer@exemple.fr")
    other = await f.structure("FJT de Valence", phone="0475405060", email="fjt@exemple.fr")
    await f.site(other, VALENCE)
    await f.logged_in(client, Role.ADVISOR)
    assert (await client.get(f"/structures/fusion?a={keep}&b={other}")).status_code == 403
    await f.logged_in(client, Role.COORDINATOR)
    review = await client.get("/structures/doublons?scope=d:26")
    assert "Comparer et fusionner" in review.text
    page = await client.get(f"/structures/fusion?a={keep}&b={other}")
    assert page.status_code == 200, page.text
    assert "1 lieu d" in page.text and "Courriel" in page.text
    form = {"a": str(keep), "b": str(other), "keep": "a", "field_email": "b", "field_name": "a"}
    done = await client.post(
        "/structures/fusion",
        data=form | _once(page.text, "/structures/fusion"),
        follow_redirects=False,
    )
    assert done.status_code == 302, done.text
    assert done.headers["location"].startswith(f"/structures/{keep}?fusion=")
    shown = await client.get(done.headers["location"])
    assert "Fusion faite" in shown.text and "Annuler la fusion" in shown.text
    structure = (await Structure.select().where(Structure.id == keep))[0]
    assert (structure["name"], structure["email"]) == ("Foyer de Valence", "fjt@exemple.fr")
    merge_id = done.headers["location"].split("fusion=")[1]
    action = f"/structures/fusions/{merge_id}/annuler"
    undone = await client.post(action, data=_once(shown.text, action), follow_redirects=False)
    assert undone.status_code == 302, undone.text
    assert "Fusion annul" in (await client.get(undone.headers["location"])).text
    assert await Structure.count().where(Structure.id.is_in([keep, other])) == 2


async def test_two_people_of_a_structure_merge_from_its_page(client):
    structure = await f.structure("Foyer de Valence")
    first = await f.person(structure, "Léna", "Faure", email="lena@exemple.fr")
    second = await f.person(
        structure, "Lena", "Faure", email="", phone="0611223344", preferred_channel="phone"
    )
    await f.service(structure, "Logement", contact_id=second)
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get(f"/structures/{structure}")
    action = f"/structures/{structure}/personnes/fusion"
    assert "Fusionner deux personnes en double" in page.text
    done = await client.post(
        action,
        data={"keep": str(first), "merge": str(second)} | _once(page.text, action),
        follow_redirects=False,
    )
    assert done.status_code == 302, done.text
    person = (await Person.select().where(Person.id == first))[0]
    assert person["phone"] == "+33611223344"
    assert await Service.count().where(Service.contact == first) == 1
    assert not await Person.exists().where(Person.id == second)


async def test_two_merges_of_one_record_at_once_one_wins(client):
    keep = await f.structure("Foyer A")
    other = await f.structure("Foyer B")
    await f.site(other, VALENCE)
    headers = await f.api_client_headers(Role.COORDINATOR)
    answers = await asyncio.gather(
        *(_merge(client, headers, "structure", keep, other) for _ in range(2))
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert await Site.count().where(Site.structure == keep) == 1
    merge_id = next(a.json()["id"] for a in answers if a.status_code == 201)
    undos = await asyncio.gather(
        *(
            client.post(f"/api/v1/directory/merges/{merge_id}/undo", headers=headers)
            for _ in range(2)
        )
    )
    assert sorted(u.status_code for u in undos) == [200, 409]
    assert await Site.count().where(Site.structure == other) == 1


async def test_a_csv_row_naming_a_merged_structure_is_refused(client):
    keep = await f.structure("Foyer A")
    other = await f.structure("Foyer B")
    headers = await f.api_client_headers(Role.COORDINATOR)
    assert (await _merge(client, headers, "structure", keep, other)).status_code == 201
    exported = f"id,name\n{other},Foyer B modifié\n".encode()
    response = await client.post(
        "/api/v1/directory/import",
        files=[("structures", ("structures.csv", exported, "text/csv"))],
        headers=headers,
    )
    assert response.status_code == 422, response.text
    assert (
        f"structures.csv, ligne 2 : id : cette fiche a été fusionnée dans la fiche {keep}"
        in " ".join(response.json()["problems"])
    )
    assert not await Structure.exists().where(Structure.id == other)


async def test_two_services_of_a_structure_merge_from_its_page(client):
    structure = await f.structure("Foyer de Valence")
    first = await f.service(structure, "Hébergement", domains=(Domain.HOUSING,))
    second = await f.service(structure, "Hébergement d'urgence", domains=(Domain.HEALTH,))
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get(f"/structures/{structure}")
    action = f"/structures/{structure}/services/fusion"
    done = await client.post(
        action,
        data={"keep": str(first), "merge": str(second)} | _once(page.text, action),
        follow_redirects=False,
    )
    assert done.status_code == 302, done.text
    kept = (await Service.select().where(Service.id == first))[0]
    assert kept["domains"] == ["housing", "health"]
    assert not await Service.exists().where(Service.id == second)
    await f.service(structure, "Accueil de jour")
    page = await client.get(f"/structures/{structure}")  # a new one-time key
    itself = await client.post(
        action, data={"keep": str(first), "merge": str(first)} | _once(page.text, action)
    )
    assert itself.status_code == 400
