"""The coordinators' data·inclusion import page: upload, progress, report; on both
engines through the test client, and in a real browser (axe, 1366 and 375 px)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import pytest

from directory.tables import Service, Structure
from service.accounts.store import Role
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import AXE, WIDTHS, _is_error
from tests.service.test_browser import browser  # noqa: F401 - fixture

DATA = Path(__file__).parent.parent / "directory" / "data" / "data_inclusion"
PAGE = "/structures/import-data-inclusion"
SHOTS = Path(__file__).parent.parent / "screenshots" / "test_data_inclusion_page"


def _bad_batch() -> bytes:
    services = json.loads((DATA / "services.json").read_text())
    return json.dumps([{**services[0], "id": "dora--x", "thematiques": ["inconnue"]}]).encode()


async def _post(client, files: list) -> object:
    page = await client.get(PAGE)
    assert page.status_code == 200, page.text
    once = re.search(r'name="_once" value="([^"]+)"', page.text)
    assert once
    data = {"_csrf_token": f.csrf_token(page.text), "_once": once.group(1)}
    return await client.post(PAGE, data=data, files=files, follow_redirects=False)


async def test_coordinator_imports_files_and_reads_the_report(client) -> None:
    await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Mission Locale"))
    files = [
        ("files", ("structures.csv", (DATA / "structures.csv").read_bytes(), "text/csv")),
        ("files", ("services.json", (DATA / "services.json").read_bytes(), "application/json")),
        ("files", ("refus.json", _bad_batch(), "application/json")),
    ]
    started = await _post(client, files)
    assert started.status_code in (302, 303), (started.status_code, started.text[-3000:])
    job = started.headers["location"]
    for _ in range(100):
        state = (await client.get(f"{job}/progress")).json()
        if state["finished"]:
            break
        await asyncio.sleep(0.1)
    assert state == {"done": 10, "total": 10, "finished": True}
    report = await client.get(job)
    assert report.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", report.text))
    assert "Structures 4 créés, 0 mis à jour, 0 inchangé, 0 refusé" in text
    assert "Services 5 créés, 0 mis à jour, 0 inchangé, 1 refusé" in text
    assert "dora--x (refus.json, élément 1) : thematiques : valeur inconnue « inconnue »" in text
    assert await Structure.count() == 5 and await Service.count() == 5


async def test_the_page_is_for_coordinators_and_refuses_unreadable_files(client) -> None:
    await f.logged_in(client, Role.ADVISOR, of=await f.structure("Mission Locale"))
    assert (await client.get(PAGE)).status_code == 403
    await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Mission Locale"))
    broken = await _post(client, [("files", ("s.json", b'[{"id": ', "application/json"))])
    assert broken.status_code == 400
    assert "s.json : JSON illisible" in broken.text
    nothing = await _post(client, [("files", ("", b"", "application/octet-stream"))])
    assert nothing.status_code == 400
    assert "Choisissez au moins un fichier" in nothing.text
    assert await Structure.count() == 2
    assert (await client.get(f"{PAGE}/inconnu")).status_code == 404


def _check(page, errors: list[str], where: str, width: int) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{where}-{width}.png"), full_page=True)
    page.evaluate(AXE)
    result = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
    )
    assert not [v["id"] for v in result["violations"]], (where, result["violations"])
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), where
    assert not errors, (where, errors)


@pytest.fixture
def coordinator(database_url) -> str:
    async def setup() -> str:
        _, email = await f.user(Role.COORDINATOR, await f.structure("Mission Locale"))
        return email

    return asyncio.run(setup())


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_import_page_in_a_browser(
    database_url,
    coordinator,
    browser,  # noqa: F811
    width,
    tmp_path,
) -> None:
    address = coordinator
    bad = tmp_path / "refus.json"
    bad.write_bytes(_bad_batch())
    with running_server(database_url) as base:
        page = browser.new_page(viewport={"width": width, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if _is_error(m) else None)
        page.goto(f"{base}/login")
        page.fill("#email", address)
        page.fill("#password", f.PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/recherche")
        page.goto(f"{base}/structures")
        page.click("text=Importer des données data·inclusion")
        page.wait_for_url(f"{base}{PAGE}")
        _check(page, errors, "formulaire", width)
        page.click("button:has-text('Importer')")
        assert "Choisissez au moins un fichier" in page.inner_text(".error-summary")
        _check(page, errors, "sans-fichier", width)
        page.set_input_files(
            "#files", [str(DATA / "structures.json"), str(DATA / "services.csv"), str(bad)]
        )
        page.click("button:has-text('Importer')")
        # The script reloads the page when the import is over.
        deadline = time.monotonic() + 20
        while "Compte rendu" not in page.inner_text("main"):
            assert time.monotonic() < deadline, page.inner_text("main")
            page.wait_for_timeout(200)
        assert "valeur inconnue « inconnue »" in page.inner_text("main")
        _check(page, errors, "compte-rendu", width)


async def test_a_running_import_shows_its_progress_and_a_way_to_reload(client) -> None:
    """What the page shows while the import runs, with or without its script."""
    from service.web.data_inclusion import JOBS, Job

    user_id = await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Mission Locale"))
    JOBS["en-cours"] = Job(str(user_id), total=300_000, done=42_000)
    try:
        page = await client.get(f"{PAGE}/en-cours")
        assert page.status_code == 200
        assert '<progress id="progress-bar" max="300000" value="42000">' in page.text
        assert "42000 enregistrements traités sur 300000" in page.text
        assert f'<a href="{PAGE}/en-cours">Actualiser la page</a>' in page.text
        assert '<script src="/static/import-progress.js" defer></script>' in page.text
        state = (await client.get(f"{PAGE}/en-cours/progress")).json()
        assert state == {"done": 42000, "total": 300000, "finished": False}
        other = await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Autre"))
        assert other != user_id
        assert (await client.get(f"{PAGE}/en-cours")).status_code == 404
    finally:
        del JOBS["en-cours"]


async def test_the_import_form_sent_twice_starts_one_import(client) -> None:
    from service.web.data_inclusion import JOBS
    from tests.service.test_form_once import _twice

    await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Mission Locale"))
    before = set(JOBS)
    files = {"files": ("structures.json", (DATA / "structures.json").read_bytes())}
    first, again = await _twice(client, PAGE, PAGE, {}, files)
    assert first.status_code in (302, 303), first.text
    assert again.headers["location"] == first.headers["location"]
    started = set(JOBS) - before
    assert len(started) == 1
    [job] = [JOBS[k] for k in started]
    assert job.task is not None
    # The task runs on the app's event loop, not this one: wait for it, do not await it.
    while not job.task.done():
        await asyncio.sleep(0.05)
    assert job.report is not None and job.report.structures.created == 4
