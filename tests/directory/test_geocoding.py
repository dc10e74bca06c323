"""Address geocoding through geopy's BANFrance against a stub of the address service that
speaks its real protocol (GET /search/?q=… -> GeoJSON) on 127.0.0.1. The stub answers a
point in Valence, nothing for "introuvable", and too late for "lente"."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from litestar.testing import AsyncTestClient

from directory.tables import Site
from service.accounts.store import Role
from service.app import create_app
from tests import factories as f

POINT = (44.9301, 4.8876)  # lat, lon of a street in Valence (26362)


SLOW_SECONDS = 6.0


class _AddressService(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query).get("q", [""])[0].lower()
        if url.path.rstrip("/") != "/search":
            self.send_error(404)
            return
        if "lente" in query:
            time.sleep(SLOW_SECONDS)
        features = []
        if "introuvable" not in query:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [POINT[1], POINT[0]]},
                    "properties": {
                        "label": "12 Rue Madier de Montjau 26000 Valence",
                        "citycode": "26362",
                        "postcode": "26000",
                        "score": 0.93,
                    },
                }
            )
        body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def address_service() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AddressService)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
async def geo_client(settings, address_service):
    app = create_app(
        replace(
            settings,
            geocoder="ban",
            geocoder_domain=address_service,
            geocoder_scheme="http",
            geocoder_timeout=0.5,
        )
    )
    async with AsyncTestClient(app, base_url="http://127.0.0.1") as client:
        yield client


async def _new_site(client, address: str) -> tuple[Site, str]:
    structure_id = await f.structure("Antenne")
    headers = await f.api_client_headers(Role.COORDINATOR)
    response = await client.post(
        f"/api/v1/structures/{structure_id}/sites",
        json={"commune": "26362", "address": address},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return await Site.objects().where(Site.id == response.json()["id"]).first(), response.json()[
        "notice"
    ]


async def test_address_is_geocoded_to_the_street(geo_client):
    site, notice = await _new_site(geo_client, "12 rue Madier de Montjau")
    assert (site.lat, site.lon, site.geocoded) == (*POINT, "address")
    assert notice == ""


async def test_address_not_found_falls_back_to_the_commune_and_says_so(geo_client):
    site, notice = await _new_site(geo_client, "1 rue introuvable")
    assert site.geocoded == "commune"
    assert (round(site.lat, 3), round(site.lon, 3)) == (44.933, 4.892)
    assert "Adresse introuvable" in notice


async def test_slow_address_service_times_out_to_the_commune(geo_client):
    started = time.monotonic()
    site, notice = await _new_site(geo_client, "3 rue lente")
    # The geocoder's timeout is 0.5 s: the answer comes long before the slow service's,
    # with room for a loaded machine.
    assert time.monotonic() - started < SLOW_SECONDS - 2
    assert site.geocoded == "commune"
    assert "n'a pas répondu" in notice


async def test_search_from_an_address_starts_at_the_street(geo_client):
    await f.partner("Foyer", "26362")
    headers = await f.api_client_headers()
    response = await geo_client.get(
        "/api/v1/search", params={"place": "12 rue Madier de Montjau, Valence"}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["place_precision"] == "address"
    assert body["results"]["commune"] == "26362"
    # the partner sits at the commune centre, a few hundred metres from the street
    assert 0.1 < body["results"]["items"][0]["distance_km"] < 1.0


async def test_search_without_geocoder_uses_the_commune_after_the_comma(client):
    await f.partner("Foyer", "26362")
    headers = await f.api_client_headers()
    response = await client.get(
        "/api/v1/search",
        params={"place": "12 rue Madier de Montjau, Valence (26)"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["place_precision"] == "commune"
    assert "centre de Valence" in body["notice"]
