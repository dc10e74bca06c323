"""Import jobs through HTTP on both engines: the recent imports page, who may read an
import and its report, and `maillage purge` erasing reports after the retention period
(explicit moments, never today's date)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from service.accounts.store import Role
from service.app import create_app
from service.audit.tables import AuditEntry
from service.cli import main
from service.import_jobs.purge import purge_reports
from service.import_jobs.tables import ImportJob
from tests import factories as f
from tests.live import running_server
from tests.service.test_csv_import_http import messy_files
from tests.service.test_data_inclusion_page import DATA, PAGE, _finished, _post

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STAFF = ("Payet", "Roux", "0692 12 34 56", "j.roux@example.fr")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def _csv_import(client) -> str:
    """The messy national files through the coordinator's page, valid rows kept."""
    page = await client.get("/structures/import")
    once = re.search(r'name="_once" value="([^"]+)"', page.text)
    assert once
    form = {"_csrf_token": f.csrf_token(page.text), "_once": once[1], "mode": "valides"}
    done = await client.post(
        "/structures/import", data=form, files=messy_files("fichiers"), follow_redirects=False
    )
    assert done.status_code in (302, 303), done.text
    return done.headers["location"]


async def _di_import(client) -> str:
    files = [("files", ("structures.json", (DATA / "structures.json").read_bytes(), "x"))]
    job = (await _post(client, files)).headers["location"]
    assert (await _finished(client, job))["status"] == "done"
    return job


async def _stored_jobs() -> str:
    return "\n".join(str(v) for row in await ImportJob.select() for v in row.values())


async def test_recent_imports_are_listed_for_coordinators(client) -> None:
    await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Mission Locale"))
    csv_job = await _csv_import(client)
    di_job = await _di_import(client)
    listing = await client.get("/structures/imports")
    assert listing.status_code == 200
    text = _text(listing.text)
    assert "Dominique Test Fichiers CSV terminé 9 ligne(s) refusée(s)" in text
    assert "Dominique Test data·inclusion terminé 4 écrit(s), 0 refusé(s) sur 4" in text
    assert f'href="{csv_job}"' in listing.text and f'href="{di_job}"' in listing.text
    # Newest first.
    assert listing.text.index(di_job) < listing.text.index(csv_job)
    assert 'href="/structures/imports"' in (await client.get("/structures")).text


async def test_only_coordinators_and_the_author_read_a_csv_import(client) -> None:
    own = await f.structure("Mission Locale")
    await f.logged_in(client, Role.COORDINATOR, of=own)
    job = await _csv_import(client)
    job_id = job.rsplit("/", 1)[1]
    await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Autre"))
    assert (await client.get(job)).status_code == 200
    report = await client.get(f"{job}/rapport.csv")
    assert report.status_code == 200 and report.content.startswith("\ufeff".encode())
    assert any(name in report.text for name in STAFF)
    await f.logged_in(client, Role.ADVISOR, of=own)
    assert (await client.get(job)).status_code == 403
    assert (await client.get(f"{job}/rapport.csv")).status_code == 403
    advisor = await f.api_client_headers(Role.ADVISOR, of=own)
    api = f"/api/v1/directory/imports/{job_id}"
    assert (await client.get(api, headers=advisor)).status_code == 403
    assert (await client.get(f"{api}/report.csv", headers=advisor)).status_code == 403
    admin = await f.api_client_headers(Role.ADMIN)
    assert (await client.get(api, headers=admin)).json()["refused"] == 9
    # A data·inclusion import's id is not a CSV import's.
    await f.logged_in(client, Role.COORDINATOR, of=own)
    di_job = (await _di_import(client)).rsplit("/", 1)[1]
    assert (await client.get(f"/structures/import/{di_job}")).status_code == 404


async def _purge(database_url: str, media: Path, *options: str) -> str:
    """The real command, in a thread: it runs its own event loop, as from a shell."""
    args = ["--database-url", database_url, "purge", *options]
    env = {"MAILLAGE_MEDIA_DIR": str(media)}
    result = await asyncio.to_thread(CliRunner().invoke, main, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.dated
async def test_purge_erases_import_reports_after_the_retention_period(
    client, database_url, time_machine, tmp_path
) -> None:
    time_machine.move_to(START, tick=False)
    await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Mission Locale"))
    csv_job = await _csv_import(client)
    di_job = await _di_import(client)
    stored = await _stored_jobs()
    assert any(name in stored for name in STAFF)
    # A report folder left by the former storage, written on the same day.
    legacy = tmp_path / "media" / "imports" / "0b2c"
    legacy.mkdir(parents=True)
    (legacy / "rapport.csv").write_text("Payet;0692 12 34 56", encoding="utf-8")
    os.utime(legacy, (START.timestamp(), START.timestamp()))
    before = await _stored_jobs()

    early = await _purge(database_url, tmp_path / "media", "--now", "2026-03-31")
    assert "Comptes rendus d'import lancés avant le 01/03/2026 : 0 effacés" in early
    dry = await _purge(database_url, tmp_path / "media", "--now", "2026-04-02", "--dry-run")
    assert "Comptes rendus d'import lancés avant le 03/03/2026 : 2 seraient effacés" in dry
    assert "Anciens dossiers de rapports d'import (media/imports) : 1 seraient effacés" in dry
    assert await _stored_jobs() == before and legacy.is_dir()
    assert await AuditEntry.count().where(AuditEntry.subject_kind == "import") == 0

    output = await _purge(database_url, tmp_path / "media", "--now", "2026-04-02")
    assert ": 2 effacés" in output and not legacy.exists()
    stored = await _stored_jobs()
    assert not [name for name in STAFF if name in stored]
    for row in await ImportJob.select():
        assert row["report"] == "" and row["purged_at"] is not None
        assert "problems" not in json.loads(row["summary"])
    marks = await AuditEntry.select().where(AuditEntry.subject_kind == "import")
    assert {m["subject_id"] for m in marks} == {r["id"] for r in await ImportJob.select()}
    assert {(m["actor_label"], m["detail"]) for m in marks} == {("maillage purge", "purge")}
    admin = await f.api_client_headers(Role.ADMIN)
    trail = (await client.get("/api/v1/audit?subject_kind=import", headers=admin)).json()
    assert [(e["action"], e["actor_kind"]) for e in trail] == [("change", "system")] * 2

    # What stays: who, when, what kind, the counts.
    time_machine.move_to(START + timedelta(days=32), tick=False)
    await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Autre"))
    text = _text((await client.get("/structures/imports")).text)
    assert "Fichiers CSV terminé 9 ligne(s) refusée(s) (détail effacé)" in text
    assert "data·inclusion terminé 4 écrit(s), 0 refusé(s) sur 4 (détail effacé)" in text
    assert "a été effacé" in (await client.get(csv_job)).text
    assert (await client.get(f"{csv_job}/rapport.csv")).status_code == 404
    di_page = _text((await client.get(di_job)).text)
    assert "Structures 4 créés" in di_page and "a été effacé le" in di_page
    again = await purge_reports(30, now=START + timedelta(days=60))
    assert again.job_ids == []


async def test_another_server_process_shows_the_import(client, settings) -> None:
    """Started on one app, followed and read on another one sharing the database, as with
    `maillage serve --workers N`: nothing is kept in the process that ran the import."""
    # Both apps start first: starting an app binds the process's database engine, which
    # separate server processes do each for themselves.
    async with AsyncTestClient(create_app(settings), base_url="http://127.0.0.1") as other:
        await f.logged_in(other, Role.COORDINATOR, of=await f.structure("Autre"))
        await f.logged_in(client, Role.COORDINATOR, of=await f.structure("Mission Locale"))
        files = [("files", ("structures.json", (DATA / "structures.json").read_bytes(), "x"))]
        job = (await _post(client, files)).headers["location"]
        state = await _finished(other, job)
        assert state == {"done": 4, "total": 4, "finished": True, "status": "done"}
        text = _text((await other.get(job)).text)
        assert "Structures 4 créés, 0 mis à jour" in text


# Enough that no machine finishes before the server is stopped at the first progress
# written (12,000 once did, on a quiet machine), and under the 20 MiB upload limit.
MANY = 80_000


def _many_structures(count: int) -> bytes:
    """A file large enough for several batches, so the import is caught running."""
    first = json.loads((DATA / "structures.json").read_text())[0]
    kept = ("source", "nom", "date_maj", "commune", "code_postal", "code_insee", "adresse")
    records = [{**{k: first[k] for k in kept}, "id": f"dora--s{n}"} for n in range(count)]
    return json.dumps(records).encode()


def _login(http: httpx.Client, email: str) -> None:
    page = http.get("/login")
    form = {"email": email, "password": f.PASSWORD, "_csrf_token": f.csrf_token(page.text)}
    assert http.post("/login", data=form).status_code in (302, 303)


def _page_text(http: httpx.Client, job: str) -> str:
    response = http.get(job)
    assert response.status_code == 200, response.text
    return _text(response.text)


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_an_import_cut_by_a_restart_is_shown_interrupted(database_url, tmp_path) -> None:
    """A real server stopped mid-import: a server started afterwards shows the progress
    the first one wrote, still running for a while, then interrupted."""
    _, email = asyncio.run(f.user(Role.COORDINATOR))
    with running_server(database_url, at=START) as base, httpx.Client(base_url=base) as http:
        _login(http, email)
        page = http.get(PAGE)
        once = re.search(r'name="_once" value="([^"]+)"', page.text)
        assert once
        form = {"_csrf_token": f.csrf_token(page.text), "_once": once[1]}
        files = {"files": ("grand.json", _many_structures(MANY), "application/json")}
        started = http.post(PAGE, data=form, files=files)
        assert started.status_code in (302, 303), started.text[-2000:]
        job = started.headers["location"]
        deadline = time.monotonic() + 60
        while not (state := http.get(f"{job}/progress").json())["done"] > 0:
            assert time.monotonic() < deadline and not state["finished"], state
            time.sleep(0.05)
        assert not state["finished"], state
    # The server is gone, its import with it; the row says how far it got.
    written = ImportJob.select().first().run_sync()
    assert written["status"] == "running" and 0 < written["done"] < MANY
    progress = f"{written['done']} enregistrements traités sur {MANY}"
    soon = START + timedelta(minutes=2)
    with running_server(database_url, at=soon) as base, httpx.Client(base_url=base) as http:
        _login(http, email)
        assert progress in _page_text(http, job) and "Import en cours" in _page_text(http, job)
    later = START + timedelta(minutes=10)
    with running_server(database_url, at=later) as base, httpx.Client(base_url=base) as http:
        _login(http, email)
        text = _page_text(http, job)
        assert "Import interrompu" in text and progress in text
        assert "interrompu" in _text(http.get("/structures/imports").text)
