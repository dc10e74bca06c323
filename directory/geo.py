"""Places and distances. A commune resolves offline from the shipped gazetteer; an address
geocoder (BAN / self-hosted addok through geopy) is optional and always falls back to the
commune centre, telling the user so."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass

from directory.gazetteer import Commune, Gazetteer, UnknownPlace

log = logging.getLogger(__name__)

# Grid used as a spatial pre-filter: 0.1 degree cells (about 11 km north-south).
CELL_DEGREES = 0.1
_LON_CELLS = 3600
MAX_RADIUS_KM = 200.0
# geopy's mean Earth radius (geopy.distance.EARTH_RADIUS), so that our distances agree with
# geopy's great_circle (tests/directory/test_geo.py checks to 1e-9 km). Written
# here because importing geopy.distance imports the whole package, its geocoders and the
# HTTP clients behind them (aiohttp, requests): 15 to 20 MB in every server process, for a
# constant. geopy itself is imported only to geocode an address.
EARTH_RADIUS = 6371.009


def cell_of(lat: float, lon: float) -> int:
    """A single integer per 0.1° cell, indexable by any SQL engine."""
    lat_i = math.floor(lat / CELL_DEGREES) + 900
    lon_i = math.floor(lon / CELL_DEGREES) + 1800
    return lat_i * _LON_CELLS + lon_i


def cells_around(lat: float, lon: float, radius_km: float) -> list[int]:
    """Every cell that intersects the bounding box of a circle of `radius_km`."""
    south, west, north, east = bounding_box(lat, lon, radius_km)
    lat_lo = math.floor(south / CELL_DEGREES) + 900
    lat_hi = math.floor(north / CELL_DEGREES) + 900
    lon_lo = math.floor(west / CELL_DEGREES) + 1800
    lon_hi = math.floor(east / CELL_DEGREES) + 1800
    return [
        lat_i * _LON_CELLS + lon_i
        for lat_i in range(lat_lo, lat_hi + 1)
        for lon_i in range(lon_lo, lon_hi + 1)
    ]


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(south, west, north, east) of a circle, generous by a few percent."""
    dlat = radius_km / 110.574 * 1.02
    dlon = radius_km / (111.320 * max(math.cos(math.radians(lat)), 0.01)) * 1.02
    return lat - dlat, lon - dlon, lat + dlat, lon + dlon


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """geopy's great-circle distance (same formula, same Earth radius), without building two
    geopy Points per call: search ranks tens of thousands of sites in dense cities, where
    that construction alone cost a third of a second. tests/directory/test_geo.py checks
    the two agree."""
    return distance_from(a)(b[0], b[1])


def distance_from(origin: tuple[float, float]) -> Callable[[float, float], float]:
    """distance_km from one fixed place, its own trigonometry done once: search measures
    every site around the place from it. The very same operations as distance_km (which
    calls this), so both give the same float to the last bit."""
    lat1, lng1 = math.radians(origin[0]), math.radians(origin[1])
    sin_lat1, cos_lat1 = math.sin(lat1), math.cos(lat1)
    radians, sin, cos = math.radians, math.sin, math.cos

    def measure(lat: float, lon: float) -> float:
        lat2 = radians(lat)
        return great_circle_km(sin_lat1, cos_lat1, lng1, sin(lat2), cos(lat2), radians(lon))

    return measure


def great_circle_km(
    sin_lat1: float, cos_lat1: float, lng1: float, sin_lat2: float, cos_lat2: float, lng2: float
) -> float:
    """geopy's great-circle formula, on the sines and cosines of the two latitudes and the
    longitudes in radians: callers that measure many times from or to the same place
    compute those once (directory.search_index keeps them per site)."""
    delta = lng2 - lng1
    cos_delta, sin_delta = math.cos(delta), math.sin(delta)
    d = math.atan2(
        math.sqrt(
            (cos_lat2 * sin_delta) ** 2
            + (cos_lat1 * sin_lat2 - sin_lat1 * cos_lat2 * cos_delta) ** 2
        ),
        sin_lat1 * sin_lat2 + cos_lat1 * cos_lat2 * cos_delta,
    )
    return EARTH_RADIUS * d


@dataclass(frozen=True, slots=True)
class Located:
    lat: float
    lon: float
    precision: str  # "address" | "commune" | "manual"
    notice: str = ""


class AddressGeocoder:
    """Address lookup through geopy's BANFrance; its domain and scheme are settings, so a
    self-hosted addok serves it without the internet."""

    def __init__(self, domain: str, scheme: str = "https", timeout: float = 3.0) -> None:
        from geopy.geocoders import BANFrance

        self._geocoder = BANFrance(domain=domain, scheme=scheme, timeout=timeout)

    def locate(self, address: str, commune: Commune, gazetteer: Gazetteer) -> Located:
        query = f"{address} {commune.postcodes[0] if commune.postcodes else ''} {commune.name}"
        try:
            found = self._geocoder.geocode(query.strip(), exactly_one=True)
        except Exception as error:  # any network or service error means: use the commune
            log.warning("address geocoder failed for %r: %s", query, error)
            return commune_centre(
                commune,
                "Le service d'adresses n'a pas répondu : le site est placé au centre de la "
                "commune.",
            )
        if found is None:
            return commune_centre(
                commune, "Adresse introuvable : le site est placé au centre de la commune."
            )
        # The service answers arrondissement codes for Paris, Lyon and Marseille; the
        # gazetteer maps them to the city.
        citycode = (found.raw.get("properties") or {}).get("citycode") or ""
        found_commune = gazetteer.get(citycode)
        if citycode and (found_commune is None or found_commune.insee != commune.insee):
            return commune_centre(
                commune,
                "L'adresse trouvée est dans une autre commune : le site est placé au centre "
                "de la commune choisie.",
            )
        return Located(found.latitude, found.longitude, "address")

    def locate_address(self, query: str, gazetteer: Gazetteer) -> Place | None:
        """A full address typed by an advisor; None when not found or when the service
        fails, so the caller falls back to the commune."""
        try:
            found = self._geocoder.geocode(query, exactly_one=True)
        except Exception as error:
            log.warning("address geocoder failed for %r: %s", query, error)
            return None
        if found is None:
            return None
        commune = gazetteer.get((found.raw.get("properties") or {}).get("citycode", ""))
        if commune is None:
            return None
        return Place(commune, found.latitude, found.longitude, "address")


def commune_centre(commune: Commune, notice: str = "") -> Located:
    return Located(commune.lat, commune.lon, "commune", notice)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a young person lives, as search needs it."""

    commune: Commune
    lat: float
    lon: float
    precision: str  # "commune" | "address"
    notice: str = ""


def locate_place(query: str, gazetteer: Gazetteer, geocoder: AddressGeocoder | None) -> Place:
    """A commune name, postcode or INSEE code resolves offline; an address goes to the
    address geocoder when one is configured, else falls back to its commune. Raises
    AmbiguousPlace or UnknownPlace with the candidates or the query."""
    try:
        commune = gazetteer.resolve(query)
        return Place(commune, commune.lat, commune.lon, "commune")
    except UnknownPlace:
        if geocoder is None and "," not in query:
            raise
    if geocoder is not None:
        found = geocoder.locate_address(query, gazetteer)
        if found is not None:
            return found
    # "12 rue des Lilas, Valence": fall back to the commune named after the last comma.
    tail = query.rsplit(",", 1)[-1].strip()
    fallback = gazetteer.resolve(tail) if tail and tail != query else None
    if fallback is None:
        raise UnknownPlace(query)
    commune = fallback
    why = "Adresse introuvable" if geocoder is not None else "Pas de service d'adresses configuré"
    return Place(
        commune,
        commune.lat,
        commune.lon,
        "commune",
        f"{why} : la recherche part du centre de {commune.name}.",
    )
