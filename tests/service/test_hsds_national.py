"""A national-scale directory (5,000 structures over the real communes of France, from the
generator of benchmarks/search_national.py) exports as valid HSDS 3.0 through the command
line and the API, on SQLite and PostgreSQL. benchmarks/hsds_export.py measures 100,000."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from benchmarks.search_national import ROWS_PER_INSERT, STRUCTURES_PER_BATCH, Generator
from directory.store import writing
from directory.tables import Person, Service, Site
from service import cli
from tests import factories as f
from tests.directory.hsds_schemas import all_problems, page_validator

STRUCTURES = 5_000


async def _national_directory(structures: int, seed: int = 7) -> None:
    generator = Generator(seed)
    for _ in range(structures // STRUCTURES_PER_BATCH):
        async with writing():
            for table, rows in generator.batch(STRUCTURES_PER_BATCH).items():
                for start in range(0, len(rows), ROWS_PER_INSERT):
                    chunk = rows[start : start + ROWS_PER_INSERT]
                    await table.insert(*[table(**row) for row in chunk])


async def test_a_national_directory_exports_as_valid_hsds(client, database_url, tmp_path):
    await _national_directory(STRUCTURES)
    result = await asyncio.to_thread(
        CliRunner().invoke, cli.main, ["--database-url", database_url, "export-hsds", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    orgs = json.loads((tmp_path / "organizations.json").read_text(encoding="utf-8"))

    assert len(orgs) == STRUCTURES
    assert sum(len(o["services"]) for o in orgs) == await Service.count()
    assert sum(len(o["locations"]) for o in orgs) == await Site.count()
    active = await Person.count().where(Person.active.eq(True))
    assert sum(len(o["contacts"]) for o in orgs) == active
    assert len({o["id"] for o in orgs}) == STRUCTURES
    # One organization in five goes through the schemas (all of them take ~25 s more on a
    # busy machine); the sample holds every kind of row the export writes.
    sample = orgs[::5]
    assert all_problems(sample) == []
    services = [s for o in sample for s in o["services"]]
    locations = [loc for o in sample for loc in o["locations"]]
    for rows, key in (
        (sample, "contacts"),
        (sample, "phones"),
        (locations, "schedules"),
        (locations, "addresses"),
        (services, "service_areas"),
        (services, "service_at_locations"),
        (services, "contacts"),
        (services, "attributes"),
    ):
        assert any(row[key] for row in rows), key

    # The API gives the same organizations, in bounded pages.
    headers = await f.api_client_headers()
    last = await client.get(
        "/api/v1/exports/hsds", params={"page": 10, "per_page": 500}, headers=headers
    )
    assert last.status_code == 200, last.text
    body = last.json()
    assert not list(page_validator().iter_errors(body))
    assert (body["total_items"], body["total_pages"], body["last_page"]) == (STRUCTURES, 10, True)
    assert body["contents"] == orgs[-500:]
