"""The network page, its API and exports, built from the database through graph/."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import networkx as nx
import pytest

from directory.hours import local_date
from directory.vocabulary import Level
from service.accounts.store import Role
from service.convention_watch import watch_conventions
from tests import factories as f

# Reads the clock: .ci/run also runs it at fixed awkward dates.
pytestmark = pytest.mark.dated


async def _mesh():
    """A Mission Locale linked to two partners, a CCAS linked only through the second
    partner (so the second partner is the broker), and a club with no link at all."""
    ml = await f.structure("Mission Locale")
    fjt = await f.structure("Foyer")
    cidff = await f.structure("CIDFF")
    ccas = await f.structure("CCAS")
    await f.structure("Club isolé")
    for s in (ml, fjt, cidff, ccas):
        await f.site(s, "26362")
    only = await f.person(fjt, "Léna", "Faure")
    await f.relationship(ml, fjt, Level.OPERATIONAL)
    await f.relationship(ml, cidff, Level.POLITICAL)
    await f.relationship(cidff, ccas, Level.ORGANISATIONAL)
    return ml, fjt, cidff, ccas, only


async def test_network_api_names_silos_brokers_and_single_person_partnerships(client):
    ml, *_ = await _mesh()
    headers = await f.api_client_headers(Role.COORDINATOR, of=ml)
    body = (await client.get("/api/v1/network", headers=headers)).json()
    assert [s["name"] for s in body["silos"]["isolated"]] == ["Club isolé"]
    top = {b["structure"]["name"]: b["betweenness"] for b in body["brokers"][:2]}
    # Each lies on two of the six shortest paths between the four linked structures.
    assert set(top) == {"Mission Locale", "CIDFF"}
    assert top["Mission Locale"] == top["CIDFF"] > 0
    assert "exactes" in body["brokers_method"]
    deps = {(d["structure"]["name"], d["person_name"]) for d in body["single_person_dependencies"]}
    assert ("Foyer", "Léna Faure") in deps
    overall = body["level_balance"]["overall"]
    assert (overall["operational"], overall["organisational"], overall["political"]) == (1, 1, 1)
    political = (await client.get("/api/v1/network?level=political", headers=headers)).json()
    assert political["level_balance"]["overall"]["operational"] == 0


async def test_exports_open_in_graph_tools(client):
    await _mesh()
    headers = await f.api_client_headers(Role.COORDINATOR)
    graphml = await client.get("/api/v1/network/graph/graphml", headers=headers)
    g = nx.read_graphml(io.BytesIO(graphml.content))
    structures = [n for n, d in g.nodes(data=True) if d.get("type") == "structure"]
    assert len(structures) == 5
    gexf = await client.get("/reseau/export/gexf", headers=headers)
    assert ET.fromstring(gexf.content).tag.endswith("gexf")
    assert (
        len((await client.get("/api/v1/network/graph/json", headers=headers)).json()["nodes"]) >= 5
    )
    table = await client.get("/api/v1/network/tables/brokers.csv", headers=headers)
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert rows and "betweenness" in rows[0]
    assert (
        await client.get("/api/v1/network/tables/nothing.csv", headers=headers)
    ).status_code == 404


async def test_network_page_draws_the_picture_and_the_tables(client):
    # The picture is the explorer (drawn in the browser from /api/v1/network/explorer),
    # with every structure's number of partners in a table beside it.
    await _mesh()
    await f.logged_in(client, Role.COORDINATOR)
    page = await client.get("/reseau")
    assert page.status_code == 200
    assert 'id="explorer-canvas"' in page.text and 'role="img"' in page.text
    assert 'data-graph="/api/v1/network/explorer"' in page.text
    assert "Club isolé" in page.text and "Léna Faure" in page.text
    assert '<th scope="row"><a href="/structures/' in page.text
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts and all(src.startswith("/static/") for src in scripts)
    assert "<script>" not in page.text and "style=" not in page.text


async def test_remind_warns_before_a_convention_ends_and_when_a_referent_left(
    database_url,
):
    ml, fjt, _cidff, _ccas, only = await _mesh()
    await f.user(Role.COORDINATOR, of=ml, email="coordination@exemple.fr")
    coordinator = await f.api_client_headers(Role.COORDINATOR, of=ml)
    today = local_date()
    import msgspec

    from conventions.schemas import ConventionWrite
    from conventions.store import create

    await create(
        msgspec.convert(
            {
                "title": "Convention logement",
                "level": "operational",
                "parties": [
                    {"structure_id": str(ml)},
                    {"structure_id": str(fjt), "referent_id": str(only)},
                ],
                "signed_on": str(today - timedelta(days=300)),
                "starts_on": str(today - timedelta(days=300)),
                "ends_on": str(today + timedelta(days=60)),
            },
            ConventionWrite,
        )
    )
    del coordinator
    expiring, departed = await watch_conventions(today)
    assert expiring == 3 and departed == 0  # two coordinators' addresses and the referent
    assert await watch_conventions(today) == (0, 0)
    assert (await watch_conventions(today + timedelta(days=31)))[0] == 3  # 30 days
    from directory.tables import Person

    await Person.update({Person.active: False, Person.left_on: local_date()}).where(
        Person.id == only
    )
    _, departed = await watch_conventions(today + timedelta(days=32))
    assert departed == 2


async def test_what_if_a_person_leaves(client):
    ml, _fjt, _cidff, _ccas, only = await _mesh()
    headers = await f.api_client_headers(Role.COORDINATOR, of=ml)
    body = (await client.get(f"/api/v1/network/people/{only}/leaving", headers=headers)).json()
    assert body["person_name"] == "Léna Faure"
    assert [s["name"] for s in body["partnerships_losing_last_person"]] == ["Mission Locale"]
    assert body["colleagues_left"] == 0
