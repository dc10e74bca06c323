"""Territorial coverage: for every commune and every domain, which partners reach it, and
whether the mesh there has a hole (gap), hangs by a thread (fragile), holds (covered), or
cannot be judged because the partners' contacts are unknown (unknown).

Pure functions over plain records: no database, no HTTP. A partner reaches a commune for a
domain when one of its on-site services for that domain has a site within the domain's
reach (great-circle distance from the commune's coordinates, geopy's formula and Earth
radius), or when that service's eligibility zone covers the commune (its INSEE code, its
EPCI, its département, or "france"). Remote services are listed apart and never count as
coverage.

Nothing here compares every commune with every site. Sites are put once in a latitude /
longitude grid whose cells are a fraction of the reach; for each commune, the cells of a
grid row that lie wholly inside the reach circle are taken in bulk (their set of
structures), the few cells on the circle's edge are checked site by site, and the others
are never looked at. Zones are a dict from code to structures, so eligibility is four
lookups per commune."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

FRANCE = "france"
KLASSES: tuple[str, ...] = ("gap", "fragile", "unknown", "covered")
# Reasons, in the order a cell lists them.
REASONS: tuple[str, ...] = (
    "one_partner",
    "single_person",
    "expired_convention",
    "unresponsive",
    "unknown_contact",
)
DEFAULT_REACH_KM = 15.0
# geopy.distance.EARTH_RADIUS, as in directory.geo: importing geopy.distance loads all of
# geopy and its HTTP clients (15 to 20 MB per server process) for this one number.
EARTH_RADIUS = 6371.009

# Grid cells are the reach divided by this, in latitude (and as many km in longitude at the
# territory's median latitude). Measured on the national benchmark: smaller cells mean
# more cells to visit per commune, larger ones more sites to check one by one on the edge.
CELLS_PER_REACH = 4
# Safety margin, in degrees (about 1 m), when deciding that a cell is wholly inside the
# circle or wholly outside it: acos loses precision near its ends.
_MARGIN_DEG = 1e-5
# Sites whose cosine of angular distance is this close to the reach's are decided by the
# exact great-circle formula, so that results equal geopy's to the last digit.
_COS_BAND = 1e-12
_PROGRESS_EVERY = 500

_SINGLE_PERSON, _EXPIRED, _UNRESPONSIVE, _UNKNOWN = 1, 2, 4, 8
_FRAGILE_BITS = _SINGLE_PERSON | _EXPIRED | _UNRESPONSIVE


@dataclass(frozen=True, slots=True)
class CommunePoint:
    insee: str
    name: str
    lat: float
    lon: float
    population: int
    epci: str
    departement: str


@dataclass(frozen=True, slots=True)
class ProviderSite:
    structure_id: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class ProviderService:
    """One service of a structure. `zone` holds INSEE codes, EPCI SIRENs, département codes
    or "france"; empty means the service states no restriction. `sites` are where it is
    offered on site."""

    structure_id: str
    domains: frozenset[str]
    on_site: bool
    remote: bool
    zone: frozenset[str]
    sites: tuple[ProviderSite, ...]


@dataclass(frozen=True, slots=True)
class Fragility:
    """Structure ids whose partnership rests on one person, whose only convention with the
    Mission Locale is expired, or whose referrals go unanswered; and, apart, those of which
    the directory knows no contact at all (just imported, say): missing data is not a
    fragility, so a structure in `unknown_contact` alone never makes a cell fragile."""

    single_person: frozenset[str] = frozenset()
    expired_convention: frozenset[str] = frozenset()
    unresponsive: frozenset[str] = frozenset()
    unknown_contact: frozenset[str] = frozenset()


class CoverageCell:
    """One commune × one domain. `providers` are the structures reaching it (sorted by id);
    `remote` those that offer it only remotely to this commune (listed apart, not counted).
    `klass` is "gap" (no provider), "fragile" (one provider, or only fragile ones),
    "unknown" (the answer hangs on partners whose contacts are unknown) or "covered";
    `reasons` say why a cell is fragile or unknown, in the order of REASONS.

    A read-only value. `coverage` gives its cells the providers as structure numbers and
    the shared list of ids, and `providers` turns them into sorted ids on first read: the
    national map has 28 million commune-domain-provider links and most readers only need
    the class, the population or one domain's cells."""

    __slots__ = (
        "_ids",
        "_numbers",
        "_providers",
        "domain",
        "insee",
        "klass",
        "population",
        "reasons",
        "remote",
    )
    FIELDS = ("insee", "domain", "population", "providers", "remote", "klass", "reasons")

    def __init__(
        self,
        insee: str,
        domain: str,
        population: int,
        providers: tuple[str, ...],
        remote: tuple[str, ...],
        klass: str,
        reasons: tuple[str, ...],
    ) -> None:
        self.insee = insee
        self.domain = domain
        self.population = population
        self._providers: tuple[str, ...] | None = tuple(providers)
        self._numbers: tuple[int, ...] = ()
        self._ids: Sequence[str] = ()
        self.remote = remote
        self.klass = klass
        self.reasons = reasons

    @classmethod
    def _numbered(
        cls,
        insee: str,
        domain: str,
        population: int,
        numbers: tuple[int, ...],
        ids: Sequence[str],
        remote: tuple[str, ...],
        klass: str,
        reasons: tuple[str, ...],
    ) -> CoverageCell:
        """A cell whose providers are `ids[n]` for n in `numbers` (any order), where ids are
        sorted, so that sorting numbers sorts ids."""
        cell = cls.__new__(cls)
        cell.insee = insee
        cell.domain = domain
        cell.population = population
        cell._providers = None if numbers else ()
        cell._numbers = numbers
        cell._ids = ids
        cell.remote = remote
        cell.klass = klass
        cell.reasons = reasons
        return cell

    @property
    def providers(self) -> tuple[str, ...]:
        providers = self._providers
        if providers is None:
            providers = self._providers = tuple(map(self._ids.__getitem__, sorted(self._numbers)))
            self._numbers, self._ids = (), ()
        return providers

    def as_dict(self) -> dict[str, Any]:
        """The fields by name, in order: what the JSON API sends for a cell."""
        return dict(zip(self.FIELDS, self._key(), strict=True))

    def _key(self) -> tuple[Any, ...]:
        return (
            self.insee,
            self.domain,
            self.population,
            self.providers,
            self.remote,
            self.klass,
            self.reasons,
        )

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        values = ", ".join(
            f"{name}={value!r}" for name, value in zip(self.FIELDS, self._key(), strict=True)
        )
        return f"CoverageCell({values})"


# --------------------------------------------------------------------------- geometry


def _great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """geopy's great_circle (same formula, same Earth radius), on radians."""
    sin_lat1, cos_lat1 = math.sin(lat1), math.cos(lat1)
    sin_lat2, cos_lat2 = math.sin(lat2), math.cos(lat2)
    delta = lon2 - lon1
    cos_delta, sin_delta = math.cos(delta), math.sin(delta)
    d = math.atan2(
        math.sqrt(
            (cos_lat2 * sin_delta) ** 2
            + (cos_lat1 * sin_lat2 - sin_lat1 * cos_lat2 * cos_delta) ** 2
        ),
        sin_lat1 * sin_lat2 + cos_lat1 * cos_lat2 * cos_delta,
    )
    return EARTH_RADIUS * d


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points in degrees, as geopy computes it."""
    return _great_circle_km(
        math.radians(a[0]), math.radians(a[1]), math.radians(b[0]), math.radians(b[1])
    )


# A site in the index: unit vector, structure number, and radians for the exact check.
_Site = tuple[float, float, float, int, float, float]
# A site and the positions of the domains it serves in its reach group.
_SiteDomains = tuple[float, float, float, int, float, float, tuple[int, ...]]
# Per grid cell, per domain of the reach group: (structures in the cell, its sites) or None;
# then, once filled, the cell's sites once each with their domains (a tuple of _SiteDomains).
_Entry = list[Any]


class _Grid:
    """Sites of the domains sharing one reach, in cells of `CELLS_PER_REACH` per reach."""

    def __init__(self, reach_km: float, domains: list[str], lon_factor: float) -> None:
        self.reach_km = reach_km
        self.domains = domains
        # Radians; no two points are further apart than half a circumference.
        self.angle = min(reach_km / EARTH_RADIUS, math.pi)
        self.cos_reach = math.cos(self.angle)
        reach_deg = math.degrees(self.angle)
        self.nrows = max(1, math.ceil(180.0 / (reach_deg / CELLS_PER_REACH)))
        self.row_deg = 180.0 / self.nrows
        self.ncols = max(1, math.ceil(360.0 / (self.row_deg * lon_factor)))
        self.col_deg = 360.0 / self.ncols
        # Row → (its occupied columns in order, their entries).
        self.rows: dict[int, tuple[list[int], list[_Entry]]] = {}

    def fill(self, sites_by_domain: list[dict[int, list[_Site]]]) -> None:
        """`sites_by_domain[i]`: cell key → sites, for self.domains[i]."""
        n = len(self.domains)
        by_row: dict[int, dict[int, _Entry]] = {}
        for i, cells in enumerate(sites_by_domain):
            for key, sites in cells.items():
                row, col = divmod(key, self.ncols)
                row_cells = by_row.setdefault(row, {})
                entry = row_cells.get(col)
                if entry is None:
                    entry = row_cells[col] = [None] * n
                sites.sort(key=lambda site: site[3])
                entry[i] = (frozenset(site[3] for site in sites), tuple(sites))
        for row, row_cells in by_row.items():
            cols = sorted(row_cells)
            for entry in row_cells.values():
                entry.append(_each_site_once(entry))
            self.rows[row] = (cols, [row_cells[col] for col in cols])

    def key(self, lat: float, lon: float) -> int:
        row = min(int((lat + 90.0) // self.row_deg), self.nrows - 1)
        col = int((lon + 180.0) // self.col_deg) % self.ncols
        return row * self.ncols + col

    def around(self, lat: float, lon: float) -> tuple[list[_Entry], list[_Entry]]:
        """The occupied cells wholly inside the reach of (lat, lon), and those on its edge."""
        inside: list[_Entry] = []
        edge: list[_Entry] = []
        r = self.angle
        phi_p = math.radians(lat)
        sin_p, cos_p = math.sin(phi_p), math.cos(phi_p)
        cos_r = self.cos_reach
        reach_deg = math.degrees(r)
        row_deg, col_deg, ncols = self.row_deg, self.col_deg, self.ncols
        row_lo = max(0, int((lat - reach_deg - _MARGIN_DEG + 90.0) // row_deg))
        row_hi = min(self.nrows - 1, int((lat + reach_deg + _MARGIN_DEG + 90.0) // row_deg))
        # Latitude where the circle is widest in longitude (None when it holds a pole).
        t = sin_p / cos_r if cos_r > 0 else 2.0
        phi_star = math.asin(t) if -1.0 <= t <= 1.0 else None
        u = (lon + 180.0) / col_deg  # the commune's column, as a real number
        acos, sin, cos, radians, degrees = math.acos, math.sin, math.cos, math.radians, math.degrees
        floor, ceil = math.floor, math.ceil

        def half_width(phi: float) -> float:
            """Longitude half-width (radians) of the circle at latitude phi; -1 if none."""
            denominator = cos_p * cos(phi)
            if denominator <= 1e-15:
                return math.pi if abs(phi - phi_p) <= r else -1.0
            c = (cos_r - sin_p * sin(phi)) / denominator
            if c > 1.0:
                return -1.0
            return acos(c) if c > -1.0 else math.pi

        rows = self.rows
        north = radians(row_lo * row_deg - 90.0)
        w_north = half_width(north)
        for row in range(row_lo, row_hi + 1):
            # Each row's southern edge is the previous row's northern one.
            south, w_south = north, w_north
            north = radians((row + 1) * row_deg - 90.0)
            w_north = half_width(north)
            occupied = rows.get(row)
            if occupied is None:
                continue
            cols, entries = occupied
            lo, hi = max(south, phi_p - r), min(north, phi_p + r)
            if lo > hi:
                continue
            if phi_star is None:
                outer = math.pi
            elif lo <= phi_star <= hi:
                outer = half_width(phi_star)
            else:
                outer = max(
                    w_south if lo == south else half_width(lo),
                    w_north if hi == north else half_width(hi),
                    0.0,
                )
            inner = min(w_south, w_north) if w_south >= 0 and w_north >= 0 else -1.0
            outer_c = (degrees(outer) + _MARGIN_DEG) / col_deg
            if outer >= math.pi or 2 * outer_c + 2 >= ncols:
                # The circle spans every column of this row: check every occupied cell.
                (inside if inner >= math.pi else edge).extend(entries)
                continue
            j_lo, j_hi = floor(u - outer_c), floor(u + outer_c)
            if inner > 0:
                inner_c = (degrees(inner) - _MARGIN_DEG) / col_deg
                in_lo, in_hi = ceil(u - inner_c), floor(u + inner_c) - 1
            else:
                in_lo, in_hi = 1, 0
            if j_lo >= 0 and j_hi < ncols:
                # Columns in order: slices of the occupied cells, found by bisection.
                a = bisect_left(cols, j_lo)
                b = bisect_right(cols, j_hi, a)
                if in_lo <= in_hi:
                    c = bisect_left(cols, in_lo, a, b)
                    d = bisect_right(cols, in_hi, c, b)
                    edge += entries[a:c]
                    inside += entries[c:d]
                    edge += entries[d:b]
                else:
                    edge += entries[a:b]
            else:  # across the antimeridian
                for col, entry in zip(cols, entries, strict=True):
                    j = col + ncols * round((u - col - 0.5) / ncols)
                    if j_lo <= j <= j_hi:
                        (inside if in_lo <= j <= in_hi else edge).append(entry)
        return inside, edge


def _each_site_once(entry: _Entry) -> tuple[_SiteDomains, ...]:
    """A cell's sites once each, with the positions of the domains they serve: a commune on
    the cell's edge checks each site's distance once for all its domains."""
    domains: dict[tuple[int, float, float], tuple[_Site, list[int]]] = {}
    for i, held in enumerate(entry):
        if held is None:
            continue
        for site in held[1]:
            key = (site[3], site[4], site[5])
            known = domains.get(key)
            if known is None:
                domains[key] = (site, [i])
            elif known[1][-1] != i:
                known[1].append(i)
    return tuple((*site, tuple(served)) for site, served in domains.values())


# --------------------------------------------------------------------------- coverage


def _reach_for(domain: str, reach_km: Mapping[str, float], default_reach_km: float) -> float:
    value = reach_km.get(domain, default_reach_km)
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"reach_km[{domain!r}] must be a positive number of km, not {value!r}")
    return float(value)


def _fragility_masks(fragility: Fragility | None, number: Mapping[str, int]) -> dict[int, int]:
    masks: dict[int, int] = {}
    if fragility is None:
        return masks
    for ids, bit in (
        (fragility.single_person, _SINGLE_PERSON),
        (fragility.expired_convention, _EXPIRED),
        (fragility.unresponsive, _UNRESPONSIVE),
        (fragility.unknown_contact, _UNKNOWN),
    ):
        for structure_id in ids:
            n = number.get(structure_id)
            if n is not None:
                masks[n] = masks.get(n, 0) | bit
    return masks


def _reasons(mask: int, one_partner: bool) -> tuple[str, ...]:
    reasons = ["one_partner"] if one_partner else []
    if mask & _SINGLE_PERSON:
        reasons.append("single_person")
    if mask & _EXPIRED:
        reasons.append("expired_convention")
    if mask & _UNRESPONSIVE:
        reasons.append("unresponsive")
    if mask & _UNKNOWN:
        reasons.append("unknown_contact")
    return tuple(reasons)


def _klass(found: set[int], masks: Mapping[int, int]) -> tuple[str, tuple[str, ...]]:
    """The class of a cell with providers. A partner whose contacts are unknown might be
    sound or fragile: when the answer would differ between the two, the cell is "unknown"
    (go and find the contacts), never "fragile" on a guess."""
    if len(found) == 1:
        (only,) = found
        mask = masks.get(only, 0)
        if mask & _UNKNOWN and not mask & _FRAGILE_BITS:
            return "unknown", ("unknown_contact",)
        return "fragile", _reasons(mask, True)
    union = 0
    for n in found:
        mask = masks.get(n, 0)
        if not mask & _FRAGILE_BITS and not mask & _UNKNOWN:
            return "covered", ()  # one known, sound partner beside others
        union |= mask
    if union & _UNKNOWN:
        return "unknown", ("unknown_contact",)
    return "fragile", _reasons(union, False)


def coverage(
    communes: Iterable[CommunePoint],
    services: Iterable[ProviderService],
    reach_km: Mapping[str, float],
    domains: Iterable[str],
    fragility: Fragility | None = None,
    default_reach_km: float = DEFAULT_REACH_KM,
    progress: Callable[[int], None] | None = None,
) -> list[CoverageCell]:
    """One CoverageCell per commune and domain, communes in the given order, domains in the
    given order within each commune. `reach_km[domain]` is the reach as the crow flies
    (`default_reach_km` for a domain it does not name). `progress`, when given, is called
    with the number of communes done since its previous call (every few hundred communes
    and once at the end), so it can feed a progress bar's `update`.

    A provider reaches a commune for a domain when one of its on-site services for that
    domain has a site within reach, or when that service's zone names the commune, its
    EPCI, its département or "france". `remote` lists the structures offering the domain
    remotely with a zone covering the commune or no zone (a structure may be in both lists;
    the remote tuples are shared between communes, so they cost no memory per cell).
    A cell is a gap without providers, fragile with exactly one provider or when every
    provider is in one of `fragility`'s sets, covered otherwise; "unknown" instead of
    fragile when it depends on partners without a known contact (see `_klass`)."""
    communes = list(communes)
    services = list(services)
    domains = list(dict.fromkeys(domains))
    if not domains:
        return []
    reaches = {domain: _reach_for(domain, reach_km, default_reach_km) for domain in domains}
    wanted = set(domains)

    # Structures are numbered in the order of their ids, so sorting numbers sorts ids.
    ids = sorted({service.structure_id for service in services})
    number = {structure_id: n for n, structure_id in enumerate(ids)}
    masks = _fragility_masks(fragility, number)
    fragile_numbers = frozenset(masks)

    # Domains sharing a reach share a grid and the per-commune choice of its cells.
    groups: dict[float, list[str]] = {}
    for domain in domains:
        groups.setdefault(reaches[domain], []).append(domain)
    latitudes = sorted(commune.lat for commune in communes)
    median_lat = latitudes[len(latitudes) // 2] if latitudes else 0.0
    lon_factor = 1.0 / max(math.cos(math.radians(median_lat)), 0.1)
    grids = [_Grid(reach, group, lon_factor) for reach, group in groups.items()]
    where = {
        domain: (g, i) for g, grid in enumerate(grids) for i, domain in enumerate(grid.domains)
    }

    site_cells: list[list[dict[int, list[_Site]]]] = [[{} for _ in grid.domains] for grid in grids]
    onsite_zones: dict[str, dict[str, set[int]]] = {domain: {} for domain in domains}
    remote_zones: dict[str, dict[str, set[int]]] = {domain: {} for domain in domains}
    remote_anywhere: dict[str, set[int]] = {domain: set() for domain in domains}
    for service in services:
        service_domains = service.domains & wanted
        if not service_domains:
            continue
        n = number[service.structure_id]
        for domain in service_domains:
            if service.on_site:
                for code in service.zone:
                    onsite_zones[domain].setdefault(code, set()).add(n)
                g, i = where[domain]
                grid, domain_cells = grids[g], site_cells[g][i]
                for site in service.sites:
                    lat, lon = math.radians(site.lat), math.radians(site.lon)
                    cos_lat = math.cos(lat)
                    site_entry = (
                        cos_lat * math.cos(lon),
                        cos_lat * math.sin(lon),
                        math.sin(lat),
                        n,
                        lat,
                        lon,
                    )
                    domain_cells.setdefault(grid.key(site.lat, site.lon), []).append(site_entry)
            if service.remote:
                if service.zone:
                    for code in service.zone:
                        remote_zones[domain].setdefault(code, set()).add(n)
                else:
                    remote_anywhere[domain].add(n)
    for grid, cells_by_domain in zip(grids, site_cells, strict=True):
        grid.fill(cells_by_domain)
    del site_cells

    def names(numbers: Iterable[int]) -> tuple[str, ...]:
        return tuple(map(ids.__getitem__, sorted(numbers)))

    # Remote lists repeat from commune to commune: share the tuples, keyed by the codes
    # of the commune that some remote service's zone names, and share the list of the
    # services without a zone between every commune whose zones add nobody to it.
    remote_codes = {code for zones in remote_zones.values() for code in zones}
    remote_cache: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}
    remote_everywhere = {domain: names(remote_anywhere[domain]) for domain in domains}
    remote_lists: dict[tuple[str, frozenset[int]], tuple[str, ...]] = {}

    def remote_for(domain: str, matched: tuple[str, ...]) -> tuple[str, ...]:
        zones = remote_zones[domain]
        extra: set[int] = set()
        for code in matched:
            extra.update(zones.get(code, ()))
        extra.difference_update(remote_anywhere[domain])
        if not extra:
            found = remote_everywhere[domain]
        else:
            key = (domain, frozenset(extra))
            found = remote_lists.get(key) or names(extra | remote_anywhere[domain])
            remote_lists[key] = found
        remote_cache[domain, matched] = found
        return found

    position = {domain: k for k, domain in enumerate(domains)}
    numbered = CoverageCell._numbered
    cells: list[CoverageCell] = []
    pending = 0
    exact = _great_circle_km
    for commune in communes:
        codes = (commune.insee, commune.epci, commune.departement, FRANCE)
        matched = tuple(code for code in codes if code in remote_codes)
        lat, lon = math.radians(commune.lat), math.radians(commune.lon)
        cos_lat = math.cos(lat)
        px, py, pz = cos_lat * math.cos(lon), cos_lat * math.sin(lon), math.sin(lat)
        row: list[CoverageCell | None] = [None] * len(domains)
        for grid in grids:
            inside, edge = grid.around(commune.lat, commune.lon)
            cos_in, cos_out = grid.cos_reach + _COS_BAND, grid.cos_reach - _COS_BAND
            reach = grid.reach_km
            founds: list[set[int]] = []
            for i, domain in enumerate(grid.domains):
                found: set[int] = set()
                zones = onsite_zones[domain]
                for code in codes:
                    zoned = zones.get(code)
                    if zoned:
                        found |= zoned
                for entry in inside:
                    held = entry[i]
                    if held is not None:
                        found |= held[0]
                founds.append(found)
            for entry in edge:
                for x, y, z, n, site_lat, site_lon, served in entry[-1]:
                    dot = px * x + py * y + pz * z
                    if dot >= cos_in or (
                        dot >= cos_out and exact(lat, lon, site_lat, site_lon) <= reach
                    ):
                        for i in served:
                            founds[i].add(n)
            for domain, found in zip(grid.domains, founds, strict=True):
                remote = remote_cache.get((domain, matched)) or remote_for(domain, matched)
                reasons: tuple[str, ...]
                if not found:
                    klass, reasons = "gap", ()
                elif len(found) > 1 and not found <= fragile_numbers:
                    klass, reasons = "covered", ()
                else:
                    klass, reasons = _klass(found, masks)
                row[position[domain]] = numbered(
                    commune.insee,
                    domain,
                    commune.population,
                    tuple(found),
                    ids,
                    remote,
                    klass,
                    reasons,
                )
        cells.extend(cell for cell in row if cell is not None)  # every domain is in one group
        if progress is not None:
            pending += 1
            if pending >= _PROGRESS_EVERY:
                progress(pending)
                pending = 0
    if progress is not None and pending:
        progress(pending)
    return cells


# --------------------------------------------------------------------------- what if

_RANK = {"gap": 0, "fragile": 1, "unknown": 2, "covered": 3}


def what_if(
    communes: Iterable[CommunePoint],
    services: Iterable[ProviderService],
    reach_km: Mapping[str, float],
    domains: Iterable[str],
    fragility: Fragility | None = None,
    without: Iterable[str] = (),
    fragility_after: Fragility | None = None,
    default_reach_km: float = DEFAULT_REACH_KM,
    before: Sequence[CoverageCell] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[tuple[CoverageCell, CoverageCell]]:
    """(before, after) for every commune and domain whose class gets worse when the
    structures in `without` close, and/or when fragility becomes `fragility_after` (a person
    leaving makes the partnerships resting on them fragile: the caller passes the updated
    sets). `before`, when the caller already computed it with the same arguments, is reused.
    `progress` sees the communes of the computations actually run."""
    communes = list(communes)
    services = list(services)
    domains = list(domains)
    gone = set(without)
    if before is None:
        before = coverage(
            communes, services, reach_km, domains, fragility, default_reach_km, progress
        )
    after = coverage(
        communes,
        [service for service in services if service.structure_id not in gone],
        reach_km,
        domains,
        fragility if fragility_after is None else fragility_after,
        default_reach_km,
        progress,
    )
    return [
        (old, new)
        for old, new in zip(before, after, strict=True)
        if _RANK[new.klass] < _RANK[old.klass]
    ]


# --------------------------------------------------------------------------- summaries


def population_summary(cells: Iterable[CoverageCell]) -> dict[str, dict[str, int]]:
    """Inhabitants per class, per domain (domains in order of first appearance)."""
    summary: dict[str, dict[str, int]] = {}
    for cell in cells:
        per_class = summary.get(cell.domain)
        if per_class is None:
            per_class = summary[cell.domain] = dict.fromkeys(KLASSES, 0)
        per_class[cell.klass] += cell.population
    return summary


# How much a cell's inhabitants weigh in the order of the holes to work on: a town of
# 64,458 whose only partner may go is a bigger hole than a village of 25 with none.
HOLE_WEIGHTS = {"gap": 1.0, "fragile": 0.5, "unknown": 0.25}


def worst_holes(
    cells: Iterable[CoverageCell], limit: int = 20, domain: str | None = None
) -> list[CoverageCell]:
    """Gap, fragile and unknown cells (of `domain` alone when given) to work on first: the
    most inhabitants left without a sure partner first, a gap's weighing twice a fragile
    cell's (HOLE_WEIGHTS); ties by class, INSEE code and domain, so the order is stable."""
    holes = [
        cell
        for cell in cells
        if cell.klass != "covered" and (domain is None or cell.domain == domain)
    ]
    holes.sort(
        key=lambda cell: (
            -cell.population * HOLE_WEIGHTS.get(cell.klass, 0.0),
            _RANK[cell.klass],
            cell.insee,
            cell.domain,
        )
    )
    return holes[: max(limit, 0)]


# --------------------------------------------------------------------------- exports


def to_geojson(
    cells: Iterable[CoverageCell],
    outlines: Mapping[str, dict[str, Any]] | None,
    domain: str,
    communes: Iterable[CommunePoint] = (),
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the communes for one domain (for a map or QGIS).
    Geometry is the commune's outline when `outlines` has it, else its point when
    `communes` has it (GeoJSON order: longitude, latitude), else null."""
    points = {commune.insee: commune for commune in communes}
    features = []
    for cell in cells:
        if cell.domain != domain:
            continue
        geometry: dict[str, Any] | None = (outlines or {}).get(cell.insee)
        commune = points.get(cell.insee)
        if geometry is None and commune is not None:
            geometry = {"type": "Point", "coordinates": [commune.lon, commune.lat]}
        features.append(
            {
                "type": "Feature",
                "id": cell.insee,
                "geometry": geometry,
                "properties": {
                    "insee": cell.insee,
                    "name": commune.name if commune is not None else "",
                    "domain": cell.domain,
                    "class": cell.klass,
                    "population": cell.population,
                    "providers": len(cell.providers),
                    "remote": len(cell.remote),
                    "reasons": list(cell.reasons),
                    "provider_ids": list(cell.providers),
                    "remote_ids": list(cell.remote),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


CSV_FIELDS: tuple[str, ...] = (
    "insee",
    "domain",
    "population",
    "class",
    "providers",
    "remote",
    "reasons",
    "provider_ids",
    "remote_ids",
)


def to_csv_rows(cells: Iterable[CoverageCell]) -> list[dict[str, str | int]]:
    """One flat row per cell, keys CSV_FIELDS; lists are joined with spaces."""
    return [
        {
            "insee": cell.insee,
            "domain": cell.domain,
            "population": cell.population,
            "class": cell.klass,
            "providers": len(cell.providers),
            "remote": len(cell.remote),
            "reasons": " ".join(cell.reasons),
            "provider_ids": " ".join(cell.providers),
            "remote_ids": " ".join(cell.remote),
        }
        for cell in cells
    ]
