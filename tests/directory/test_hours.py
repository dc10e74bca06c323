"""Opening hours as people read them: a table of real OpenStreetMap expressions (taken from
French services' entries) and what they must say, on a fixed week that holds Christmas."""

from __future__ import annotations

from datetime import datetime

import pytest

from directory.hours import describe, week_table
from tests import factories as f

# Wednesday 23 December 2026: the week runs from Monday 21 to Sunday 27, Friday 25 is a
# public holiday.
CHRISTMAS_WEEK = datetime(2026, 12, 23, 10, 0)


@pytest.mark.parametrize(
    ("expression", "lines"),
    [
        ("24/7", ["Ouvert 24 h/24, 7 j/7"]),
        ("Mo-Su 00:00-24:00", ["Ouvert 24 h/24, 7 j/7"]),
        ("24/7; PH off", ["Ouvert 24 h/24, 7 j/7", "Fermé les jours fériés"]),
        (
            "Mo-Fr 09:00-12:00,14:00-17:00; PH off",
            [
                "Du lundi au vendredi : 9 h 00 – 12 h 00 et 14 h 00 – 17 h 00",
                "Fermé les jours fériés",
            ],
        ),
        (
            "Mo-Fr 09:00-17:00; PH 10:00-12:00",
            ["Du lundi au vendredi : 9 h 00 – 17 h 00", "Les jours fériés : 10 h 00 – 12 h 00"],
        ),
        (
            "Jan-Jun,Sep-Dec Mo-Fr 09:00-17:00; Jul-Aug Mo-Fr 09:00-12:00",
            [
                "De janvier à juin et de septembre à décembre, du lundi au vendredi : "
                "9 h 00 – 17 h 00",
                "De juillet à août, du lundi au vendredi : 9 h 00 – 12 h 00",
            ],
        ),
        (
            "Apr-Oct Tu-Su 10:00-18:00",
            ["D'avril à octobre, du mardi au dimanche : 10 h 00 – 18 h 00"],
        ),
        (
            "Mo-Fr 08:30-12:00; Jul 14-Aug 15 off",
            ["Du lundi au vendredi : 8 h 30 – 12 h 00", "Du 14 juillet au 15 août : fermé"],
        ),
        (
            'Mo-Fr 09:00-17:00; Sa 09:00-12:00 "un samedi sur deux"',
            [
                "Du lundi au vendredi : 9 h 00 – 17 h 00",
                "Le samedi : 9 h 00 – 12 h 00, un samedi sur deux",
            ],
        ),
        (
            'Mo-Fr 09:00-12:00 || "sur rendez-vous"',
            ["Du lundi au vendredi : 9 h 00 – 12 h 00", "Sinon : sur rendez-vous"],
        ),
        # What one week's table says fully needs no sentence.
        ("Mo-Fr 09:00-12:00,14:00-17:00", []),
        ("Mo,We,Fr 14:00-18:00", []),
        ("", []),
        ("n'importe quoi", []),
    ],
)
def test_expressions_read_as_french_sentences(expression: str, lines: list[str]) -> None:
    assert describe(expression) == lines


@pytest.mark.parametrize(
    ("expression", "week"),
    [
        ("24/7", ["24 h/24"] * 4 + ["24 h/24 (jour férié)"] + ["24 h/24"] * 2),
        ("24/7; PH off", ["24 h/24"] * 4 + ["fermé (jour férié)"] + ["24 h/24"] * 2),
        (
            "Mo-Fr 09:00-17:00; PH 10:00-12:00",
            ["9 h 00 – 17 h 00"] * 4 + ["10 h 00 – 12 h 00 (jour férié)", "fermé", "fermé"],
        ),
        (
            "Tu 18:00-02:00",
            [
                "fermé",
                "18 h 00 – 24 h 00",
                "0 h 00 – 2 h 00",
                "fermé",
                "fermé (jour férié)",
                "fermé",
                "fermé",
            ],
        ),
        (
            'Mo-Fr 09:00-12:00; Sa "sur rendez-vous"',
            # No "PH off": open on Christmas Day as the expression says, and flagged.
            ["9 h 00 – 12 h 00"] * 4
            + ["9 h 00 – 12 h 00 (jour férié)", "sur rendez-vous", "fermé"],
        ),
        (
            'Mo-Th 09:00-12:00 "sur rendez-vous"',
            ["9 h 00 – 12 h 00 (sur rendez-vous)"] * 4 + ["fermé (jour férié)", "fermé", "fermé"],
        ),
        # Winter hours in December, whatever the summer says.
        (
            "Jan-Jun,Sep-Dec Mo-Fr 09:00-17:00; Jul-Aug Mo-Fr 09:00-12:00",
            ["9 h 00 – 17 h 00"] * 4 + ["9 h 00 – 17 h 00 (jour férié)", "fermé", "fermé"],
        ),
    ],
)
def test_the_week_table_follows_every_day_and_public_holidays(
    expression: str, week: list[str]
) -> None:
    table = week_table(expression, CHRISTMAS_WEEK)
    assert [day for day, _ in table][:2] == ["lundi", "mardi"]
    assert [slots for _, slots in table] == week


async def test_a_service_open_day_and_night_says_so_on_the_search_page(client):
    structure_id = await f.structure("Point d'écoute")
    await f.site(structure_id, commune="26362", opening_hours="24/7; PH off")
    await f.service(structure_id, "Écoute logement")
    await f.logged_in(client)
    page = await client.get("/recherche", params={"commune": "26362", "need": "logement"})
    assert page.status_code == 200
    assert "<li>Ouvert 24 h/24, 7 j/7</li>" in page.text
    assert "<li>Fermé les jours fériés</li>" in page.text
    assert "<td>24 h/24</td>" in page.text
    assert "0 h 00 – 24 h 00" not in page.text

    structure_page = await client.get(f"/structures/{structure_id}")
    assert "<li>Ouvert 24 h/24, 7 j/7</li>" in structure_page.text
