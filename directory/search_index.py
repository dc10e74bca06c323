"""What partner search filters on, held in memory: one index per database and process.

Search used to ask the database for every site in the circle (24,000 rows around Paris)
and rank them in Python; the index answers from memory with the page's service ids, which
search then reads from the database as before. It follows the database through the
version that triggers keep on structure, site and service (directory_version and
directory_dirty, see the migration of 2026-12-01 06:40): every search reads the counter,
one tiny query, and reloads only the structures changed since, so that a write is visible
to the next search of every server process.

Kept small: for each service of an active structure, its sites, a bit mask of its domain,
thematique and public keys, its zone and remote keys, and its name if it works remotely
(the remote list is ordered by name). Services' texts are not held: a word is looked up
once in SQL (LIKE, as before) and its matches kept while the index follows the changes."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import heapq
import math
import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, Generic, NamedTuple, Protocol, TypeVar
from uuid import UUID

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from directory.geo import EARTH_RADIUS, bounding_box, great_circle_km
from directory.raw import fetch
from directory.store import service_keys
from directory.tables import Service, Site, Structure

# Beyond this many changed structures, reading everything again is cheaper.
FULL_RELOAD_ABOVE = 20_000
# Versions of changes kept in the database behind the newest (SQLite counts one per row).
KEEP_DIRTY = 50_000
_CHUNK = 500
_BUILD_CHUNK = 1_000
# What the caches of matching services may hold in all, counted in services (about 70 bytes
# each): a few tens of MB, whatever the mix of searches. The 500 queries of search_rate.py
# fill 141,000 of cell matches and 13,000 of remote lists (150,000 measured slower); words
# hold the index's ids (a word like "accompagnement" matches 90,000 services).
_TEXTS_HELD = 300_000
_REMOTE_LISTS_HELD = 300_000
_CELL_MATCHES_HELD = 300_000
_ZONED_LISTS_HELD = 100_000
# The index's own grid, finer than the database's (directory.geo, 0.1°): about 2.8 km by
# 1.9 km in mainland France, so that a city is many cells, most of them far from the place.
GRID_DEGREES = 0.025
_KM_PER_DEGREE = EARTH_RADIUS * math.pi / 180


class _Matcher(Protocol):
    asked: Hashable

    def __call__(self, service: IndexedService) -> bool: ...


_INDEXES_KEPT = 4
K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")


class IndexedSite:
    """A geolocated site, with the trigonometry of its latitude done once: distances to it
    are computed by the very same operations as directory.geo.distance_from, in the same
    order, so they are the same floats to the last bit."""

    __slots__ = ("cell", "cos_lat", "id", "lon_rad", "services", "sin_lat")

    def __init__(self, site_id: int, lat: float, lon: float) -> None:
        self.id = site_id
        self.cell = (math.floor(lat / GRID_DEGREES), math.floor(lon / GRID_DEGREES))
        lat_rad = math.radians(lat)
        self.sin_lat = math.sin(lat_rad)
        self.cos_lat = math.cos(lat_rad)
        self.lon_rad = math.radians(lon)
        # The ids of the services given here, on site: ids, not the services, which hold
        # their sites: no reference cycle, so that a site and its services are freed as
        # soon as they leave the index, even when the garbage collector skips them (freeze).
        self.services: tuple[int, ...] = ()


def uuid_int(value: UUID | str) -> int:
    """A UUID as the index holds it: its 128-bit number, half the memory of its text, in
    the same order (the text is lowercase hex of fixed width)."""
    return value.int if isinstance(value, UUID) else int(value.replace("-", ""), 16)


def by_name(service: IndexedService) -> tuple[str, int]:
    """The remote list's order."""
    return service.name, service.id


class IndexedService:
    __slots__ = (
        "id",
        "listed_by",
        "mask",
        "name",
        "next_of_structure",
        "sites",
        "structure",
        "unconditional",
    )

    def __init__(
        self,
        row: dict[str, Any],
        structure: int,
        mask: int,
        sites: tuple[IndexedSite, ...],
        listed_by: tuple[str, ...],
    ) -> None:
        self.id: int = row["id"]  # uuid_int of the service's id
        self.structure = structure  # one number per structure, shared by its services
        # Only the remote list is ordered by name: other services need not hold it.
        self.name: str = row["name"] if row["remote"] else ""
        self.unconditional: bool = row["unconditional"]
        self.mask = mask  # its "d:", "t:" and "p:" keys
        self.sites = sites  # where it is given on site (none when it is not)
        self.listed_by = listed_by  # its "z:" and "r:" keys
        # Its structure's services are a chain from SearchIndex.held: no tuple per structure.
        self.next_of_structure: IndexedService | None = None


# A cell's sites that give a matching service: their sin and cos of latitude, longitude in
# radians and id, side by side, then those services' ids per site, and all of them once each.
# Plain tuples of numbers: the garbage collector stops tracking such tuples at its first
# pass, so the cache is not walked by every full collection. Its first form (a NamedTuple
# of the sites themselves) left 64,000 tracked objects after 500 searches, and a full
# collection every 2 to 4 s of a server's answers, 40 to 90 ms each.
CellMatches = tuple[
    tuple[float, ...],
    tuple[float, ...],
    tuple[float, ...],
    tuple[int, ...],
    tuple[tuple[int, ...], ...],
    tuple[int, ...],
]


class RemoteList(NamedTuple):
    ids: set[int]
    by_name: list[IndexedService]  # by (name, id)


class _Bounded(Generic[K, V]):
    """A least-recently-used cache bounded by the number of services its values hold.
    Sizes are kept apart from the values: a (value, size) pair per entry stayed tracked by
    the garbage collector (17,000 of them after 500 searches) where the values did not."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.held = 0
        self.items: OrderedDict[K, V] = OrderedDict()
        self.sizes: dict[K, int] = {}

    def get(self, key: K) -> V | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key: K, value: V, size: int) -> None:
        self.held += size - self.sizes.get(key, 0)
        self.items[key] = value
        self.items.move_to_end(key)
        self.sizes[key] = size
        while self.held > self.budget and len(self.items) > 1:
            dropped, _ = self.items.popitem(last=False)
            self.held -= self.sizes.pop(dropped)

    def clear(self) -> None:
        self.items.clear()
        self.sizes.clear()
        self.held = 0


def _chain(first: IndexedService | None) -> Iterator[IndexedService]:
    while first is not None:
        yield first
        first = first.next_of_structure


class SearchIndex:
    def __init__(self, epoch: str, version: int) -> None:
        self.epoch = epoch
        self.version = version
        self.cells: dict[tuple[int, int], dict[int, IndexedSite]] = {}
        self.services: dict[int, IndexedService] = {}
        # "z:<zone>" and "r:<zone>" keys -> services: zones and remote lists are read by key.
        self.by_key: dict[str, set[int]] = {}
        # What one structure put in the index, to take it out again: the first of its
        # services (its sites are those of its services: a site with no service is not
        # indexed).
        self.held: dict[int, IndexedService] = {}
        # Folded word -> ids of the services whose text holds it.
        self.texts: OrderedDict[str, set[int]] = OrderedDict()
        # (remote key, what the search asks) -> the matching services, as a set and by
        # name: a rural search otherwise checks the 7,000 remote services open everywhere.
        # Emptied by every change.
        self.remote_lists: _Bounded[tuple[str, Hashable], RemoteList] = _Bounded(_REMOTE_LISTS_HELD)
        # (cell, what the search asks) -> the matching services given in the cell: a cell
        # wholly inside the circle and too far to change the page is counted from it.
        self.cell_matches: _Bounded[tuple[tuple[int, int], Hashable], CellMatches] = _Bounded(
            _CELL_MATCHES_HELD
        )
        # (zone key, what the search asks) -> the matching services given on site.
        self.zoned_lists: _Bounded[tuple[str, Hashable], list[IndexedService]] = _Bounded(
            _ZONED_LISTS_HELD
        )
        self._bits: dict[str, int] = {}
        self._masks: dict[int, int] = {}
        # One tuple per cell, shared by its sites (a tuple per site weighed 12 MB).
        self._cell_keys: dict[tuple[int, int], tuple[int, int]] = {}

    # ---- what search asks -------------------------------------------------------------

    def mask(self, keys: Iterable[str]) -> int:
        """The bits of these keys; a key no service has gives no bit."""
        bits = 0
        for key in keys:
            bits |= self._bits.get(key, 0)
        return bits

    def nearest_within(
        self,
        origin: tuple[float, float],
        radius_km: float,
        match: _Matcher,
        first: int,
    ) -> tuple[dict[int, tuple[float, int]], set[int]]:
        """The matching services with a site within the radius (a set), and for those that
        can be among the `first` nearest, their distance and nearest site.

        Cells are taken nearest first. Once `first` services are known, a cell whose every
        point is farther than the `first`-th of them cannot change the page: its services
        are only counted, and a cell wholly inside the circle is counted without a single
        distance (from a set kept per cell and per kind of search). A dense city's search
        measures the cells near the place and those on the circle's edge only, and in them
        only the sites that give a matching service (kept per cell as well)."""
        lat1, lng1 = math.radians(origin[0]), math.radians(origin[1])
        sin_lat1, cos_lat1 = math.sin(lat1), math.cos(lat1)
        sin, cos, atan2, sqrt = math.sin, math.cos, math.atan2, math.sqrt
        nearest: dict[int, tuple[float, int]] = {}
        inside: set[int] = set()
        # The first-seen distance of the services met so far, as a max-heap of `first`:
        # each at least its true distance, so its top bounds the page's last distance.
        kept: list[float] = []
        for lower, fully, key in _cells_by_distance(self.cells, origin, radius_km):
            sin_lats, cos_lats, lon_rads, site_ids, per_site, ids = self._matching_in(key, match)
            if len(kept) >= first and lower > -kept[0]:
                if fully:
                    inside.update(ids)
                    continue
                counting = True
            else:
                counting = False
            for sin_lat2, cos_lat2, lon_rad, site_id, services in zip(
                sin_lats, cos_lats, lon_rads, site_ids, per_site, strict=True
            ):
                # directory.geo.great_circle_km written out: this loop runs for thousands
                # of sites per search, and the same operations give the same floats.
                delta = lon_rad - lng1
                cos_delta, sin_delta = cos(delta), sin(delta)
                distance = EARTH_RADIUS * atan2(
                    sqrt(
                        (cos_lat2 * sin_delta) ** 2
                        + (cos_lat1 * sin_lat2 - sin_lat1 * cos_lat2 * cos_delta) ** 2
                    ),
                    sin_lat1 * sin_lat2 + cos_lat1 * cos_lat2 * cos_delta,
                )
                if distance > radius_km:
                    continue
                inside.update(services)
                if counting:
                    continue
                for service_id in services:
                    current = nearest.get(service_id)
                    if current is None:
                        nearest[service_id] = (distance, site_id)
                        if len(kept) < first:
                            heapq.heappush(kept, -distance)
                        elif distance < -kept[0]:
                            heapq.heapreplace(kept, -distance)
                    elif (distance, site_id) < current:  # ties: the smaller site id
                        nearest[service_id] = (distance, site_id)
        return nearest, inside

    def _matching_in(self, key: tuple[int, int], match: _Matcher) -> CellMatches:
        """The cell's sites with a matching service, and those services: a site without
        one is not even measured."""
        cached = self.cell_matches.get((key, match.asked))
        if cached is None:
            sites, services = [], []
            services_by_id = self.services
            for site in self.cells[key].values():
                matching = tuple(i for i in site.services if match(services_by_id[i]))
                if matching:
                    sites.append(site)
                    services.append(matching)
            ids = tuple(dict.fromkeys(i for ids in services for i in ids))
            cached = (
                tuple(site.sin_lat for site in sites),
                tuple(site.cos_lat for site in sites),
                tuple(site.lon_rad for site in sites),
                tuple(site.id for site in sites),
                tuple(services),
                ids,
            )
            self.cell_matches.put((key, match.asked), cached, len(sites) + len(ids) + 1)
        return cached

    def zoned(self, key: str, match: _Matcher) -> list[IndexedService]:
        """The services given on site whose zone is `key` ("z:…") and that match: around
        Paris, 1,800 services are zoned to the metropolis or the département."""
        cached = self.zoned_lists.get((key, match.asked))
        if cached is None:
            services = self.services
            cached = [
                service
                for service in map(services.__getitem__, self.by_key.get(key, ()))
                if service.sites and match(service)
            ]
            self.zoned_lists.put((key, match.asked), cached, len(cached) + 1)
        return cached

    def remote_list(
        self, key: str, asked: Hashable, match: Callable[[IndexedService], bool]
    ) -> RemoteList:
        """The services listed under an "r:" key that match, by (name, id)."""
        cached = self.remote_lists.get((key, asked))
        if cached is not None:
            return cached
        services = self.services
        chosen = [s for s in map(services.__getitem__, self.by_key.get(key, ())) if match(s)]
        chosen.sort(key=by_name)
        found = RemoteList({s.id for s in chosen}, chosen)
        self.remote_lists.put((key, asked), found, len(chosen) + 1)
        return found

    # ---- how it follows the database --------------------------------------------------

    def remove(self, structure_id: int) -> None:
        self.remote_lists.clear()
        self.cell_matches.clear()
        self.zoned_lists.clear()
        held_services = list(_chain(self.held.pop(structure_id, None)))
        for site in {site for service in held_services for site in service.sites}:
            cell = site.cell
            sites = self.cells.get(cell)
            if sites is not None:
                sites.pop(site.id, None)
                if not sites:
                    del self.cells[cell]
                    self._cell_keys.pop(cell, None)
        for service in held_services:
            self.services.pop(service.id, None)
            for key in service.listed_by:
                ids = self.by_key.get(key)
                if ids is not None:
                    ids.discard(service.id)
                    if not ids:
                        del self.by_key[key]
            for ids in self.texts.values():
                ids.discard(service.id)

    def add(
        self,
        structure_id: int,
        sites: Sequence[dict[str, Any]],
        services: Sequence[dict[str, Any]],
    ) -> None:
        """One active structure's geolocated sites and services. Services' rows carry
        their search text when the index holds word matches, to keep them right."""
        self.remote_lists.clear()
        self.cell_matches.clear()
        self.zoned_lists.clear()
        placed: dict[int, IndexedSite] = {}
        given: dict[int, list[int]] = {}
        for row in sites:
            site = IndexedSite(uuid_int(row["id"]), row["lat"], row["lon"])
            site.cell = self._cell_keys.setdefault(site.cell, site.cell)
            placed[site.id] = site
            given[site.id] = []
        everywhere: tuple[IndexedSite, ...] | None = None  # shared by services at every site
        held: IndexedService | None = None
        for row in services:
            keys = service_keys(
                row["domains"], row["thematiques"], row["publics"], row["zone"], row["remote"]
            )
            given_at: tuple[IndexedSite, ...] = ()
            if row["on_site"]:
                if row["site"] is None:
                    if everywhere is None:
                        everywhere = tuple(placed.values())
                    given_at = everywhere
                elif (at := placed.get(uuid_int(row["site"]))) is not None:
                    given_at = (at,)
            listed_by = tuple(sys.intern(k) for k in keys if k[0] in "zr")
            mask = self._mask_of(keys)
            row["id"] = uuid_int(row["id"])
            service = IndexedService(row, structure_id, mask, given_at, listed_by)
            self.services[service.id] = service
            service.next_of_structure, held = held, service
            for site in given_at:
                given[site.id].append(service.id)
            for key in listed_by:
                self.by_key.setdefault(key, set()).add(service.id)
            text = row.get("search_text")
            if text is not None:
                for word, ids in self.texts.items():
                    if word in text:
                        ids.add(service.id)
        for site in placed.values():
            if given[site.id]:
                site.services = tuple(given[site.id])
                self.cells.setdefault(site.cell, {})[site.id] = site
        if held is not None:
            self.held[structure_id] = held

    def _mask_of(self, keys: Iterable[str]) -> int:
        bits = 0
        for key in keys:
            if key[0] in "dtp":
                bit = self._bits.get(key)
                if bit is None:
                    bit = self._bits[key] = 1 << len(self._bits)
                bits |= bit
        # Services share few combinations of keys: one int object per combination.
        return self._masks.setdefault(bits, bits)

    def remember_text(self, word: str, ids: set[int]) -> None:
        self.texts[word] = ids
        # Bounded by the services the sets hold: a word like "accompagnement" matches half
        # the country.
        while len(self.texts) > 1 and sum(map(len, self.texts.values())) > _TEXTS_HELD:
            self.texts.popitem(last=False)


def _cells_by_distance(
    cells: dict[tuple[int, int], dict[int, IndexedSite]],
    origin: tuple[float, float],
    radius_km: float,
) -> list[tuple[float, bool, tuple[int, int]]]:
    """The cells that may hold sites within the radius, nearest first: (a distance no site
    of the cell is nearer than, whether every point of the cell is within the radius, the
    cell). Both bounds come from a flat-earth approximation widened by 2 % and 50 m, more
    than its error at these distances (under 0.5 % up to 200 km), so that they hold for the
    exact distance; a cell near the circle's edge is neither, and its sites are measured."""
    lat0, lon0 = origin
    south, west, north, east = bounding_box(lat0, lon0, radius_km)
    found = []
    lat_range = range(math.floor(south / GRID_DEGREES), math.floor(north / GRID_DEGREES) + 1)
    lon_range = range(math.floor(west / GRID_DEGREES), math.floor(east / GRID_DEGREES) + 1)
    if len(lat_range) * len(lon_range) > len(cells):
        keys = [k for k in cells if k[0] in lat_range and k[1] in lon_range]
    else:
        keys = [k for k in ((i, j) for i in lat_range for j in lon_range) if k in cells]
    # A row of cells shares its latitudes: their cosines are taken once per row.
    rows: dict[int, tuple[float, float, float, float]] = {}
    for key in keys:
        row = rows.get(key[0])
        if row is None:
            low_lat = key[0] * GRID_DEGREES
            high_lat = low_lat + GRID_DEGREES
            row = rows[key[0]] = (
                max(low_lat - lat0, 0.0, lat0 - high_lat) * _KM_PER_DEGREE,
                max(abs(low_lat - lat0), abs(high_lat - lat0)) * _KM_PER_DEGREE,
                math.cos(math.radians(max(abs(low_lat), abs(high_lat), abs(lat0)))),
                math.cos(math.radians(min(abs(low_lat), abs(high_lat), abs(lat0)))),
            )
        dy_near, dy_far, cos_far, cos_near = row
        low_lon = key[1] * GRID_DEGREES
        high_lon = low_lon + GRID_DEGREES
        dx = max(low_lon - lon0, 0.0, lon0 - high_lon) * _KM_PER_DEGREE * cos_far
        lower = math.hypot(dx, dy_near) * 0.98 - 0.05
        if lower > radius_km:
            continue
        dx = max(abs(low_lon - lon0), abs(high_lon - lon0)) * _KM_PER_DEGREE * cos_near
        upper = math.hypot(dx, dy_far) * 1.02 + 0.05
        found.append((lower, upper <= radius_km, key))
    found.sort()
    return found


def distance_to_sites(origin: tuple[float, float]) -> Callable[[IndexedSite], float]:
    """The same distance as nearest_within's, for a few sites at a time."""
    lat1, lng1 = math.radians(origin[0]), math.radians(origin[1])
    sin_lat1, cos_lat1 = math.sin(lat1), math.cos(lat1)

    def measure(site: IndexedSite) -> float:
        return great_circle_km(sin_lat1, cos_lat1, lng1, site.sin_lat, site.cos_lat, site.lon_rad)

    return measure


# ---- reading the database ---------------------------------------------------------------

_SITE_COLUMNS = (Site.id, Site.structure, Site.lat, Site.lon)
_SERVICE_COLUMNS = (
    Service.id,
    Service.structure,
    Service.site,
    Service.name,
    Service.on_site,
    Service.remote,
    Service.unconditional,
    Service.domains,
    Service.thematiques,
    Service.publics,
    Service.zone,
)


async def _version() -> tuple[int, int, str]:
    rows = await fetch(Structure, "SELECT n, floor, epoch FROM directory_version WHERE id = 1")
    row = rows[0]
    return int(row["n"]), int(row["floor"]), str(row["epoch"])


# Set by a server process at start-up (service.app, Settings.gc_freeze): see _settle.
freeze_after_build = False


def _settle() -> None:
    """A national index is a million objects that live as long as the process, and every
    full collection of the garbage collector walked them all: 0.5 s, twice in 1,500
    searches, the slowest answers of a server. Once built, they are moved out of its walks
    (gc.freeze). They hold no reference cycle, so what leaves the index is still freed."""
    if freeze_after_build:
        gc.collect()
        gc.freeze()


@contextlib.contextmanager
def _no_collections() -> Iterator[None]:
    """The garbage collector off while an index is built: each of its full collections
    walked the growing index, 28 of them in a national build, 90 to 450 ms each (7 of the
    11 seconds of a server's start). The index holds no reference cycle to collect."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def _build(epoch: str, version: int) -> SearchIndex:
    """Everything, a few thousand structures at a time (ranges of ids, no long lists):
    reading the whole service table at once made a national server peak at 1.2 GB, which
    it then kept."""
    with _no_collections():
        index = await _read_all(epoch, version)
    _settle()
    return index


async def _read_all(epoch: str, version: int) -> SearchIndex:
    index = SearchIndex(epoch, version)
    rows = await Structure.select(Structure.id).where(Structure.status == "active")
    active = sorted(str(r["id"]) for r in rows)
    del rows
    for start in range(0, len(active), _BUILD_CHUNK):
        chunk = active[start : start + _BUILD_CHUNK]
        low, high = chunk[0], chunk[-1]
        wanted = set(chunk)
        sites: dict[str, list[dict[str, Any]]] = {}
        for row in await Site.select(*_SITE_COLUMNS).where(
            (Site.structure >= low) & (Site.structure <= high) & Site.lat.is_not_null()
        ):
            if (structure := str(row["structure"])) in wanted:
                sites.setdefault(structure, []).append(row)
        services: dict[str, list[dict[str, Any]]] = {}
        for row in await Service.select(*_SERVICE_COLUMNS).where(
            (Service.structure >= low) & (Service.structure <= high)
        ):
            if (structure := str(row["structure"])) in wanted:
                services.setdefault(structure, []).append(row)
        for structure in chunk:
            index.add(uuid_int(structure), sites.get(structure, ()), services.get(structure, ()))
    return index


_Read = tuple[str, list[dict[str, Any]] | None, list[dict[str, Any]] | None]


async def _reload(index: SearchIndex, structure_ids: list[str]) -> list[_Read]:
    """Read again what these structures hold (None: not active, or gone); applied later,
    all at once, between two awaits."""
    read: list[_Read] = []
    with_text = bool(index.texts)
    columns = (*_SERVICE_COLUMNS, Service.search_text) if with_text else _SERVICE_COLUMNS
    for start in range(0, len(structure_ids), _CHUNK):
        chunk = structure_ids[start : start + _CHUNK]
        active = {
            str(r["id"])
            for r in await Structure.select(Structure.id).where(
                Structure.id.is_in(chunk) & (Structure.status == "active")
            )
        }
        sites: dict[str, list[dict[str, Any]]] = {}
        services: dict[str, list[dict[str, Any]]] = {}
        if active:
            wanted = list(active)
            for row in await Site.select(*_SITE_COLUMNS).where(
                Site.structure.is_in(wanted) & Site.lat.is_not_null()
            ):
                sites.setdefault(str(row["structure"]), []).append(row)
            for row in await Service.select(*columns).where(Service.structure.is_in(wanted)):
                services.setdefault(str(row["structure"]), []).append(row)
        for structure in chunk:
            if structure in active:
                read.append((structure, sites.get(structure, []), services.get(structure, [])))
            else:
                read.append((structure, None, None))
    return read


# ---- one index per database -------------------------------------------------------------

_indexes: OrderedDict[tuple[Any, ...], SearchIndex] = OrderedDict()


def _database_key(engine: Engine) -> tuple[Any, ...]:
    if isinstance(engine, PostgresEngine):
        config = engine.config
        return ("postgres", config.get("host"), config.get("port"), config.get("database"))
    return ("sqlite", getattr(engine, "path", None))


async def current_index() -> SearchIndex:
    """The index of the bound database, brought up to date with every committed write."""
    key = _database_key(Structure._meta.db)
    version, floor, epoch = await _version()
    index = _indexes.get(key)
    if index is None or index.epoch != epoch or index.version < floor:
        index = await _built_once(key, epoch, version)
    elif index.version < version:
        index = await _catch_up(index, version)
        if version - floor > 2 * KEEP_DIRTY:
            await _prune(version - KEEP_DIRTY)
    _indexes[key] = index
    _indexes.move_to_end(key)
    while len(_indexes) > _INDEXES_KEPT:
        _indexes.popitem(last=False)
    return index


_building: dict[tuple[Any, ...], asyncio.Task[SearchIndex]] = {}


async def _once(
    running: dict[Any, asyncio.Task[T]], key: Hashable, start: Callable[[], Awaitable[T]]
) -> T:
    """The result of the work already running for `key` in this event loop, or of work
    started now: callers asking for the same thing at the same time wait for one piece."""
    task = running.get(key)
    if task is None or task.get_loop() is not asyncio.get_running_loop():
        task = asyncio.ensure_future(start())
        running[key] = task
        task.add_done_callback(
            lambda done: running.pop(key, None) if running.get(key) is done else None
        )
    return await asyncio.shield(task)


async def _built_once(key: tuple[Any, ...], epoch: str, version: int) -> SearchIndex:
    """Searches arriving while the index is built wait for that build instead of starting
    their own (a national build takes seconds)."""
    index = await _once(_building, key, lambda: _build(epoch, version))
    # Built from an older version than this search read: catch up on what came since.
    return await _catch_up(index, version) if index.version < version else index


async def warm() -> None:
    """Build the bound database's index ahead of the first search (server start-up)."""
    await current_index()


async def stop_building() -> None:
    """Cancel the builds of this event loop (server shutdown): none outlives its loop."""
    loop = asyncio.get_running_loop()
    for task in [t for t in _building.values() if t.get_loop() is loop]:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _catch_up(index: SearchIndex, version: int) -> SearchIndex:
    rows = await Structure.raw(
        "SELECT DISTINCT CAST(structure AS TEXT) AS structure FROM directory_dirty "
        "WHERE n > {} AND n <= {}",
        index.version,
        version,
    )
    changed = [r["structure"] for r in rows]
    if len(changed) > FULL_RELOAD_ABOVE:
        return await _build(index.epoch, version)
    read = await _reload(index, changed)
    if index.version >= version:  # another search of this process caught up meanwhile
        return index
    for structure, sites, services in read:
        number = uuid_int(structure)
        index.remove(number)
        if sites is not None and services is not None:
            index.add(number, sites, services)
    index.version = version
    return index


async def _prune(below: int) -> None:
    """Forget old changes; an index older than that rebuilds whole (floor)."""
    if below <= 0:
        return
    await Structure.raw(
        "UPDATE directory_version SET floor = {} WHERE id = 1 AND floor < {}", below, below
    )
    await Structure.raw("DELETE FROM directory_dirty WHERE n <= {}", below)


async def text_matches(index: SearchIndex, word: str) -> set[int]:
    """Ids of the services whose search text holds `word` (folded, as the text is).

    Searches that ask for the same word while it is being looked up wait for that one
    lookup: on a server just started, 32 clients asking for « logement » at once ran 32
    scans of the whole service table, and a SQLite server went from 300 to 440 MB and
    answered 3 searches a second."""
    found = index.texts.get(word)
    if found is not None:
        index.texts.move_to_end(word)
        return found
    # Only a lookup started at the index's present version is shared: one started earlier
    # may have read the table before a change this search already sees.
    key = (id(index), index.version, word)
    return await _once(_looking_up, key, lambda: _look_up(index, word))


_looking_up: dict[tuple[int, int, str], asyncio.Task[set[int]]] = {}


async def _look_up(index: SearchIndex, word: str) -> set[int]:
    version = index.version
    rows = await fetch(
        Service, "SELECT CAST(id AS TEXT) AS id FROM service WHERE search_text LIKE {}", f"%{word}%"
    )
    # The index's own id strings (a word can match half the country's services), and only
    # those of indexed services: a service added later has its text checked by add().
    services = index.services
    found = {s.id for r in rows if (s := services.get(uuid_int(r["id"]))) is not None}
    # Kept only if no change was applied while reading: a change read before the query
    # would otherwise be lost to the cache.
    if index.version == version:
        index.remember_text(word, found)
    return found
