"""People who leave, through the real stack on SQLite and PostgreSQL: what they held is
listed and handed over in one transaction with its history; the API refuses to orphan
silently (409) unless told; the network and structure pages list what lost its contact."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from conventions import store as conventions
from conventions.schemas import ConventionWrite, PartyIn
from conventions.tables import ConventionParty
from directory import store
from directory.schemas import RelationshipWrite
from directory.tables import DirectoryChange, Person, Relationship, Service
from directory.vocabulary import Level
from service.accounts.store import Role
from tests import factories as f


async def _team() -> dict[str, UUID]:
    """A housing association where Nora holds a service, a convention and a relationship."""
    home = await f.structure("Habitat Jeunes Valence")
    other = await f.structure("Mission Locale Valence")
    nora = await f.person(home, "Nora", "Benali")
    paul = await f.person(home, "Paul", "Girard")
    gone = await f.person(home, "Léa", "Roux", active=False)
    stranger = await f.person(other, "Inès", "Faure")
    service = await f.service(home, "Logement d'urgence", contact_id=str(nora))
    convention = await conventions.create(
        ConventionWrite(
            title="Logement des jeunes",
            level=Level.OPERATIONAL,
            parties=[PartyIn(home, nora), PartyIn(other, stranger)],
            starts_on=date(2026, 1, 1),
        )
    )
    relation = await store.create_relationship(
        other, RelationshipWrite(level=Level.OPERATIONAL, target_person_id=nora), f.SAVED_BY
    )
    return {
        "home": home,
        "other": other,
        "nora": nora,
        "paul": paul,
        "gone": gone,
        "stranger": stranger,
        "service": service,
        "convention": convention,
        "relation": relation,
    }


def _nora(**fields: object) -> dict[str, object]:
    return {"first_name": "Nora", "last_name": "Benali", "email": "nora@exemple.fr", **fields}


async def _holders(t: dict[str, UUID]) -> tuple[UUID, UUID, UUID]:
    service = await Service.select(Service.contact).where(Service.id == t["service"]).first()
    party = (
        await ConventionParty.select(ConventionParty.referent)
        .where(ConventionParty.structure == t["home"])
        .first()
    )
    rel = (
        await Relationship.select(Relationship.target_person)
        .where(Relationship.id == t["relation"])
        .first()
    )
    assert service and party and rel
    return service["contact"], party["referent"], rel["target_person"]


async def test_the_api_refuses_to_orphan_silently_then_hands_everything_over(client) -> None:
    t = await _team()
    headers = await f.api_client_headers(Role.COORDINATOR)
    url = f"/api/v1/people/{t['nora']}"
    leaving = _nora(active=False, left_on="2026-11-30")
    refused = await client.put(url, json=leaving, headers=headers)
    assert refused.status_code == 409, refused.text
    kinds = sorted(h["kind"] for h in refused.json()["would_lose_contact"])
    assert kinds == ["convention", "relationship", "service"]
    assert (await store.get_person(t["nora"])).active  # nothing written
    for bad in (t["nora"], t["gone"], t["stranger"], "not-a-uuid"):
        answer = await client.put(url, json={**leaving, "replacement": str(bad)}, headers=headers)
        assert answer.status_code == 400, answer.text
        assert "replacement" in answer.text
    done = await client.put(url, json={**leaving, "replacement": str(t["paul"])}, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["active"] is False
    assert await _holders(t) == (t["paul"], t["paul"], t["paul"])
    kinds_written = {
        r["record_kind"]
        for r in await DirectoryChange.select(DirectoryChange.record_kind).where(
            DirectoryChange.changes.like(f"%{t['paul']}%")
        )
    }
    assert kinds_written == {"service", "convention", "relationship"}


async def test_leave_orphans_keeps_the_links_and_lists_them_as_lost(client) -> None:
    t = await _team()
    headers = await f.api_client_headers(Role.COORDINATOR)
    body = _nora(active=False, leave_orphans=True)
    done = await client.put(f"/api/v1/people/{t['nora']}", json=body, headers=headers)
    assert done.status_code == 200, done.text
    assert await _holders(t) == (t["nora"], t["nora"], t["nora"])
    url = f"/api/v1/network/lost-contacts?structure_id={t['home']}"
    lost = await client.get(url, headers=headers)
    assert lost.status_code == 200, lost.text
    assert sorted((x["kind"], x["person_name"]) for x in lost.json()) == [
        ("convention", "Nora Benali"),
        ("service", "Nora Benali"),
    ]
    elsewhere = f"/api/v1/network/lost-contacts?structure_id={t['other']}"
    assert (await client.get(elsewhere, headers=headers)).json() == []
    await f.logged_in(client, Role.COORDINATOR)
    network = await client.get("/reseau")
    assert "Sans contact depuis un départ (2)" in network.text
    assert "Logement d&#39;urgence" in network.text and "Logement des jeunes" in network.text
    assert f"/structures/{t['home']}/personnes/{t['nora']}/depart" in network.text
    page = await client.get(f"/structures/{t['home']}")
    assert "Sans contact depuis un départ (2)" in page.text
    assert (
        "Sans contact depuis un départ" not in (await client.get(f"/structures/{t['other']}")).text
    )


async def test_the_departure_page_lists_what_she_held_and_saves_each_choice(client) -> None:
    t = await _team()
    await f.logged_in(client, Role.ADVISOR, of=t["home"])
    url = f"/structures/{t['home']}/personnes/{t['nora']}/depart"
    page = await client.get(url)
    assert page.status_code == 200
    assert "le service « Logement d&#39;urgence »" in page.text
    assert "Paul Girard" in page.text and "Léa Roux" not in page.text
    assert "Inès Faure" not in page.text  # not of the structure
    missing = await f.form_post(client, url, {"left_on": "2026-11-30"})
    assert missing.status_code == 400
    assert "Qui reprend" in missing.text
    assert (await store.get_person(t["nora"])).active
    choices = {
        f"service:{t['service']}": str(t["paul"]),
        f"relationship:{t['relation']}": "none",
    }
    party = await ConventionParty.select().where(ConventionParty.structure == t["home"]).first()
    assert party
    choices[f"convention:{party['id']}"] = "none"
    saved = await f.form_post(client, url, {"left_on": "2026-11-30", **choices})
    assert saved.status_code == 200 and "Le départ de Nora Benali est enregistré" in saved.text
    nora = await Person.select().where(Person.id == t["nora"]).first()
    assert nora and nora["active"] is False and nora["left_on"] == date(2026, 11, 30)
    assert await _holders(t) == (t["paul"], t["nora"], t["nora"])
    lost = (await client.get(f"/structures/{t['home']}")).text
    assert "Sans contact depuis un départ (1)" in lost  # the convention; relations aren't listed
    assert "Contact : « Nora Benali » → « Paul Girard »" in lost  # the history names them


async def test_the_person_form_asks_who_takes_over_when_unticking_in_post(client) -> None:
    t = await _team()
    await f.logged_in(client, Role.COORDINATOR)
    url = f"/structures/{t['home']}/personnes/{t['nora']}/modifier"
    # "active" unticked: she left; the form showed the hand-over selects.
    form = _nora(preferred_channel="email", _departure="1")
    refused = await f.form_post(client, url, form)
    assert refused.status_code == 400
    assert refused.text.count("Qui reprend") >= 3
    choices = {f"service:{t['service']}": str(t["stranger"])}
    wrong = await f.form_post(client, url, {**form, **choices})
    assert wrong.status_code == 400 and "même structure" in wrong.text
    # Still in post: the selects are ignored.
    kept = await f.form_post(client, url, {**form, "active": "on", "role": "Accueil"})
    assert kept.status_code == 200 and str(kept.url).endswith(str(t["home"])), kept.text
    assert (await store.get_person(t["nora"])).role == "Accueil"


async def test_an_advisor_of_another_structure_cannot_see_the_departure_page(client) -> None:
    t = await _team()
    await f.logged_in(client, Role.ADVISOR, of=t["other"])
    page = await client.get(f"/structures/{t['home']}/personnes/{t['nora']}/depart")
    assert page.status_code == 403
