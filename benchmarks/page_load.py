"""Page load figures of the journeys' pages, in a real browser against a real server.

Loads the demo territory (`maillage migrate` + `maillage demo`) into a fresh SQLite file,
sends one referral through the API (for the partner's and the young person's personal
links), starts `maillage serve` on loopback, then drives Debian's chromium with
Playwright through the pages of the advisor's, the partner's and the young person's
journeys, at 1366 px and at 375 px. Each page is loaded once to warm up, then `--loads`
times; each load's Navigation Timing entry gives responseStart, domContentLoadedEventEnd,
loadEventEnd (ms from the navigation's start) and the document's transferSize.
Server-side time is the same URL fetched with httpx (same session cookie), headers to
last byte, which on loopback is the server's handling time.

    python benchmarks/page_load.py                 # 15 loads per page and width
    python benchmarks/page_load.py --loads 5       # quick check
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live import running_server  # noqa: E402
from tests.service.test_browser import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402

WIDTHS = {1366: 768, 375: 812}
ADVISOR = "conseillere@demo.maillage.fr"
PARTNER = "partenaire@demo.maillage.fr"  # works at the structure the referral goes to
PARTNER_STRUCTURE = "Résidence Habitat Jeunes Les Tilleuls"
VALENCE = "26362"

NAVIGATION = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  return {ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd,
          size: n.transferSize};
}"""


@dataclass
class Page:
    name: str
    path: str
    who: str  # "anonymous", "advisor" or "partner"
    expect: str  # a text the page must hold, so that a wrong page is never timed


@dataclass
class Figures:
    ttfb: list[float] = field(default_factory=list)
    dcl: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)
    size: list[float] = field(default_factory=list)
    server: list[float] = field(default_factory=list)


def _cli(database_url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "--database-url", database_url, *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return done.stdout


async def _ids_and_token(database_url: str) -> tuple[str, str]:
    """The partner structure's id, and an API token for the demo advisor."""
    from directory.tables import Structure
    from service import db
    from service.accounts.store import create_api_token
    from service.accounts.tables import User

    db.use_database(database_url)
    structure = await Structure.select(Structure.id).where(Structure.name == PARTNER_STRUCTURE)
    user = await User.select(User.id).where(User.email == ADVISOR).first()
    assert structure and user, "the demo territory is not loaded"
    return str(structure[0]["id"]), await create_api_token(user["id"], "page load benchmark")


def _send_referral(base: str, token: str, structure_id: str) -> tuple[str, str, str]:
    """One referral through the API, announced by SMS: its id and both personal links."""
    body = {
        "to_structure_id": structure_id,
        "domain": "housing",
        "consent": {"given": True, "shares": ["age", "commune", "phone", "message"]},
        "young_person": {
            "first_name": "Inès",
            "commune": VALENCE,
            "age_range": "18-21",
            "phone": "06 12 34 56 78",
            "channel": "sms",
        },
        "message": "Cherche un logement temporaire près de Valence.",
    }
    headers = {"Authorization": f"Bearer {token}"}
    response = httpx.post(f"{base}/api/v1/referrals", json=body, headers=headers, timeout=30)
    response.raise_for_status()
    sent = response.json()
    path_of = lambda link: "/" + link.split("/", 3)[3]  # noqa: E731
    return sent["id"], path_of(sent["partner_link"]), path_of(sent["young_person_link"])


def _log_in(context: Any, base: str, email: str) -> None:
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", "maillage-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert "/login" not in page.url, f"login failed for {email}"
    page.close()


def _server_times(base: str, path: str, cookies: dict[str, str], loads: int) -> list[float]:
    times = []
    with httpx.Client(base_url=base, cookies=cookies, timeout=30) as client:
        client.get(path)  # warm-up
        for _ in range(loads):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
    return times


def _measure(
    browser: Any, base: str, pages: list[Page], loads: int
) -> dict[tuple[str, int], Figures]:
    results: dict[tuple[str, int], Figures] = {}
    for width, height in WIDTHS.items():
        contexts = {}
        for who in ("anonymous", "advisor", "partner"):
            context = browser.new_context(viewport={"width": width, "height": height})
            if who != "anonymous":
                _log_in(context, base, ADVISOR if who == "advisor" else PARTNER)
            contexts[who] = context
        for page_spec in pages:
            context = contexts[page_spec.who]
            figures = Figures()
            tab = context.new_page()
            tab.goto(base + page_spec.path, wait_until="load")  # warm-up: caches, pools
            assert page_spec.expect in tab.content(), (page_spec, tab.url)
            for _ in range(loads):
                response = tab.goto(base + page_spec.path, wait_until="load")
                assert response is not None and response.status == 200, (page_spec, response)
                entry = tab.evaluate(NAVIGATION)
                figures.ttfb.append(entry["ttfb"])
                figures.dcl.append(entry["dcl"])
                figures.load.append(entry["load"])
                figures.size.append(entry["size"])
            tab.close()
            cookies = {c["name"]: c["value"] for c in context.cookies()}
            figures.server = _server_times(base, page_spec.path, cookies, loads)
            results[(page_spec.name, width)] = figures
        for context in contexts.values():
            context.close()
    return results


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def _table(results: dict[tuple[str, int], Figures]) -> str:
    columns: list[tuple[str, Callable[[Figures], list[float]]]] = [
        ("server", lambda f: f.server),
        ("responseStart", lambda f: f.ttfb),
        ("DOMContentLoaded end", lambda f: f.dcl),
        ("load end", lambda f: f.load),
    ]
    head = "| page | width | " + " | ".join(f"{c} median / p90 (ms)" for c, _ in columns)
    lines = [head + " | document (kB) |", "|---|---:|" + "---:|" * (len(columns) + 1)]
    for (name, width), figures in results.items():
        cells = [
            f"{statistics.median(get(figures)):.1f} / {_p90(get(figures)):.1f}"
            for _, get in columns
        ]
        size = statistics.median(figures.size) / 1000
        lines.append(f"| {name} | {width} | " + " | ".join(cells) + f" | {size:.1f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=15, help="measured loads per page and width")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    options = parser.parse_args()
    if CHROMIUM is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="maillage_pages_"))
    database_url = f"sqlite:///{folder / 'maillage.sqlite'}"
    os.environ.update(
        MAILLAGE_MAIL_OUTBOX=str(folder / "outbox"), MAILLAGE_MEDIA_DIR=str(folder / "media")
    )
    started = time.perf_counter()
    _cli(database_url, "migrate")
    _cli(database_url, "demo")
    structure_id, token = asyncio.run(_ids_and_token(database_url))
    print(f"demo loaded in {time.perf_counter() - started:.0f} s into {folder}", file=sys.stderr)
    with running_server(database_url) as base:
        referral_id, partner_path, young_path = _send_referral(base, token, structure_id)
        listed = f"/orientations/{referral_id}"
        pages = [
            Page("login", "/login", "anonymous", "Connexion"),
            Page(
                "search (need + commune)",
                f"/recherche?need=logement&commune={VALENCE}",
                "advisor",
                PARTNER_STRUCTURE,
            ),
            Page(
                "referral form",
                f"/orientations/nouvelle?structure={structure_id}",
                "advisor",
                PARTNER_STRUCTURE,
            ),
            Page("outbox", "/orientations", "advisor", listed),
            Page("a referral", listed, "advisor", "Inès"),
            Page("inbox (partner)", "/orientations/recues", "partner", listed),
            Page("partner's link /p/", partner_path, "anonymous", "Inès"),
            Page("young person's link /j/", young_path, "anonymous", "Bonjour Inès"),
        ]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                results = _measure(browser, base, pages, options.loads)
            finally:
                browser.close()
    print(f"command: python benchmarks/page_load.py --loads {options.loads}")
    print(
        f"machine: {platform.node()}, {os.cpu_count()} cores, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; SQLite, demo territory; "
        f"{options.loads} loads per page after one warm-up"
    )
    print(_table(results))
    if not options.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
