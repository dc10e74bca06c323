"""The coordinators' data·inclusion import page: upload, progress, report; on both
engines through the test client, and in a real browser (axe, 1366 and 375 px)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from directory.tables import Service, Structure
from service.accounts.store import Actor, Role
from service.accounts.tables import User
from service.import_jobs import store as jobs
from service.import_jobs.tables import ImportJob
from tests import factories as f
from tests.live import running_server
from tests.service.test_account_browser import AXE, WIDTHS, _is_error
from tests.service.test_browser import (
    browser,  # noqa: F401 - fixture
    sign_in,
)

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
    state = await _finished(client, job)
    assert state == {"done": 10, "total": 10, "finished": True, "status": "done"}
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
        user_id, email = await f.user(Role.COORDINATOR, await f.structure("Mission Locale"))
        # An import whose server stopped long ago (a moment before any test run).
        await _running_job(user_id, 5_000, 2_000, datetime(2020, 1, 6, 9, 0, tzinfo=UTC))
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
        sign_in(page, base, address)
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
        page.click("text=Imports récents")
        page.wait_for_url(f"{base}/structures/imports")
        rows = re.sub(r"\s+", " ", page.inner_text("tbody"))
        assert "data·inclusion terminé 9 écrit(s), 1 refusé(s) sur 10" in rows, rows
        assert "06/01/2020 à 10:00" in rows and "interrompu" in rows
        _check(page, errors, "imports-recents", width)
        page.click("text=06/01/2020 à 10:00")
        assert "Import interrompu" in page.inner_text(".error-summary")
        _check(page, errors, "interrompu", width)


async def _running_job(user_id, total: int, done: int, at: datetime) -> UUID:
    """An import that a server process started at `at` and is still running, as its row
    says: the page reads nothing else, whichever process answers."""
    actor = Actor(user_id, "Dominique Test", "d@exemple.fr", Role.COORDINATOR, None)
    job_id = await jobs.start(jobs.Kind.DATA_INCLUSION, actor, total, now=at)
    await jobs.progress(job_id, done, total, now=at + timedelta(seconds=30))
    return job_id


START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.dated
async def test_a_running_import_shows_its_progress_and_a_way_to_reload(
    client, time_machine
) -> None:
    """What the page shows while the import runs, with or without its script."""
    time_machine.move_to(START, tick=False)
    user_id = await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Mission Locale"))
    job_id = await _running_job(user_id, 300_000, 42_000, START)
    time_machine.move_to(START + timedelta(minutes=2), tick=False)
    page = await client.get(f"{PAGE}/{job_id}")
    assert page.status_code == 200
    assert '<progress id="progress-bar" max="300000" value="42000">' in page.text
    assert "42000 enregistrements traités sur 300000" in page.text
    assert f'<a href="{PAGE}/{job_id}">Actualiser la page</a>' in page.text
    assert re.search(
        r"<script src=\"/static/import-progress.js\?v=\w+\" defer></script>", page.text
    )
    state = (await client.get(f"{PAGE}/{job_id}/progress")).json()
    assert state == {"done": 42000, "total": 300000, "finished": False, "status": "running"}


@pytest.mark.dated
async def test_an_import_stopped_by_a_restart_is_shown_interrupted(client, time_machine) -> None:
    """No heartbeat for longer than STALE_AFTER: the server process that ran it is gone."""
    time_machine.move_to(START, tick=False)
    user_id = await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Mission Locale"))
    job_id = await _running_job(user_id, 300_000, 42_000, START)
    silent = START + timedelta(seconds=30) + jobs.STALE_AFTER
    time_machine.move_to(silent - timedelta(seconds=1), tick=False)
    assert (await client.get(f"{PAGE}/{job_id}/progress")).json()["status"] == "running"
    time_machine.move_to(silent + timedelta(seconds=1), tick=False)
    state = (await client.get(f"{PAGE}/{job_id}/progress")).json()
    assert state == {"done": 42000, "total": 300000, "finished": True, "status": "interrupted"}
    page = await client.get(f"{PAGE}/{job_id}")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text))
    assert "Import interrompu : le serveur s'est arrêté pendant l'import" in text
    assert "42000 enregistrements traités sur 300000" in text
    assert "progress-bar" not in page.text
    listing = await client.get("/structures/imports")
    assert "interrompu" in listing.text and "en cours" not in listing.text


async def test_who_may_read_an_import(client) -> None:
    """The account that started it and every coordinator or admin; nobody else."""
    own = await f.structure("Mission Locale")
    files = [("files", ("structures.json", (DATA / "structures.json").read_bytes(), "x"))]
    starter = await f.logged_in(client, Role.COORDINATOR, of=own)
    job = (await _post(client, files)).headers["location"]
    await _finished(client, job)
    await f.logged_in(client, Role.ADMIN)
    assert (await client.get(job)).status_code == 200
    await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Autre"))
    assert (await client.get(job)).status_code == 200
    assert (await client.get(f"{job}/progress")).status_code == 200
    await f.logged_in(client, Role.ADVISOR, of=own)
    assert (await client.get(job)).status_code == 403
    assert (await client.get(f"{job}/progress")).status_code == 403
    assert (await client.get("/structures/imports")).status_code == 403
    # A coordinator who became an advisor still reads the import they started.
    await User.update({User.role: Role.ADVISOR.value}).where(User.id == starter)
    row = await User.select(User.email).where(User.id == starter).first()
    await f.login(client, row["email"])
    assert (await client.get(job)).status_code == 200
    assert (await client.get(f"{PAGE}/{uuid4()}")).status_code == 404
    assert (await client.get(f"{PAGE}/inconnu")).status_code == 404


async def _finished(client, job: str) -> dict:
    for _ in range(200):
        state = (await client.get(f"{job}/progress")).json()
        if state["finished"]:
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(state)


async def test_the_import_form_sent_twice_starts_one_import(client) -> None:
    from tests.service.test_form_once import _twice

    await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Mission Locale"))
    files = {"files": ("structures.json", (DATA / "structures.json").read_bytes())}
    first, again = await _twice(client, PAGE, PAGE, {}, files)
    assert first.status_code in (302, 303), first.text
    assert again.headers["location"] == first.headers["location"]
    assert await ImportJob.count() == 1
    state = await _finished(client, first.headers["location"])
    assert state["status"] == "done"
    assert await Structure.count() == 5
