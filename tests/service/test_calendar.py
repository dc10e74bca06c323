"""Working days: every expected date below can be checked on a 2026 wall calendar."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime, timedelta

import holidays
import pytest

from service.referrals.calendar import (
    PARIS,
    add_working_days,
    is_working_day,
    shift_for_pause,
    subtract_working_days,
    working_days_between,
)


def paris(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def holiday_named(name: str, year: int = 2026) -> date:
    """A holiday found by its French name in the library, not typed in by hand."""
    (day,) = holidays.France(years=year, language="fr").get_named(name, lookup="exact")
    return day


def test_friday_plus_one_working_day_is_monday() -> None:
    assert add_working_days(paris(2026, 3, 6), 1) == paris(2026, 3, 9)  # Fri → Mon


def test_weekdays_and_weekends() -> None:
    assert is_working_day(date(2026, 3, 9))  # Monday
    assert is_working_day(date(2026, 3, 13))  # Friday
    assert not is_working_day(date(2026, 3, 14))  # Saturday
    assert not is_working_day(date(2026, 3, 15))  # Sunday


def test_known_2026_holidays_literally() -> None:
    for day in (
        date(2026, 1, 1),
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 5, 14),  # Ascension Thursday
        date(2026, 5, 25),  # Whit Monday
        date(2026, 7, 14),
        date(2026, 11, 11),
        date(2026, 12, 25),
    ):
        assert not is_working_day(day), day
    # Good Friday and 26 December are holidays in Alsace-Moselle only.
    assert is_working_day(date(2026, 4, 3))


def test_movable_holidays_agree_with_the_library() -> None:
    assert holiday_named("Ascension") == date(2026, 5, 14)
    assert holiday_named("Lundi de Pentecôte") == date(2026, 5, 25)
    assert holiday_named("Ascension", 2027) == date(2027, 5, 6)
    assert not is_working_day(holiday_named("Ascension", 2027))


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Monday 13 July + 1: Tuesday 14 July is the Fête nationale.
        (paris(2026, 7, 13), paris(2026, 7, 15)),
        # Thursday 30 April + 1: Friday 1 May is off, then the weekend.
        (paris(2026, 4, 30), paris(2026, 5, 4)),
        # Thursday 7 May + 1: Friday 8 May is off, then the weekend.
        (paris(2026, 5, 7), paris(2026, 5, 11)),
        # Wednesday 13 May + 1: Thursday 14 May is Ascension.
        (paris(2026, 5, 13), paris(2026, 5, 15)),
        # Friday 22 May + 1: the weekend, then Whit Monday 25 May.
        (paris(2026, 5, 22), paris(2026, 5, 26)),
        # Friday 14 August + 1: 15 August is a Saturday in 2026 and France does not move
        # holidays that fall on a weekend, so Monday 17 is a working day.
        (paris(2026, 8, 14), paris(2026, 8, 17)),
    ],
)
def test_one_working_day_across_holidays(start: datetime, expected: datetime) -> None:
    assert add_working_days(start, 1) == expected


def test_assumption_on_a_saturday_is_still_a_holiday() -> None:
    assert not is_working_day(date(2026, 8, 15))
    assert is_working_day(date(2026, 8, 14))
    assert is_working_day(date(2026, 8, 17))


def test_five_working_days_over_christmas() -> None:
    # From Wednesday 23 December: Thu 24 (1), Fri 25 off, weekend, Mon 28 (2), Tue 29 (3),
    # Wed 30 (4), Thu 31 (5).
    assert add_working_days(paris(2026, 12, 23, 15, 30), 5) == paris(2026, 12, 31, 15, 30)


def test_start_on_a_weekend_counts_from_the_next_working_day() -> None:
    # Saturday or Sunday: the clock starts on Monday 9 March at 00:00; one full working day
    # later is the end of Monday, i.e. Tuesday 00:00, whatever the time on the weekend.
    tuesday = paris(2026, 3, 10, 0)
    assert add_working_days(paris(2026, 3, 7, 10), 1) == tuesday
    assert add_working_days(paris(2026, 3, 8, 20), 1) == tuesday
    assert add_working_days(paris(2026, 3, 7, 10), 0) == paris(2026, 3, 9, 0)
    # A holiday start works the same: Ascension Thursday → Friday 00:00 → Monday 00:00.
    assert add_working_days(paris(2026, 5, 14, 11), 1) == paris(2026, 5, 18, 0)


def test_a_deadline_never_falls_on_a_day_off() -> None:
    # Wednesday 13 May at midnight + 1: the end of Wednesday is Thursday 00:00, Ascension,
    # so the deadline is the start of Friday (no working time runs in between).
    assert add_working_days(paris(2026, 5, 13, 0), 1) == paris(2026, 5, 15, 0)


def test_aware_datetimes_keep_their_time_zone_and_count_in_paris() -> None:
    # Friday 6 March 09:00 UTC is 10:00 in Paris: Monday 09:00 UTC.
    deadline = add_working_days(datetime(2026, 3, 6, 9, tzinfo=UTC), 1)
    assert deadline == datetime(2026, 3, 9, 9, tzinfo=UTC)
    assert deadline.tzinfo is UTC
    # Friday 23:30 UTC is already Saturday 00:30 in Paris: the clock starts on Monday.
    late = add_working_days(datetime(2026, 3, 6, 23, 30, tzinfo=UTC), 1)
    assert late == paris(2026, 3, 10, 0)
    assert late == datetime(2026, 3, 9, 23, tzinfo=UTC)


def test_wall_clock_time_is_kept_across_the_change_to_summer_time() -> None:
    # Clocks go forward on Sunday 29 March 2026: Friday 10:00 CET → Monday 10:00 CEST.
    deadline = add_working_days(paris(2026, 3, 27), 1)
    assert deadline == paris(2026, 3, 30)
    assert deadline.utcoffset() == timedelta(hours=2)
    # 71 real hours (Python subtracts same-zone datetimes on the wall clock, hence UTC).
    elapsed = deadline.astimezone(UTC) - paris(2026, 3, 27).astimezone(UTC)
    assert elapsed == timedelta(hours=71)


def test_naive_datetimes_are_paris_wall_clock() -> None:
    assert add_working_days(datetime(2026, 3, 6, 10), 1) == datetime(2026, 3, 9, 10)


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(paris(2026, 3, 6), -1)


def test_alsace_moselle() -> None:
    good_friday, saint_stephen = date(2026, 4, 3), date(2025, 12, 26)  # Fri 26 Dec 2025
    for subdivision in ("57", "67", "68", "Moselle", "Alsace", "6AE", "Alsace-Moselle"):
        assert not is_working_day(good_friday, subdivision), subdivision
        assert not is_working_day(saint_stephen, subdivision), subdivision
    assert is_working_day(good_friday) and is_working_day(saint_stephen)
    assert is_working_day(good_friday, "75") and is_working_day(good_friday, "2A")
    # Thursday 2 April + 1: Friday, or in Moselle the Tuesday after Easter Monday.
    assert add_working_days(paris(2026, 4, 2), 1) == paris(2026, 4, 3)
    assert add_working_days(paris(2026, 4, 2), 1, "57") == paris(2026, 4, 7)


def test_alsace_moselle_name_raises_no_deprecation_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not is_working_day(date(2027, 3, 26), "Alsace-Moselle")  # Good Friday 2027


def test_overseas_holidays_and_local_dates() -> None:
    # 20 December, abolition of slavery in La Réunion (a Monday in 2027).
    assert not is_working_day(date(2027, 12, 20), "974")
    assert is_working_day(date(2027, 12, 20))
    # Friday 6 March 21:00 UTC is already Saturday 01:00 in La Réunion (UTC+4).
    friday_evening = datetime(2026, 3, 6, 21, tzinfo=UTC)
    assert is_working_day(friday_evening)
    assert not is_working_day(friday_evening, "974")


def test_unknown_subdivision_is_refused() -> None:
    for subdivision in ("99", "Zone A", "Gondor"):
        with pytest.raises(ValueError):
            is_working_day(date(2026, 3, 9), subdivision)


def test_working_days_between_over_a_weekend() -> None:
    assert working_days_between(paris(2026, 3, 6, 12), paris(2026, 3, 9, 12)) == 1.0
    # Friday 16:00 → Monday 10:00: 8 hours + 10 hours = 18/24 of a working day.
    assert working_days_between(paris(2026, 3, 6, 16), paris(2026, 3, 9, 10)) == 0.75
    assert working_days_between(paris(2026, 3, 7, 9), paris(2026, 3, 8, 18)) == 0.0
    # Over Christmas, from Wed 23 to Thu 31 at the same time: 5 working days.
    assert working_days_between(paris(2026, 12, 23), paris(2026, 12, 31)) == 5.0


def test_working_days_between_undoes_add_working_days() -> None:
    for start in (paris(2026, 3, 6, 16), paris(2026, 3, 7, 10), paris(2026, 12, 23, 8)):
        for days in (0, 1, 3, 10):
            deadline = add_working_days(start, days)
            assert working_days_between(start, deadline) == days


def test_working_days_between_leaves_out_pauses() -> None:
    # Monday 9 → Friday 13 March at 10:00 is 4 working days. On hold from Tuesday 10:00 to
    # Wednesday 16:00, and again (overlapping) Wednesday 12:00-22:00: together Tuesday 10:00
    # → Wednesday 22:00, 14 + 22 = 36 hours, 1.5 working days, counted once. A third pause
    # before the start only counts from the start: Monday 10:00-12:00, 2 hours.
    pauses = [
        (paris(2026, 3, 10, 10), paris(2026, 3, 11, 16)),
        (paris(2026, 3, 11, 12), paris(2026, 3, 11, 22)),
        (paris(2026, 3, 6, 10), paris(2026, 3, 9, 12)),
    ]
    elapsed = working_days_between(paris(2026, 3, 9), paris(2026, 3, 13), pauses=pauses)
    assert elapsed == 4 - 1.5 - 2 / 24


def test_working_days_between_refuses_a_reversed_interval() -> None:
    with pytest.raises(ValueError):
        working_days_between(paris(2026, 3, 9), paris(2026, 3, 6))


def test_shift_for_pause_over_working_days() -> None:
    # Due Wednesday 11 March 10:00; on hold Monday 9 10:00 → Thursday 12 10:00. Two working
    # days were left at the pause, so the new deadline is Monday 16 March 10:00.
    assert shift_for_pause(paris(2026, 3, 11), paris(2026, 3, 9), paris(2026, 3, 12)) == paris(
        2026, 3, 16
    )


def test_shift_for_pause_over_a_weekend_counts_working_time_only() -> None:
    # Due Tuesday 10 March 10:00; on hold Friday 18:00 → Monday 09:00: 6 + 9 = 15 working
    # hours paused, so the deadline becomes Wednesday 01:00 (not Friday, as adding the 63
    # wall-clock hours of the pause would do).
    shifted = shift_for_pause(paris(2026, 3, 10), paris(2026, 3, 6, 18), paris(2026, 3, 9, 9))
    assert shifted == paris(2026, 3, 11, 1)


def test_shift_for_pause_keeps_the_time_zone() -> None:
    shifted = shift_for_pause(
        datetime(2026, 3, 11, 9, tzinfo=UTC),
        datetime(2026, 3, 9, 9, tzinfo=UTC),
        datetime(2026, 3, 12, 9, tzinfo=UTC),
    )
    assert shifted == datetime(2026, 3, 16, 9, tzinfo=UTC)
    assert shifted.tzinfo is UTC


def test_shift_for_pause_edge_cases() -> None:
    deadline = paris(2026, 3, 11)
    # A pause begun after the deadline does not move it.
    assert shift_for_pause(deadline, paris(2026, 3, 12), paris(2026, 3, 13)) == deadline
    # A pause of no length does not either.
    assert shift_for_pause(deadline, paris(2026, 3, 9), paris(2026, 3, 9)) == deadline
    with pytest.raises(ValueError):
        shift_for_pause(deadline, paris(2026, 3, 10), paris(2026, 3, 9))


def test_one_working_day_before_a_monday_is_the_friday() -> None:
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert subtract_working_days(monday, 1) == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_one_working_day_before_skips_christmas_and_the_weekend() -> None:
    # Monday 28 December 2026: Friday 25 is Christmas, so the day before is Thursday 24.
    due = datetime(2026, 12, 28, 10, 0)
    assert subtract_working_days(due, 1) == datetime(2026, 12, 24, 10, 0)
    assert subtract_working_days(due, 2) == datetime(2026, 12, 23, 10, 0)


@pytest.mark.parametrize("days", [1, 2, 5, 10])
def test_subtract_working_days_undoes_add_working_days(days: int) -> None:
    # Every working day of three years, at the start of the day, mid-morning and late at
    # night in Paris (DST switches, bank holidays and 29 February 2028 included).
    day = date(2026, 1, 1)
    while day < date(2029, 1, 1):
        if is_working_day(day):
            for hour, minute in ((0, 0), (10, 15), (23, 30)):
                start = datetime(day.year, day.month, day.day, hour, minute)
                due = add_working_days(start, days)
                assert subtract_working_days(due, days) == start, start
        day += timedelta(days=1)


def test_subtract_working_days_refuses_negative_days() -> None:
    with pytest.raises(ValueError):
        subtract_working_days(datetime(2026, 11, 30, 10, 0), -1)
