"""Business policy from the Settings tab: what the owner can change without touching code."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sheets_ops.model import HOLIDAYS, SETTING_DEFAULTS, SETTINGS
from sheets_ops.rules.clock import Calendar, parse_days, parse_hours
from sheets_ops.rules.problems import holiday_of, setting_wrong
from sheets_ops.sheet import HeaderError, Snapshot, header_problems, normalize_header


@dataclass(frozen=True)
class Settings:
    values: dict[str, str]  # by normalized key
    zone: ZoneInfo
    calendar: Calendar

    def get(self, key: str) -> str:
        return self.values.get(normalize_header(key), SETTING_DEFAULTS.get(key, ("", ""))[0])


def read_settings(snapshot: Snapshot) -> Settings:
    """Settings from the tab, defaults for keys it lacks or cannot read (a Time Zone that is
    no zone included), the days of the Holidays tab that read as dates; rules/problems.py
    names what could not be read. A broken Settings header is a one-line TrackerError."""
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
    # A Time Zone, Business Hours or Business Days that does not read was dropped above, so
    # these parse: the defaults stand in, and rules/problems.py names the cell.
    zone = ZoneInfo(values.get("time zone", SETTING_DEFAULTS["Time Zone"][0]))

    def setting(key: str) -> str:
        return values.get(normalize_header(key), SETTING_DEFAULTS[key][0])

    opens, closes = parse_hours(setting("Business Hours"))
    days = parse_days(setting("Business Days"))
    holidays = []
    tab = snapshot.tab(HOLIDAYS.name)
    if tab is not None and not header_problems(tab, HOLIDAYS):
        for value in tab.values("Date"):
            if (day := holiday_of(value)) is not None:  # one that is not a date: a Problem
                holidays.append(day)
    calendar = Calendar(zone, opens, closes, days, tuple(sorted(holidays)))
    return Settings(values, zone, calendar)
