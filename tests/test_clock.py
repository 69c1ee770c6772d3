"""The business-hours clock: weekends, holidays, DST, and its arithmetic's properties."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheets_ops.rules.clock import Calendar, CalendarError, parse_days, parse_hours

CHICAGO = ZoneInfo("America/Chicago")
THANKSGIVING = (date(2026, 11, 26), date(2026, 11, 27))
calendar = Calendar(CHICAGO, holidays=THANKSGIVING)


def test_a_friday_4pm_request_with_an_8_hour_sla_is_due_monday_3pm() -> None:
    friday = datetime(2026, 11, 13, 16, 0)
    assert calendar.add_hours(friday, 8) == datetime(2026, 11, 16, 15, 0)
    assert calendar.hours_between(friday, datetime(2026, 11, 14, 12, 0)) == 1.0  # Saturday


def test_a_span_that_ends_at_closing_time_ends_there() -> None:
    assert calendar.add_hours(datetime(2026, 11, 16, 8, 0), 9) == datetime(2026, 11, 16, 17, 0)


def test_time_outside_business_hours_does_not_count() -> None:
    evening = datetime(2026, 11, 16, 19, 30)
    assert calendar.hours_between(evening, datetime(2026, 11, 17, 7, 0)) == 0
    assert calendar.hours_between(evening, datetime(2026, 11, 17, 9, 30)) == 1.5
    assert calendar.add_hours(evening, 1) == datetime(2026, 11, 17, 9, 0)


def test_holidays_stop_the_clock() -> None:
    wednesday_noon = datetime(2026, 11, 25, 12, 0)
    assert calendar.add_hours(wednesday_noon, 10) == datetime(2026, 11, 30, 13, 0)
    assert calendar.hours_between(wednesday_noon, datetime(2026, 11, 30, 12, 0)) == 9.0
    assert calendar.add_days(date(2026, 11, 25), 1) == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("friday", "monday"),
    [
        (datetime(2026, 10, 30, 8, 0), datetime(2026, 11, 2, 17, 0)),  # clocks go back Nov 1
        (datetime(2026, 3, 6, 8, 0), datetime(2026, 3, 9, 17, 0)),  # clocks go forward Mar 8
    ],
)
def test_a_dst_weekend_changes_no_business_hour(friday: datetime, monday: datetime) -> None:
    assert calendar.hours_between(friday, monday) == 18.0
    assert calendar.add_hours(friday, 18) == monday
    # The same moments as aware times, on either side of the change, measure the same.
    assert (
        calendar.hours_between(friday.replace(tzinfo=CHICAGO), monday.replace(tzinfo=CHICAGO))
        == 18.0
    )


def test_aware_moments_are_read_on_the_agency_clock() -> None:
    utc_friday_4pm_chicago = datetime(2026, 11, 13, 22, 0, tzinfo=ZoneInfo("UTC"))
    assert calendar.add_hours(utc_friday_4pm_chicago, 8) == datetime(2026, 11, 16, 15, 0)


@pytest.mark.parametrize(
    ("text", "opens", "closes"),
    [
        ("08:00-17:00", time(8), time(17)),
        ("8-17", time(8), time(17)),
        ("8:30 am - 5 pm", time(8, 30), time(17)),
        ("9 to 5:30pm", time(9), time(17, 30)),
    ],
)
def test_business_hours_are_read_as_people_write_them(text: str, opens: time, closes: time) -> None:
    assert parse_hours(text) == (opens, closes)


def test_business_days_are_read_as_people_write_them() -> None:
    assert parse_days("Mon-Fri") == frozenset(range(5))
    assert parse_days("Mon, Wed, Fri") == frozenset({0, 2, 4})
    assert parse_days("Tue-Sat") == frozenset(range(1, 6))


@pytest.mark.parametrize("text", ["17:00-08:00", "all day", "8-25"])
def test_bad_business_hours_are_refused(text: str) -> None:
    with pytest.raises(CalendarError, match="Business Hours"):
        parse_hours(text)


# Properties of the arithmetic, over any moments in a few years, any hours and weekdays.

moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31))
calendars = st.builds(
    lambda days, opens, length, holidays: Calendar(
        CHICAGO, time(opens), time(opens + length), frozenset(days), tuple(sorted(holidays))
    ),
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(0, 12),
    st.integers(1, 11),
    st.sets(st.dates(date(2025, 1, 1), date(2028, 12, 31)), max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(calendars, moments, moments, moments)
def test_business_time_adds_up(cal: Calendar, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert cal.hours_between(a, b) + cal.hours_between(b, c) == pytest.approx(
        cal.hours_between(a, c)
    )


@settings(max_examples=300, deadline=None)
@given(calendars, moments, moments)
def test_business_time_is_never_more_than_the_time_itself(
    cal: Calendar, a: datetime, b: datetime
) -> None:
    a, b = sorted((a, b))
    hours = cal.hours_between(a, b)
    assert 0 <= hours <= (b - a) / timedelta(hours=1) + 1 / 3600  # the clock counts whole seconds
    assert cal.hours_between(b, a) == 0


@settings(max_examples=300, deadline=None)
@given(calendars, moments, st.integers(0, 2000))
def test_adding_hours_is_undone_by_measuring_them(
    cal: Calendar, start: datetime, quarters: int
) -> None:
    hours = quarters / 4
    end = cal.add_hours(start, hours)
    assert end >= start.replace(second=0, microsecond=0) - timedelta(seconds=1) or hours == 0
    assert cal.hours_between(start, end) == pytest.approx(hours, abs=1 / 3600)
    if hours > 0:
        assert cal.is_business_day(end.date())
