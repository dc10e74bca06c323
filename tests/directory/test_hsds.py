"""Opening hours as HSDS schedules, without a database: what a reader of the structured
fields sees, and what is kept in words."""

from __future__ import annotations

import hashlib

from directory.hsds import schedules
from tests.directory.hsds_schemas import SCHEMAS, validator

SITE = {"location_id": "6f065db4-e941-431e-a39a-97b1854a8903"}


def _opening(expression: str) -> list[tuple[str, str, str] | str]:
    """Structured rows as (byday, opens_at, closes_at), the others as their description."""
    rows = schedules(expression, SITE)
    for row in rows:
        assert not list(validator("schedule").iter_errors(row)), row
        assert expression in row["notes"]
    return [
        (r["byday"], r["opens_at"], r["closes_at"]) if "byday" in r else r["description"]
        for r in rows
    ]


def test_a_later_rule_overrides_an_earlier_one_for_its_days():
    assert _opening("Mo-Fr 09:00-17:00; We 09:00-12:00") == [
        ("MO,TU,TH,FR", "09:00", "17:00"),
        ("WE", "09:00", "12:00"),
    ]


def test_an_opening_past_midnight_closes_the_next_day():
    [row] = schedules("Fr,Sa 22:00-02:00", SITE)
    assert (row["byday"], row["opens_at"], row["closes_at"]) == ("FR,SA", "22:00", "02:00")
    assert row["description"] == "Le vendredi et le samedi : 22 h 00 – 2 h 00 (jusqu'au lendemain)"


def test_what_hsds_cannot_structure_is_said_in_words():
    assert _opening('Mo-Fr 09:00-12:00 || "sur rendez-vous"') == [
        ("MO,TU,WE,TH,FR", "09:00", "12:00"),
        "Sinon : sur rendez-vous",
    ]
    # The parser turns "closed in August" into the other eleven months: still a season.
    assert _opening("Mo-Fr 09:00-17:00; Aug off") == [
        "De janvier à juillet et de septembre à décembre, du lundi au vendredi : 9 h 00 – 17 h 00"
    ]
    assert _opening("Mo-Fr 09:00-12:00; SH off") == [
        ("MO,TU,WE,TH,FR", "09:00", "12:00"),
        "Pendant les vacances scolaires : fermé",
    ]


def test_no_hours_no_schedule_and_ids_are_stable():
    assert schedules("", SITE) == []
    assert schedules("pas d'horaires", SITE) == []
    first = schedules("Mo-Fr 09:00-12:00,14:00-17:00; PH off", SITE)
    assert first == schedules("Mo-Fr 09:00-12:00,14:00-17:00; PH off", SITE)
    assert len({row["id"] for row in first}) == 3


def test_the_vendored_schemas_are_open_referrals_unchanged():
    folder = SCHEMAS.parent
    lines = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    sums = dict(reversed(line.split("  ", 1)) for line in lines)
    assert len(sums) == 22 and "schema/organization.json" in sums
    for name, digest in sums.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
