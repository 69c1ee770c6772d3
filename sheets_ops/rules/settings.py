"""Business policy from the Settings tab: what the owner can change without touching code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheets_ops.model import HOLIDAYS, SETTING_DEFAULTS, SETTINGS
from sheets_ops.rules.clock import Calendar, CalendarError, parse_days, parse_hours
from sheets_ops.rules.problems import setting_wrong
from sheets_ops.sheet import HeaderError, Snapshot, TrackerError, header_problems, normalize_header


@dataclass(frozen=True)
class Settings:
    values: dict[str, str]  # by normalized key
    zone: ZoneInfo
    calendar: Calendar

    def get(self, key: str) -> str:
        return self.values.get(normalize_header(key), SETTING_DEFAULTS.get(key, ("", ""))[0])


def read_settings(snapshot: Snapshot) -> Settings:
    """Settings from the tab, defaults for keys it lacks or cannot read (rules/problems.py
    names those). A Time Zone, Business Hours or holiday that cannot be read is a one-line
    TrackerError naming the tab and the key: every clock depends on them."""
    tab = snapshot.tab(SETTINGS.name)
    values: dict[str, str] = {}
    if tab is not None:
        problems = header_problems(tab, SETTINGS)
        if problems:
            raise HeaderError(SETTINGS.name, problems[0])
        for _row, record in tab.records():
            key = normalize_header(record.get("key"))
            value = record.get("value")
            if key and value is not None and str(value).strip():
                values[key] = str(value).strip()
    for key in SETTING_DEFAULTS:  # a value the job cannot read takes the default (problems.py)
        if normalize_header(key) in values and setting_wrong(key, values[normalize_header(key)]):
            del values[normalize_header(key)]
    zone_name = values.get("time zone", SETTING_DEFAULTS["Time Zone"][0])
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TrackerError(
            f'Settings tab: Time Zone "{zone_name}" is not a time zone; '
            "use a name like America/Chicago"
        ) from None

    def setting(key: str) -> str:
        return values.get(normalize_header(key), SETTING_DEFAULTS[key][0])

    try:
        opens, closes = parse_hours(setting("Business Hours"))
        days = parse_days(setting("Business Days"))
    except CalendarError as e:
        raise TrackerError(f"Settings tab: {e}") from None
    holidays = []
    tab = snapshot.tab(HOLIDAYS.name)
    if tab is not None and not header_problems(tab, HOLIDAYS):
        for value in tab.values("Date"):
            if isinstance(value, datetime):
                holidays.append(value.date())
            elif isinstance(value, date):
                holidays.append(value)
            elif isinstance(value, str) and value.strip():
                try:
                    holidays.append(date.fromisoformat(value.strip()[:10]))
                except ValueError:
                    raise TrackerError(
                        f'Holidays tab: "{value}" is not a date; write it like 2026-12-25'
                    ) from None
    calendar = Calendar(zone, opens, closes, days, tuple(sorted(holidays)))
    return Settings(values, zone, calendar)
