"""Factories that build realistic records through the real domain code, with traits as
keyword arguments (an advisor `of` a structure, a service `remote`, `unconditional`...)."""

from __future__ import annotations

import itertools
import re
from uuid import UUID

import msgspec
from litestar.testing import AsyncTestClient

from directory import store
from directory.schemas import (
    PersonWrite,
    RelationshipWrite,
    ServiceWrite,
    SiteWrite,
    StructureWrite,
)
from directory.verification import Verifier
from directory.vocabulary import Domain, Level
from service.accounts.store import Role, create_api_token, create_user

_counter = itertools.count(1)
PASSWORD = "correct horse battery"


# Who the factories' records are saved by, unless a test says otherwise.
SAVED_BY = Verifier("coordinator", "Coordination des tests")


async def structure(name: str | None = None, by: Verifier = SAVED_BY, **fields: object) -> UUID:
    return await store.create_structure(
        msgspec.convert({"name": name or f"Structure {next(_counter)}", **fields}, StructureWrite),
        by=by,
    )


async def site(structure_id: UUID, commune: str = "26362", **fields: object) -> UUID:
    site_id, _notice = await store.create_site(
        structure_id,
        SiteWrite(commune=commune, **fields),  # type: ignore[arg-type]
        by=SAVED_BY,
    )
    return site_id


async def service(
    structure_id: UUID,
    name: str | None = None,
    domains: tuple[Domain, ...] = (Domain.HOUSING,),
    by: Verifier = SAVED_BY,
    **fields: object,
) -> UUID:
    return await store.create_service(
        structure_id,
        msgspec.convert(
            {"name": name or f"Service {next(_counter)}", "domains": list(domains), **fields},
            ServiceWrite,
        ),
        by=by,
    )


async def person(
    structure_id: UUID, first_name: str = "Camille", last_name: str = "Martin", **fields: object
) -> UUID:
    fields.setdefault("email", f"{first_name}.{last_name}{next(_counter)}@exemple.fr".lower())
    return await store.create_person(
        structure_id,
        msgspec.convert({"first_name": first_name, "last_name": last_name, **fields}, PersonWrite),
        SAVED_BY,
    )


async def relationship(
    source: UUID, target: UUID, level: Level = Level.OPERATIONAL, **fields: object
) -> UUID:
    return await store.create_relationship(
        source,
        RelationshipWrite(level=level, target_structure_id=target, **fields),  # type: ignore[arg-type]
        SAVED_BY,
    )


async def partner(
    name: str,
    commune: str,
    domains: tuple[Domain, ...] = (Domain.HOUSING,),
    **service_fields: object,
) -> tuple[UUID, UUID]:
    """A structure with one site in `commune` and one service: the usual search target."""
    structure_id = await structure(name)
    await site(structure_id, commune=commune)
    service_id = await service(structure_id, f"{name} accueil", domains, **service_fields)
    return structure_id, service_id


async def user(
    role: Role = Role.ADVISOR, of: UUID | None = None, email: str | None = None
) -> tuple[UUID, str]:
    """A user and its e-mail; password is PASSWORD."""
    email = email or f"user{next(_counter)}@exemple.fr"
    user_id = await create_user(email, "Dominique Test", PASSWORD, role, of)
    return user_id, email


async def api_client_headers(role: Role = Role.ADVISOR, of: UUID | None = None) -> dict[str, str]:
    user_id, _ = await user(role, of)
    return {"Authorization": f"Bearer {await create_api_token(user_id, 'tests')}"}


def csrf_token(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


async def login(client: AsyncTestClient, email: str, password: str = PASSWORD) -> None:
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={"email": email, "password": password, "_csrf_token": csrf_token(page.text)},
    )
    assert response.status_code in (200, 302, 303), response.text
    assert "maillage_session" in client.cookies, "login failed"


async def logged_in(
    client: AsyncTestClient, role: Role = Role.ADVISOR, of: UUID | None = None
) -> UUID:
    user_id, email = await user(role, of)
    await login(client, email)
    return user_id


async def form_post(client: AsyncTestClient, url: str, data: dict, page_url: str | None = None):
    """Post a form the way a browser does: read the CSRF token from the form's page first."""
    page = await client.get(page_url or url)
    assert page.status_code == 200, page.text
    return await client.post(url, data={**data, "_csrf_token": csrf_token(page.text)})
