"""Referral activity's figures on hand-made rows whose answers can be checked on paper:
Paris months at midnight, outcomes, censored medians, wandering alerts, filters, charts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from directory.errors import Invalid
from service.referrals.activity import (
    ActivityRow,
    Period,
    last_months,
    month_of,
    outcome_of,
    summarise,
    wandering_alerts,
)
from service.referrals.activity_load import parse_period
from service.referrals.activity_view import bar_chart, number, tables

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 4, 1, 12, 0, tzinfo=PARIS)
ML, FOYER, CIDFF, ZEBRE = uuid4(), uuid4(), uuid4(), uuid4()
NAMES = {ML: "Mission Locale", FOYER: "Foyer Jeunes Travailleurs", CIDFF: "CIDFF", ZEBRE: "Zèbre"}


def _row(
    sent_at: datetime,
    to: UUID = FOYER,
    status: str = "sent",
    young: UUID | None = None,
    domain: str = "housing",
    **fields: object,
) -> ActivityRow:
    return ActivityRow(
        id=uuid4(),
        young_person=young or uuid4(),
        sent_at=sent_at,
        domain=domain,
        from_structure=ML,
        from_name=NAMES[ML],
        to_structure=to,
        to_name=NAMES[to],
        status=status,
        **fields,  # type: ignore[arg-type]
    )


def _paris(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=PARIS)


# --- Paris months -------------------------------------------------------------------------


def test_midnight_in_paris_starts_the_month_whatever_the_utc_date():
    # Winter: Paris is UTC+1; midnight on 1 February is 23:00 UTC on 31 January.
    assert month_of(datetime(2026, 1, 31, 22, 59, 59, tzinfo=UTC)) == "2026-01"
    assert month_of(datetime(2026, 1, 31, 23, 0, 0, tzinfo=UTC)) == "2026-02"
    # Summer: UTC+2; midnight on 1 July is 22:00 UTC on 30 June.
    assert month_of(datetime(2026, 6, 30, 21, 59, 59, tzinfo=UTC)) == "2026-06"
    assert month_of(datetime(2026, 6, 30, 22, 0, 0, tzinfo=UTC)) == "2026-07"


def test_referrals_are_counted_in_their_paris_month():
    rows = [
        _row(_paris(2026, 1, 31, 23, 59)),
        _row(_paris(2026, 2, 1, 0, 0)),
        _row(datetime(2026, 2, 28, 23, 30, tzinfo=UTC)),  # 1 March, 00:30 in Paris
        _row(_paris(2025, 12, 31, 23, 59)),  # before the period: not counted
    ]
    result = summarise(rows, Period("2026-01", "2026-03"), NOW)
    assert [(m.key, m.sent) for m in result.months] == [
        ("2026-01", 1),
        ("2026-02", 1),
        ("2026-03", 1),
    ]
    assert result.total.sent == 3


def test_a_period_bounds_are_paris_midnights():
    period = Period("2026-01", "2026-03")
    assert period.start == _paris(2026, 1, 1)
    assert period.end == _paris(2026, 4, 1)
    assert period.months == ["2026-01", "2026-02", "2026-03"]
    assert Period("2025-11", "2026-02").months == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_the_default_period_is_the_twelve_months_ending_this_month():
    assert last_months(date(2026, 2, 15), 12) == Period("2025-03", "2026-02")
    assert last_months(date(2026, 12, 1), 12) == Period("2026-01", "2026-12")
    assert last_months(date(2026, 1, 1), 1) == Period("2026-01", "2026-01")


# --- Outcomes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "transitions", "expected"),
    [
        ("sent", set(), "waiting"),
        ("received", set(), "waiting"),
        ("accepted", {"accept"}, "accepted"),
        ("in_progress", {"accept"}, "taken_in"),
        ("completed", {"accept"}, "taken_in"),
        ("failed", {"accept", "no_show"}, "no_show"),
        ("failed", {"accept"}, "taken_in"),  # closed without result after the first meeting
        ("declined", set(), "declined"),
        ("redirected", set(), "redirected"),
        ("expired", set(), "expired"),
        ("cancelled", {"withdraw"}, "withdrawn"),
        ("cancelled", {"cancel"}, "cancelled"),
        ("on_hold", set(), "on_hold"),
    ],
)
def test_each_referral_has_one_outcome(status, transitions, expected):
    row = _row(_paris(2026, 3, 2, 10), status=status, transitions=frozenset(transitions))
    assert outcome_of(row) == expected


def test_declines_are_counted_by_reason_and_partners_listed_by_name():
    rows = [
        _row(_paris(2026, 3, 2, 10), FOYER, "declined", decline_reason="no_capacity"),
        _row(_paris(2026, 3, 3, 10), FOYER, "declined", decline_reason="no_capacity"),
        _row(_paris(2026, 3, 4, 10), FOYER, "declined", decline_reason="not_eligible"),
        _row(_paris(2026, 3, 5, 10), ZEBRE, "accepted", domain="mobility"),
        _row(_paris(2026, 3, 6, 10), CIDFF, "sent", domain="rights"),
    ]
    result = summarise(rows, Period("2026-03", "2026-03"), NOW)
    assert result.decline_reasons == [
        ("not_eligible", "Le jeune ne correspond pas aux critères du service", 1),
        ("no_capacity", "Plus de place ou de créneau disponible", 2),
    ]
    # By name, never by volume: the Foyer received the most and is not first.
    assert [line.label for line in result.receivers] == [
        "CIDFF",
        "Foyer Jeunes Travailleurs",
        "Zèbre",
    ]
    # Domains in the charter's order, not by volume.
    assert [line.key for line in result.domains] == ["housing", "rights", "mobility"]
    assert result.total.accepted == 1


# --- Censored medians ---------------------------------------------------------------------


def test_the_response_median_counts_the_referrals_still_without_an_answer():
    monday = _paris(2026, 3, 2, 10)  # no public holiday in these two weeks
    rows = [
        _row(monday, status="accepted", answered_at=monday + timedelta(days=1)),  # 1 day
        _row(monday, status="declined", answered_at=monday + timedelta(days=2)),  # 2 days
        # Expired unanswered after two working weeks: "no answer for at least 10 days".
        _row(monday, status="expired", closed_at=monday + timedelta(days=14)),
        # Still waiting, its deadline long past.
        _row(monday, status="received", acknowledge_due=monday + timedelta(days=3)),
    ]
    result = summarise(rows, Period("2026-03", "2026-03"), NOW)
    answer = result.total.answer
    assert answer is not None
    assert (answer.count, answer.answered) == (4, 2)
    # Kaplan-Meier: S(1) = 3/4, S(2) = 3/4 x 2/3 = 1/2, so the median is 2 working days;
    # the answered referrals alone would say 1.5.
    assert answer.median == 2.0
    assert tables(result)["mois"].rows[0]["delai_median_reponse"] == 2.0


def test_no_median_when_more_than_half_are_still_unanswered():
    monday = _paris(2026, 3, 2, 10)
    rows = [
        _row(monday, status="accepted", answered_at=monday + timedelta(days=1)),
        _row(monday, status="expired", closed_at=monday + timedelta(days=14)),
        _row(monday, status="expired", closed_at=monday + timedelta(days=14)),
    ]
    result = summarise(rows, Period("2026-03", "2026-03"), NOW)
    assert result.total.answer is not None and result.total.answer.median is None
    assert tables(result)["mois"].rows[0]["delai_median_reponse"] is None


# --- Wandering ----------------------------------------------------------------------------


def test_a_third_referral_in_90_days_with_none_accepted_is_an_alert():
    young = uuid4()
    rows = [
        _row(_paris(2026, 1, 5, 10), FOYER, "declined", young),
        _row(_paris(2026, 2, 5, 10), CIDFF, "declined", young),
        _row(_paris(2026, 3, 5, 10), ZEBRE, "sent", young),
    ]
    assert wandering_alerts(rows) == {young: [_paris(2026, 3, 5, 10)]}
    result = summarise(rows, Period("2026-03", "2026-03"), NOW)
    assert [m.wandering for m in result.months] == [1]
    assert result.wandering_young == 1
    # The earlier referrals count for the alert, not for the period's figures.
    assert result.total.sent == 1


def test_an_acceptance_before_the_third_referral_is_no_alert_but_a_later_one_is():
    young = uuid4()
    first = _row(
        _paris(2026, 1, 5, 10), FOYER, "accepted", young, accepted_at=_paris(2026, 1, 6, 10)
    )
    rows = [first, _row(_paris(2026, 2, 5, 10), CIDFF, "declined", young)]
    assert wandering_alerts([*rows, _row(_paris(2026, 3, 5, 10), ZEBRE, "sent", young)]) == {}
    late = _row(
        _paris(2026, 1, 5, 10), FOYER, "accepted", young, accepted_at=_paris(2026, 3, 20, 10)
    )
    third = _row(_paris(2026, 3, 5, 10), ZEBRE, "sent", young)
    assert wandering_alerts([late, rows[1], third]) == {young: [third.sent_at]}


def test_a_return_to_a_structure_tried_within_90_days_is_an_alert_and_after_it_is_not():
    young = uuid4()
    back = _row(_paris(2026, 3, 1, 10), FOYER, "sent", young)
    assert wandering_alerts([_row(_paris(2026, 1, 15, 10), FOYER, "declined", young), back]) == {
        young: [back.sent_at]
    }
    later = _row(_paris(2026, 6, 1, 10), FOYER, "sent", young)
    assert wandering_alerts([_row(_paris(2026, 1, 15, 10), FOYER, "declined", young), later]) == {}


# --- Filters, numbers, charts ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("du", "au", "field"),
    [
        ("2026-13", "", "du"),
        ("janvier", "", "du"),
        ("", "2026-1", "au"),
        ("2026-05", "2026-02", "au"),
        ("2020-01", "2026-01", "du"),  # more than 36 months
        ("", "9999-12", "au"),
        ("２０２６-０１", "", "du"),  # digits, but not ASCII ones
    ],
)
def test_bad_periods_name_the_parameter(du, au, field):
    with pytest.raises(Invalid) as caught:
        parse_period(du, au, NOW)
    assert list(caught.value.errors) == [field]


def test_periods_from_links():
    assert parse_period("", "", NOW) == Period("2025-05", "2026-04")
    assert parse_period("2026-01", "2026-03", NOW) == Period("2026-01", "2026-03")
    assert parse_period("2026-01", "", NOW) == Period("2026-01", "2026-04")
    assert parse_period("", "2025-06", NOW) == Period("2024-07", "2025-06")


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def test_numbers_are_written_the_french_way():
    assert _plain(number(64458)) == "64 458"
    assert _plain(number(0.125, "share")) == "12,5 %"
    assert number(2.5, "days") == "2,5"
    assert number(None) == "—"


def test_a_chart_is_one_named_image_and_escapes_its_labels():
    svg = str(bar_chart("Orientations", [("<b>Foyer</b>", 3), ("CIDFF", 0)], "g"))
    assert 'role="img"' in svg
    assert "<figcaption>Orientations</figcaption>" in svg
    assert "&lt;b&gt;Foyer&lt;/b&gt; : 3, CIDFF : 0" in svg
    assert "<b>" not in svg


# --- Working time by whole weeks ------------------------------------------------------------


def _day_by_day(start: datetime, end: datetime, subdivision: str | None) -> timedelta:
    """The count the calendar made before, one day at a time: the reference."""
    from service.referrals.calendar import _midnight_after, _working

    total, moment = timedelta(), start
    while moment < end:
        following = min(_midnight_after(moment), end)
        if _working(moment.date(), subdivision):
            total += following - moment
        moment = following
    return total


@pytest.mark.parametrize("subdivision", [None, "57", "974"])
def test_working_time_by_whole_weeks_matches_the_day_by_day_count(subdivision):
    import random

    from service.referrals.calendar import _working_time

    rng = random.Random(subdivision or "paris")
    base = datetime(2024, 1, 1)
    for _ in range(2000):
        start = base + timedelta(minutes=rng.randrange(0, 3 * 365 * 24 * 60))
        end = start + timedelta(minutes=rng.choice([0, 30, 60 * 20, 60 * 24 * 3, 60 * 24 * 400]))
        end += timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
        assert _working_time(start, end, subdivision) == _day_by_day(start, end, subdivision), (
            start,
            end,
        )
    # Christmas 2026 is a Friday: Thursday 10:00 to Monday 10:00 is 14 h + 10 h.
    assert _working_time(datetime(2026, 12, 24, 10), datetime(2026, 12, 28, 10), None) == timedelta(
        hours=24
    )


def test_an_empty_period_gives_empty_tables_and_says_so():
    result = summarise([], Period("2026-03", "2026-04"), NOW)
    made = tables(result)
    assert [row["orientations"] for row in made["mois"].rows] == [0, 0]
    assert made["partenaires"].rows == [] and made["motifs"].rows == []
    assert "Refus par motif — aucune" in str(bar_chart("Refus par motif", [], "g"))
