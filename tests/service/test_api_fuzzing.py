"""The whole JSON API under schemathesis: for every operation of the OpenAPI schema the
application serves, as each of the four kinds of user, on SQLite and PostgreSQL, generated
requests (valid ones, invalid ones, boundary values, NUL characters, huge numbers...) never
get a 5xx, and every answer matches what the schema documents for it.

Bounded and reproducible: a fixed number of examples per operation, derandomised (Hypothesis
derives a fixed seed from the test: the same cases on every run, whatever pytest-randomly
does), no example database. About 4,000 requests per engine, two to three minutes in all."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from directory.vocabulary import Domain, Level
from service.accounts.store import Role
from service.app import create_app
from service.settings import DEFAULT_DATABASE_URL, Settings
from tests import factories as f

# Random examples per operation; the coverage phase adds its boundary cases (missing and
# extra parameters, extreme numbers, odd strings) to each operation on top of these.
MAX_EXAMPLES = 40
ROLES = ["advisor", "partner", "coordinator", "admin"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
VALENCE = "26362"


async def _directory_and_users() -> dict[str, dict[str, str]]:
    """A small directory (a Mission Locale and a housing partner working together, a
    person, a service) so that search and network analyses have something to read, and one
    API token per kind of user."""
    mission_locale = await f.structure("Mission Locale Valence", kind="mission-locale")
    await f.site(mission_locale, VALENCE)
    foyer, _service = await f.partner("Foyer des Jeunes", VALENCE, (Domain.HOUSING,))
    await f.person(foyer, "Nora", "Benali")
    await f.relationship(mission_locale, foyer, Level.OPERATIONAL)
    return {
        "advisor": await f.api_client_headers(Role.ADVISOR, of=mission_locale),
        "partner": await f.api_client_headers(Role.ADVISOR, of=foyer),
        "coordinator": await f.api_client_headers(Role.COORDINATOR),
        "admin": await f.api_client_headers(Role.ADMIN),
    }


@pytest.fixture
def users(database_url: str) -> dict[str, dict[str, str]]:
    return asyncio.run(_directory_and_users())


@pytest.fixture
def roles() -> Iterator[str]:
    """Each operation's cases go to the four kinds of user in turn: every role meets every
    operation, with different inputs, for a quarter of the requests of sending each case
    four times. The cases come in a fixed order, so the pairing is fixed too."""
    return itertools.cycle(ROLES)


@pytest.fixture
def app(settings: Settings) -> Iterator[Litestar]:
    application = create_app(settings)
    yield application
    # schemathesis keeps an application's lifespan running until told otherwise.
    asgi.shutdown_lifespans()


def served_openapi() -> dict[str, Any]:
    """The document the application serves at /api/schema/openapi.json. Generating it
    reads no database: the app is bound to the default one, as at import."""
    app = create_app(Settings(database_url=DEFAULT_DATABASE_URL, secret_key="openapi"))
    return app.openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(served_openapi())


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    # Timing and generation health checks would make the test depend on the machine's load.
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_no_server_error_and_answers_match_the_schema(
    case: schemathesis.Case, app: Litestar, users: dict[str, dict[str, str]], roles: Iterator[str]
) -> None:
    role = next(roles)
    try:
        case.call_and_validate(app=app, headers=users[role], checks=CHECKS)
    except Exception as failure:
        failure.add_note(f"Request sent as: {role}")
        raise


async def test_the_schema_documents_errors_and_refused_fields(client):
    """Clients (and schemathesis) read from the schema which errors an operation may give,
    in which shape, and that an unknown field in a body is refused."""
    headers = await f.api_client_headers()
    document = (await client.get("/api/schema/openapi.json", headers=headers)).json()
    assert document == json.loads(json.dumps(served_openapi())), "the fuzzed schema is this one"
    error_body = {"$ref": "#/components/schemas/ErrorBody"}

    def documented(path: str, method: str) -> dict[str, Any]:
        responses = document["paths"][path][method]["responses"]
        return {
            status: answer["content"]["application/json"]["schema"]
            for status, answer in responses.items()
            if status.startswith("4")
        }

    # A likely duplicate is a 409 that also lists the candidates (docs/duplicates.md).
    assert documented("/api/v1/structures", "post") == {
        **dict.fromkeys(["400", "401", "403", "404", "413", "429"], error_body),
        "409": {"$ref": "#/components/schemas/LikelyDuplicates"},
    }
    likely = document["components"]["schemas"]["LikelyDuplicates"]
    assert {"detail", "candidates"} <= set(likely["required"])
    assert documented("/api/v1/search", "get") == dict.fromkeys(
        ["400", "401", "403", "404", "429"], error_body
    )
    # A personal link opens without an account: no 401 there.
    assert set(documented("/api/v1/links/{token}", "get")) == {"400", "403", "404", "429"}
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["detail", "status_code"]

    refusing = {
        name
        for name, component in document["components"]["schemas"].items()
        if component.get("additionalProperties") is False
    }
    assert {"StructureWrite", "ServiceWrite", "ReferralCreate", "ConventionWrite"} <= refusing
    assert "StructureRead" not in refusing

    parameters = document["paths"]["/api/v1/structures"]["get"]["parameters"]
    page = next(p for p in parameters if p["name"] == "page")
    assert (page["schema"]["minimum"], page["schema"]["maximum"]) == (1, 10_000)
