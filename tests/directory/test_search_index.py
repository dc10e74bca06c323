"""The search index lives in each server process's memory: a write made anywhere (another
process, a form, an import, plain SQL, a cascade) must be seen by the next search of every
process. Here a real `maillage serve` process searches while this process writes, and the
other way round."""

from __future__ import annotations

import asyncio
import gc
import heapq
import random

import httpx
import hypothesis
import pytest
from hypothesis import strategies as st

from directory import search_index
from directory.gazetteer import load_gazetteer
from directory.geo import distance_km
from directory.search import resolve_need, search
from directory.search_index import IndexedService, IndexedSite, SearchIndex, distance_to_sites
from directory.tables import Person, Service, Site, Structure
from directory.vocabulary import Domain
from tests import factories as f
from tests.live import running_server

VALENCE, ROMANS, MONTELIMAR = "26362", "26281", "26198"


def _served(base: str, headers: dict[str, str], **params: object) -> list[str]:
    params = {"commune": VALENCE, "radius_km": 30, **params}
    response = httpx.get(f"{base}/api/v1/search", params=params, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    return sorted(hit["structure_name"] for hit in results["items"] + results["remote"])


async def _here(need: str = "logement", words: str = "") -> list[str]:
    results = await search(load_gazetteer().get(VALENCE), resolve_need(need), words)
    return sorted(hit.structure_name for hit in results.items + results.remote)


async def test_writes_here_are_seen_by_the_next_search_of_a_server_process(database_url):
    kept, _ = await f.partner("Foyer de Valence", VALENCE)
    moved, moved_service = await f.partner("Résidence de Romans", ROMANS)
    headers = await f.api_client_headers()
    with running_server(database_url) as base:
        assert _served(base, headers, need="logement") == [
            "Foyer de Valence",
            "Résidence de Romans",
        ]

        # Plain SQL, no store: the site moves 45 km south, out of the 30 km circle.
        far = load_gazetteer().get(MONTELIMAR)
        await Site.update({Site.lat: far.lat, Site.lon: far.lon}).where(Site.structure == moved)
        assert _served(base, headers, need="logement") == ["Foyer de Valence"]

        # The service changes domain: no longer a housing partner, now a health one.
        await Site.update({Site.commune: VALENCE}).where(Site.structure == moved)
        await Service.update(
            {Service.domains: [Domain.HEALTH.value], Service.search_text: "foyer sante"}
        ).where(Service.structure == kept)
        assert _served(base, headers, need="logement") == []
        assert _served(base, headers, need="santé") == ["Foyer de Valence"]

        # A new partner, then a closed one, then a deleted one (its rows go by cascade).
        await f.partner("Point accueil jeunes", VALENCE, (Domain.HEALTH,))
        assert _served(base, headers, need="santé") == ["Foyer de Valence", "Point accueil jeunes"]
        await Structure.update({Structure.status: "closed"}).where(Structure.id == kept)
        assert _served(base, headers, need="santé") == ["Point accueil jeunes"]
        await Structure.delete().where(Structure.name == "Point accueil jeunes")
        assert _served(base, headers, need="santé") == []

        # A remote service stays in the remote list until it stops working remotely.
        await f.partner("Ligne jeunes", MONTELIMAR, on_site=False, remote=True)
        assert _served(base, headers, need="logement") == ["Ligne jeunes"]
        await Service.update({Service.remote: False, Service.on_site: True}).where(
            Service.name == "Ligne jeunes accueil"
        )
        assert _served(base, headers, need="logement") == []
        assert moved_service  # the moved partner stayed out of every housing search above


def _shown(base: str, headers: dict[str, str]) -> dict[str, object]:
    response = httpx.get(
        f"{base}/api/v1/search",
        params={"commune": VALENCE, "need": "logement"},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    (hit,) = response.json()["results"]["items"]
    return hit


async def test_what_a_result_shows_follows_every_write(database_url):
    """What a result shows of a structure (its name, its service, its site, its people) is
    the database's at a server process's next search, whoever wrote it and however (here
    plain SQL, from this process): a guard for anything that would keep results' rows."""
    structure_id, service_id = await f.partner("Foyer de Valence", VALENCE)
    camille = await f.person(structure_id, "Camille", "Arnaud", phone="+33475000001")
    await Service.update({Service.contact: camille}).where(Service.id == service_id)
    headers = await f.api_client_headers()
    with running_server(database_url) as base:
        hit = _shown(base, headers)
        assert (hit["structure_name"], hit["contact"]["name"]) == (
            "Foyer de Valence",
            "Camille Arnaud",
        )

        await Structure.update({Structure.name: "Foyer des jeunes de Valence"}).where(
            Structure.id == structure_id
        )
        await Service.update({Service.description: "Chambres et accompagnement"}).where(
            Service.id == service_id
        )
        await Site.update({Site.address: "3 rue Bouffier", Site.walk_in: True}).where(
            Site.structure == structure_id
        )
        await Person.update({Person.phone: "+33475000002"}).where(Person.id == camille)
        hit = _shown(base, headers)
        assert hit["structure_name"] == "Foyer des jeunes de Valence"
        assert hit["description"] == "Chambres et accompagnement"
        assert (hit["address"], hit["walk_in"]) == ("3 rue Bouffier", True)
        assert hit["contact"]["phone_display"] == "04 75 00 00 02"

        # The contact leaves: the structure's other active person is shown instead.
        await f.person(structure_id, "Dominique", "Blanc")
        await Person.update({Person.active: False}).where(Person.id == camille)
        assert _shown(base, headers)["contact"]["name"] == "Dominique Blanc"
        await Person.delete().where(Person.structure == structure_id)
        assert _shown(base, headers)["contact"] is None


async def test_writes_of_a_server_process_are_seen_by_the_next_search_here(database_url):
    structure_id, _ = await f.partner("Foyer de Valence", VALENCE, (Domain.HEALTH,))
    assert await _here() == []  # this process's index is built: no housing partner yet
    headers = await f.api_client_headers(f.Role.COORDINATOR)
    with running_server(database_url) as base:
        # The server writes, through the API: a housing service, then the site moves away.
        created = httpx.post(
            f"{base}/api/v1/structures/{structure_id}/services",
            json={"name": "Accès au logement", "domains": ["housing"]},
            headers=headers,
            timeout=30,
        )
        assert created.status_code == 201, created.text
        assert await _here() == ["Foyer de Valence"]
        site = await Site.select(Site.id).where(Site.structure == structure_id).first()
        moved = httpx.put(
            f"{base}/api/v1/sites/{site['id']}",
            json={"commune": MONTELIMAR},
            headers=headers,
            timeout=30,
        )
        assert moved.status_code == 200, moved.text
    assert await _here() == []


async def test_words_follow_the_services_text(database_url):
    structure_id, service_id = await f.partner("Foyer de Valence", VALENCE)
    assert await _here(words="colocation") == []  # the word is now remembered as matching none
    await Service.update({Service.search_text: "foyer de valence colocation"}).where(
        Service.id == service_id
    )
    assert await _here(words="colocation") == ["Foyer de Valence"]
    await Service.update({Service.search_text: "foyer de valence"}).where(Service.id == service_id)
    assert await _here(words="colocation") == []
    assert structure_id


async def test_searches_asking_for_one_word_at_once_share_one_lookup(database_url):
    """A server just started gets many searches for the same need at once: each used to
    scan the whole service table for the word (32 scans at 32 clients)."""
    await f.partner("Foyer de Valence", VALENCE)
    await f.partner("Foyer de Romans", ROMANS)
    index = await search_index.current_index()
    found = await asyncio.gather(*(search_index.text_matches(index, "foyer") for _ in range(8)))
    assert len(found[0]) == 2
    assert all(ids is found[0] for ids in found)  # one lookup's answer, given to all


async def test_emptied_tables_and_old_changes_rebuild_the_index(database_url, monkeypatch):
    await f.partner("Foyer de Valence", VALENCE)
    assert await _here() == ["Foyer de Valence"]
    await Structure.delete().where(Structure.name == "Foyer de Valence")
    assert await _here() == []

    # Many changes later, old ones are forgotten; an index behind them reads everything.
    monkeypatch.setattr(search_index, "KEEP_DIRTY", 3)
    for n in range(4):
        await f.partner(f"Foyer {n}", VALENCE)
    assert await _here() == [f"Foyer {n}" for n in range(4)]
    rows = await Structure.raw("SELECT n, floor FROM directory_version")
    version, floor = rows[0]["n"], rows[0]["floor"]
    assert floor == version - 3
    left = await Structure.raw("SELECT MIN(n) AS low FROM directory_dirty")
    assert left[0]["low"] is None or left[0]["low"] > floor


@pytest.fixture(autouse=True)
def _fresh_index() -> None:
    """Each test starts from an index this process has not built yet."""
    search_index._indexes.clear()


def test_index_distances_are_geos_to_the_last_bit():
    """The index keeps each site's trigonometry: the distances (and so the order of ties and
    the radius's edge) must stay exactly those of directory.geo.distance_km."""
    rng = random.Random(20261201)
    for _ in range(2000):
        origin = (rng.uniform(41, 51.5), rng.uniform(-5.5, 9.8))
        place = (origin[0] + rng.uniform(-2, 2), origin[1] + rng.uniform(-2, 2))
        site = IndexedSite("s", *place)
        assert distance_to_sites(origin)(site) == distance_km(origin, place)
        service = {"id": "v", "structure": "x", "name": "", "on_site": True, "remote": False}
        service["unconditional"] = False
        index = SearchIndex("e", 0)
        index.services["v"] = IndexedService(service, "x", 0, (site,), ())
        site.services = ("v",)
        index.cells[site.cell] = {"s": site}
        radius = distance_km(origin, place) + 0.5
        found = index.nearest_within(origin, radius, _Everything(), 20)
        assert found == ({"v": (distance_km(origin, place), "s")}, {"v"})


class _Everything:
    asked = "everything"

    def __call__(self, service: IndexedService) -> bool:
        return True


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(
    places=st.lists(
        st.tuples(st.floats(-0.3, 0.3), st.floats(-0.4, 0.4), st.integers(0, 2)),
        min_size=1,
        max_size=120,
    ),
    radius=st.floats(0.5, 40),
    first=st.integers(1, 12),
    matching=st.integers(1, 3),
)
def test_nearest_first_and_counts_are_brute_forces(places, radius, first, matching):
    """Cells wholly inside the circle and too far to change the page are counted without
    distances: the page (nearest first, then by id) and the set within the radius must be
    exactly what measuring every site gives. Services have one or two sites (a third of
    them on the same spot as another), and only some match."""
    origin = (45.0, 4.9)
    index = SearchIndex("e", 0)
    sites = []
    for n, (dlat, dlon, twin) in enumerate(places):
        point = (origin[0] + dlat, origin[1] + dlon) if twin or not sites else sites[-1][1]
        sites.append((IndexedSite(f"site{n:03}", *point), point))
    services = {}
    for n, (site, _) in enumerate(sites):
        at = (site,) if n % 3 else (site, sites[n // 2][0])
        row = {"id": f"svc{n:03}", "structure": "x", "name": "", "on_site": True}
        row |= {"remote": False, "unconditional": n % matching == 0}
        services[row["id"]] = IndexedService(row, "x", 0, at, ())
    index.services.update(services)
    given: dict[str, list[str]] = {}
    for service in services.values():
        for site in service.sites:
            given.setdefault(site.id, []).append(service.id)
    for site, _ in sites:
        site.services = tuple(given.get(site.id, ()))
        index.cells.setdefault(site.cell, {})[site.id] = site

    class Unconditional:
        asked = ("unconditional", matching)

        def __call__(self, service: IndexedService) -> bool:
            return service.unconditional

    nearest, inside = index.nearest_within(origin, radius, Unconditional(), first)
    truth: dict[str, tuple[float, str]] = {}
    for service in services.values():
        if not service.unconditional:
            continue
        for site in service.sites:
            distance = distance_to_sites(origin)(site)
            best = truth.get(service.id)
            if distance <= radius and (best is None or (distance, site.id) < best):
                truth[service.id] = (distance, site.id)
    assert inside == set(truth)
    page = heapq.nsmallest(first, truth.items(), key=lambda item: (item[1][0], item[0]))
    got = heapq.nsmallest(first, nearest.items(), key=lambda item: (item[1][0], item[0]))
    assert got == page


def test_cached_matches_leave_the_garbage_collectors_walks():
    """Every full collection of a national server walked the cached cells (60 ms, every 2
    to 4 s of answers): they hold numbers only, which the collector stops tracking."""
    index = SearchIndex("e", 0)
    site = IndexedSite(1, 45.0, 4.9)
    site.services = (10, 11)
    index.cells[site.cell] = {site.id: site}
    for service_id in (10, 11):
        row = {"id": service_id, "name": "", "remote": False, "unconditional": True}
        index.services[service_id] = IndexedService(row, 1, 0, (site,), ())
    nearest, inside = index.nearest_within((45.0, 4.9), 5, _Everything(), 5)
    assert inside == {10, 11} and nearest[10] == (0.0, 1)
    for _ in range(3):  # a pass may untrack one level of nested tuples only
        gc.collect()
    cached = list(index.cell_matches.items.values())
    assert cached and not any(gc.is_tracked(value) for value in cached)
    assert not gc.is_tracked(index.cell_matches.sizes)


def test_caches_of_matches_are_bounded_by_the_services_they_hold():
    """A server answering every kind of search must not grow without end: the caches of
    matching services drop the least recently used beyond their budget."""
    cache = search_index._Bounded[str, set[str]](budget=10)
    cache.put("paris", set("abcdef"), 6)
    cache.put("lyon", set("ghi"), 3)
    assert cache.get("paris") == set("abcdef")  # now the most recently used
    cache.put("marseille", set("jkl"), 3)
    assert cache.get("lyon") is None and cache.held == 9
    assert cache.get("paris") is not None and cache.get("marseille") is not None
    cache.put("paris", set("ab"), 2)  # replaced: counted once, at its new size
    assert cache.held == 5 and cache.get("paris") == set("ab")
