"""The SLA clock: business hours in the agency's zone, across weekends, holidays and DST.

Every moment is converted to the agency's wall clock before it is measured: a business day
runs from opening to closing time on the agency's clock, whatever the UTC offset that day.
`elapsed(moment)` counts business seconds from a fixed origin, so the business time between
two moments is a subtraction; weeks are counted by arithmetic and holidays by bisection, so
the cost does not grow with the length of the span.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ORIGIN = date(2000, 1, 3)  # a Monday, before any request this tool will see
_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class CalendarError(ValueError):
    """A business-hours setting that cannot be read; the text names the setting."""


def parse_hours(text: str) -> tuple[time, time]:
    """ "08:00-17:00", "8-17", "8:30 am - 5 pm" -> (opening, closing)."""
    parts = re.split(r"\s*(?:-|\u2013|to)\s*", text.strip().lower())
    if len(parts) != 2:
        raise CalendarError(f'Business Hours "{text}" is not like 08:00-17:00')
    times = []
    for part in parts:
        m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", part)
        if not m:
            raise CalendarError(f'Business Hours "{text}" is not like 08:00-17:00')
        hour, minute = int(m.group(1)), int(m.group(2) or 0)
        if m.group(3) == "pm" and hour < 12:
            hour += 12
        if m.group(3) == "am" and hour == 12:
            hour = 0
        if hour > 23 or minute > 59:
            raise CalendarError(f'Business Hours "{text}" has an impossible time')
        times.append(time(hour, minute))
    if times[0] >= times[1]:
        raise CalendarError(f'Business Hours "{text}": opening must come before closing')
    return times[0], times[1]


def parse_days(text: str) -> frozenset[int]:
    """ "Mon-Fri", "Mon, Tue, Thu", "Mon-Sat" -> weekday numbers (Monday 0)."""
    days: set[int] = set()
    for chunk in re.split(r"[,;]\s*", text.strip().lower()):
        if not chunk:
            continue
        ends = re.split(r"\s*(?:-|\u2013|to)\s*", chunk)
        try:
            numbers = [_DAYS.index(e[:3]) for e in ends]
        except ValueError:
            raise CalendarError(f'Business Days "{text}" is not like Mon-Fri') from None
        if len(numbers) == 1:
            days.add(numbers[0])
        else:
            start, end = numbers[0], numbers[-1]
            span = range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)]
            days.update(span)
    if not days:
        raise CalendarError(f'Business Days "{text}" names no day')
    return frozenset(days)


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    opens: time = time(8, 0)
    closes: time = time(17, 0)
    days: frozenset[int] = frozenset(range(5))
    holidays: tuple[date, ...] = ()  # sorted
    _workday_holidays: tuple[int, ...] = field(default=(), compare=False)
    _holiday_set: frozenset[int] = field(default=frozenset(), compare=False)

    _seconds: int = field(default=0, compare=False)
    _week_prefix: tuple[int, ...] = field(default=(), compare=False)  # business days in 0..6
    _nth: tuple[int, ...] = field(default=(), compare=False)  # weekday of the n-th business day
    _before: dict[int, int] = field(default_factory=dict, compare=False)  # a small cache
    _elapsed: dict[datetime, int] = field(default_factory=dict, compare=False)  # another

    def __post_init__(self) -> None:
        ordinals = sorted(d.toordinal() for d in set(self.holidays) if d.weekday() in self.days)
        set_ = object.__setattr__
        set_(self, "_workday_holidays", tuple(ordinals))
        set_(self, "_holiday_set", frozenset(ordinals))
        opens = self.opens.hour * 60 + self.opens.minute
        set_(self, "_seconds", (self.closes.hour * 60 + self.closes.minute - opens) * 60)
        prefix = [0]
        for weekday in range(7):  # ORIGIN is a Monday
            prefix.append(prefix[-1] + (weekday in self.days))
        set_(self, "_week_prefix", tuple(prefix))
        set_(self, "_nth", tuple(sorted(self.days)))

    @property
    def day_seconds(self) -> int:
        return self._seconds

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.days and day.toordinal() not in self._holiday_set

    def business_days_before(self, day: date) -> int:
        """Business days from ORIGIN up to (not including) `day`."""
        ordinal = day.toordinal()
        cached = self._before.get(ordinal)
        if cached is not None:
            return cached
        weeks, rest = divmod(ordinal - ORIGIN.toordinal(), 7)
        count = weeks * len(self.days) + self._week_prefix[rest]
        count -= bisect.bisect_left(self._workday_holidays, ordinal) - bisect.bisect_left(
            self._workday_holidays, ORIGIN.toordinal()
        )
        if len(self._before) < 4096:
            self._before[ordinal] = count
        return count

    def elapsed(self, moment: datetime) -> int:
        """Business seconds from ORIGIN to `moment` (aware, or naive agency wall-clock time).
        A cycle asks again for the same moments (a request's Received, its Due): remembered."""
        cached = self._elapsed.get(moment)
        if cached is not None:
            return cached
        local = moment.astimezone(self.zone).replace(tzinfo=None) if moment.tzinfo else moment
        day = local.date()
        seconds = self.business_days_before(day) * self.day_seconds
        if self.is_business_day(day):
            into = (local - datetime.combine(day, self.opens)).total_seconds()
            seconds += int(min(max(into, 0), self.day_seconds))
        if len(self._elapsed) < 65536:
            self._elapsed[moment] = seconds
        return seconds

    def hours_between(self, start: datetime, end: datetime) -> float:
        """Business hours from `start` to `end`; 0 when `end` is not later."""
        return max(0, self.elapsed(end) - self.elapsed(start)) / 3600

    def add_hours(self, start: datetime, hours: float) -> datetime:
        """The agency wall-clock moment `hours` business hours after `start` (naive). A span
        that ends exactly at a closing time ends there, not at the next opening."""
        target = self.elapsed(start) + round(hours * 3600)
        index, rest = divmod(target, self.day_seconds)
        if rest == 0 and index > 0:
            return datetime.combine(self._business_day(index - 1), self.closes)
        opens = datetime.combine(self._business_day(index), self.opens)
        return opens + timedelta(seconds=rest)

    def _business_day(self, index: int) -> date:
        """The business day with `index` business days before it since ORIGIN: found by week
        arithmetic, then moved on past the holidays that came before it."""
        weeks, nth = divmod(index, len(self.days))
        day = ORIGIN + timedelta(days=7 * weeks + self._nth[nth])
        while True:
            behind = index - self.business_days_before(day)
            if behind <= 0 and self.is_business_day(day):
                return day
            # `behind` calendar days hold at most `behind` business days: never overshoots.
            day += timedelta(days=max(behind, 1))

    def add_days(self, start: date, days: int) -> date:
        """The business day `days` business days after `start`."""
        day = start
        while days > 0:
            day += timedelta(days=1)
            if self.is_business_day(day):
                days -= 1
        return day

    def close_of(self, day: date) -> datetime:
        """Closing time on that day (naive agency wall clock): a deadline's last moment."""
        return datetime.combine(day, self.closes)
