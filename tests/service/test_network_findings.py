"""The network page's findings as links with their next step, the forms they open
pre-filled, and the explorer's JSON endpoint (coordinators only, bad filters refused)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from directory.vocabulary import Level
from service.accounts.store import Role
from tests import factories as f

# Reads the clock (referrals become late as time passes).
pytestmark = pytest.mark.dated


async def _mesh() -> dict:
    """A Mission Locale with two people, linked to a foyer that has one person (a
    partnership resting on her) and to a CIDFF where nobody is recorded (unknown
    contact, not a fragility); a club linked to nobody."""
    ml = await f.structure("Mission Locale")
    foyer = await f.structure("Foyer")
    cidff = await f.structure("CIDFF")
    club = await f.structure("Club isolé")
    for s in (ml, foyer, cidff, club):
        await f.site(s, "26362")
    await f.person(ml, "Ana", "Roux")
    await f.person(ml, "Bruno", "Diaz")
    lena = await f.person(foyer, "Léna", "Faure")
    await f.relationship(ml, foyer, Level.OPERATIONAL)
    await f.relationship(ml, cidff, Level.POLITICAL)
    return {"ml": ml, "foyer": foyer, "cidff": cidff, "club": club, "lena": lena}


def _section(page: str, title_id: str) -> str:
    start = page.index(f'aria-labelledby="{title_id}"')
    return page[start : page.index("</section>", start)]


def _hrefs(fragment: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', fragment)]


async def test_each_finding_links_to_its_next_step(client):
    t = await _mesh()
    await f.logged_in(client, Role.COORDINATOR, of=t["ml"])
    page = await client.get("/reseau")
    assert page.status_code == 200
    text = page.text

    isolated = _section(text, "silos-title")
    assert f"/structures/{t['club']}/relations/nouvelle" in _hrefs(isolated)
    assert "Créer une relation" in isolated

    deps = _section(text, "deps-title")
    assert f"/structures/{t['foyer']}#person-{t['lena']}" in _hrefs(deps)
    assert f"/structures/{t['foyer']}/personnes/nouvelle" in _hrefs(deps)
    assert "Ajouter un second contact" in deps
    assert "CIDFF" not in deps  # nobody recorded there: missing data, not one person

    headers = await f.api_client_headers(Role.COORDINATOR, of=t["ml"])
    body = (await client.get("/api/v1/network", headers=headers)).json()
    assert [u["structure"]["name"] for u in body["unknown_contacts"]] == ["CIDFF"]
    unknown = _section(text, "unknown-title")
    assert "Contact inconnu (1)" in unknown
    assert f"/structures/{t['cidff']}/personnes/nouvelle" in _hrefs(unknown)

    brokers = _section(text, "brokers-title")
    assert "relie 2 groupes de partenaires qui ne se parlent pas autrement" in brokers
    assert not re.search(r"\(0[.,]\d", brokers)
    # The person's anchor exists on the structure's page.
    record = await client.get(f"/structures/{t['foyer']}")
    assert f'id="person-{t["lena"]}"' in record.text


async def test_prepare_a_convention_opens_the_form_with_both_parties(client):
    t = await _mesh()
    await f.logged_in(client, Role.COORDINATOR, of=t["ml"])
    section = _section((await client.get("/reseau")).text, "noconv-title")
    links = [h for h in _hrefs(section) if h.startswith("/conventions/nouvelle?")]
    assert len(links) == 2
    political = next(h for h in links if str(t["cidff"]) in h)
    query = parse_qs(urlsplit(political).query)
    assert sorted(query["structures"]) == sorted([str(t["ml"]), str(t["cidff"])])
    assert query["level"] == ["political"]
    form = await client.get(political)
    assert form.status_code == 200
    selected = re.findall(r'<option value="([^"]+)" selected>', form.text)
    assert str(t["ml"]) in selected and str(t["cidff"]) in selected
    assert 'value="political" selected' in form.text
    assert "Convention CIDFF – Mission Locale" in html.unescape(form.text)
    assert "Préparée depuis la page Réseau" in form.text


async def test_a_bad_prefilled_convention_link_is_a_clear_400(client):
    t = await _mesh()
    await f.logged_in(client, Role.COORDINATOR, of=t["ml"])
    bad_id = await client.get("/conventions/nouvelle?structures=pas-un-identifiant")
    assert bad_id.status_code == 400
    unknown = await client.get(
        "/conventions/nouvelle?structures=00000000-0000-4000-8000-000000000000"
        f"&structures={t['ml']}"
    )
    assert unknown.status_code == 400
    assert "structures demandées n&#39;existe pas" in unknown.text
    assert (await client.get("/conventions/nouvelle?level=cosmique")).status_code == 400


async def test_long_lists_show_ten_and_fold_the_rest(client):
    t = await _mesh()
    for i in range(12):
        await f.structure(f"Association {i:02d}")
    await f.logged_in(client, Role.COORDINATOR, of=t["ml"])
    section = _section((await client.get("/reseau")).text, "silos-title")
    assert "Structures isolées (13)" in section
    shown, folded = section.split("<details", 1)
    assert shown.count("Créer une relation") == 10
    assert "… et 3 autres : tout afficher" in folded
    assert folded.count("Créer une relation") == 3


async def test_an_unanswered_partner_links_to_the_referrals_sent_to_it(client, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    t = await _mesh()
    advisor = await f.api_client_headers(Role.ADVISOR, of=t["ml"])
    for partner, name in ((t["foyer"], "Lou"), (t["cidff"], "Sami")):
        body = {
            "to_structure_id": str(partner),
            "domain": "housing",
            "young_person": {"first_name": name, "commune": "26362"},
            "consent": {"given": True},
        }
        sent = await client.post("/api/v1/referrals", json=body, headers=advisor)
        assert sent.status_code == 201, sent.text
    time_machine.move_to(datetime(2026, 4, 2, 9, 0, tzinfo=UTC))  # a month without answer
    await f.logged_in(client, Role.COORDINATOR, of=t["ml"])
    section = _section((await client.get("/reseau")).text, "unanswered-title")
    link = f"/orientations?vers={t['foyer']}"
    assert link in _hrefs(section)
    assert "1 sans réponse sur 1 orientation reçue" in section
    listed = await client.get(link)
    assert listed.status_code == 200
    rows = listed.text[listed.text.index("<tbody>") : listed.text.index("</tbody>")]
    assert "Lou" in rows and "Sami" not in rows
    assert "Seulement les orientations envoyées à Foyer" in listed.text
    assert (await client.get("/orientations?vers=foyer")).status_code == 400


async def test_the_explorer_gets_structures_and_their_links(client):
    t = await _mesh()
    headers = await f.api_client_headers(Role.COORDINATOR, of=t["ml"])
    body = (await client.get("/api/v1/network/explorer", headers=headers)).json()
    nodes = {n["name"]: n for n in body["nodes"]}
    assert set(nodes) == {"Mission Locale", "Foyer", "CIDFF", "Club isolé"}
    ml = nodes["Mission Locale"]
    assert ml["url"] == f"/structures/{t['ml']}"
    assert ml["levels"] == ["operational", "political"]
    assert set(ml) == {"id", "name", "domains", "levels", "url"}
    pairs = {frozenset((e["source"], e["target"])): e for e in body["edges"]}
    assert pairs[frozenset((str(t["ml"]), str(t["cidff"])))]["levels"] == ["political"]
    assert len(pairs) == 2
    political = await client.get("/api/v1/network/explorer?level=political", headers=headers)
    assert [e["levels"] for e in political.json()["edges"]] == [["political"]]
    nobody = await client.get("/api/v1/network/explorer?domain=housing", headers=headers)
    assert nobody.json()["nodes"] == []  # no structure here offers a housing service


async def test_the_explorer_refuses_bad_filters_and_non_coordinators(client):
    t = await _mesh()
    coordinator = await f.api_client_headers(Role.COORDINATOR, of=t["ml"])
    bad = await client.get("/api/v1/network/explorer?level=cosmique", headers=coordinator)
    assert bad.status_code == 400
    assert "cosmique" in bad.text
    bad = await client.get("/api/v1/network/explorer?domain=peinture", headers=coordinator)
    assert bad.status_code == 400 and "peinture" in bad.text
    assert (await client.get("/reseau?level=cosmique", headers=coordinator)).status_code == 400
    advisor = await f.api_client_headers(Role.ADVISOR, of=t["ml"])
    assert (await client.get("/api/v1/network/explorer", headers=advisor)).status_code == 403
    assert (await client.get("/api/v1/network", headers=advisor)).status_code == 403
    await f.logged_in(client, Role.ADVISOR, of=t["ml"])
    page = await client.get("/reseau")
    assert page.status_code == 403
    assert 'href="/reseau"' not in (await client.get("/structures")).text


async def test_a_new_relationship_shows_on_the_next_load(client):
    # The brokers are remembered between loads: a new link must still change them.
    t = await _mesh()
    await f.logged_in(client, Role.COORDINATOR, of=t["ml"])
    before = (await client.get("/reseau")).text
    assert "CIDFF" not in _section(before, "brokers-title")
    await f.relationship(t["cidff"], t["club"], Level.OPERATIONAL)
    after = (await client.get("/reseau")).text
    assert "Structures isolées (0)" in _section(after, "silos-title")
    assert "CIDFF" in _section(after, "brokers-title")


async def test_the_page_filters_carry_to_the_explorer(client):
    t = await _mesh()
    await f.logged_in(client, Role.COORDINATOR, of=t["ml"])
    page = await client.get("/reseau?level=political")
    assert page.status_code == 200
    checked = re.findall(r'name="explorer-level" value="(\w+)" checked', page.text)
    assert checked == ["political"]
    # Only the political link is left: the foyer drops out of the dependencies.
    assert "Léna Faure" not in _section(page.text, "deps-title")
