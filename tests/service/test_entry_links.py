"""Personal links to a structure's entry keep the referral links' guarantees, on SQLite
and PostgreSQL: random and long, only a hash stored, one structure, expiring, revocable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from directory.tables import Structure
from service import entry_links
from service.campaigns.tables import EntryLink
from tests import factories as f

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def test_a_link_is_random_long_and_only_its_hash_is_stored(database_url):
    structure_id = await f.structure("Foyer Le Relais")
    tokens = {await entry_links.issue(structure_id, "report", now=NOW) for _ in range(3)}
    assert len(tokens) == 3 and all(len(token) >= 43 for token in tokens)
    stored = await EntryLink.select()
    assert {row["token_hash"] for row in stored} == {entry_links.digest(t) for t in tokens}
    for token in tokens:
        assert not await EntryLink.exists().where(EntryLink.token_hash == token)
    assert entry_links.url("abc") == "/fiche/abc"


async def test_a_link_opens_its_structure_until_it_expires(database_url):
    structure_id = await f.structure("Foyer Le Relais")
    token = await entry_links.issue(structure_id, "report", days=10, now=NOW)
    access = await entry_links.resolve(token, now=NOW + timedelta(days=9))
    assert access is not None
    assert (access.structure_id, access.purpose, access.campaign_id) == (
        structure_id,
        "report",
        None,
    )
    assert await entry_links.resolve(token, now=NOW + timedelta(days=10)) is None
    assert await entry_links.resolve(token + "x", now=NOW) is None
    assert await entry_links.resolve("", now=NOW) is None


async def test_a_revoked_link_or_a_closed_structure_opens_nothing(database_url):
    structure_id = await f.structure("Foyer Le Relais")
    token = await entry_links.issue(structure_id, "report", now=NOW)
    other = await entry_links.issue(structure_id, "report", now=NOW)
    access = await entry_links.resolve(token, now=NOW)
    assert access is not None
    await entry_links.revoke(access.link_id, now=NOW)
    assert await entry_links.resolve(token, now=NOW) is None
    assert await entry_links.resolve(other, now=NOW) is not None
    await Structure.update({Structure.status: "closed"}).where(Structure.id == structure_id)
    assert await entry_links.resolve(other, now=NOW) is None
    await Structure.delete().where(Structure.id == structure_id)
    assert await EntryLink.count() == 0
