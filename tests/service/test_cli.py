"""The `maillage` command line, run as a user would."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from click.testing import CliRunner

from service.accounts.store import authenticate, token_actor
from service.cli import main
from tests.live import running_server

# Reads the clock: .ci/run also runs it at fixed awkward dates.
pytestmark = pytest.mark.dated


def test_createuser_makes_an_account_that_can_log_in(database_url):
    result = CliRunner().invoke(
        main,
        [
            "--database-url",
            database_url,
            "createuser",
            "nadia@exemple.fr",
            "--name",
            "Nadia Haddad",
            "--role",
            "coordinator",
            "--password",
            "un mot de passe long",
            "--token",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Compte créé" in result.output
    token = result.output.split("Jeton d'API : ")[1].strip()
    actor = asyncio.run(authenticate("nadia@exemple.fr", "un mot de passe long"))
    assert actor is not None and actor.role == "coordinator"
    assert asyncio.run(token_actor(token)).email == "nadia@exemple.fr"


def test_createuser_reports_bad_input_and_creates_nothing(database_url):
    runner = CliRunner()
    args = ["--database-url", database_url, "createuser", "nadia@exemple.fr", "--name", "N"]
    short = runner.invoke(main, [*args, "--password", "court"])
    assert short.exit_code == 1
    assert "password" in short.output and "10 caractères" in short.output
    assert asyncio.run(authenticate("nadia@exemple.fr", "court")) is None
    ok = runner.invoke(main, [*args, "--password", "assez long pour passer"])
    assert ok.exit_code == 0
    again = runner.invoke(main, [*args, "--password", "assez long pour passer"])
    assert again.exit_code == 1 and "existe déjà" in again.output


@pytest.mark.parametrize("engine_name", ["sqlite"], indirect=True)
def test_serve_starts_a_real_server(database_url):
    with running_server(database_url) as base:
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        login = httpx.get(f"{base}/login")
        assert login.status_code == 200 and "Connexion" in login.text
        assert httpx.get(f"{base}/static/maillage.css").status_code == 200
        private = httpx.get(f"{base}/recherche", follow_redirects=False)
        assert private.status_code in (302, 303)
