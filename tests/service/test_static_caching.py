"""Static files: pages link them by an address that names their content, which a phone may
keep for a year; the same file under its bare address is revalidated every time."""

from __future__ import annotations

import hashlib
import re

from service.static_urls import STATIC_DIR
from tests import factories as f


async def test_pages_link_the_stylesheet_by_its_content_and_it_is_kept_a_year(client):
    page = await client.get("/login")
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.text)
    assert href is not None
    digest = hashlib.sha256((STATIC_DIR / "maillage.css").read_bytes()).hexdigest()[:12]
    assert href.group(1) == f"/static/maillage.css?v={digest}"
    css = await client.get(href.group(1))
    assert css.status_code == 200
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-security-policy" in css.headers


async def test_a_bare_static_address_is_checked_with_the_server_each_time(client):
    css = await client.get("/static/maillage.css")
    assert css.status_code == 200
    assert css.headers["cache-control"] == "no-cache"


async def test_pages_and_missing_files_are_not_made_cacheable(client):
    page = await client.get("/login")
    assert "immutable" not in page.headers.get("cache-control", "")
    missing = await client.get("/static/nothing-here.css?v=abc")
    assert missing.status_code == 404
    assert "immutable" not in missing.headers.get("cache-control", "")


async def test_the_api_documentation_links_its_files_by_content_too(client):
    await f.logged_in(client)
    docs = await client.get("/api/schema")
    assert docs.status_code == 200
    for src in re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text):
        assert "?v=" in src, src


def test_templates_link_static_files_through_their_digest():
    """A bare /static/ address in a template would be kept by no browser: use static()."""
    from service.settings import ROOT

    for template in (ROOT / "templates").rglob("*.html"):
        assert '"/static/' not in template.read_text(), template.name
