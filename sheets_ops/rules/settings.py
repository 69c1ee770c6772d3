"""Business policy from the Settings tab: what the owner can change without touching code."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheets_ops.model import SETTING_DEFAULTS, SETTINGS
from sheets_ops.sync.tracker import (
    HeaderError,
    Snapshot,
    TrackerError,
    header_problems,
    normalize_header,
)


@dataclass(frozen=True)
class Settings:
    values: dict[str, str]
    zone: ZoneInfo

    def get(self, key: str) -> str:
        return self.values.get(normalize_header(key), SETTING_DEFAULTS.get(key, ("", ""))[0])


def read_settings(snapshot: Snapshot) -> Settings:
    """Settings from the tab, defaults for keys it lacks. A bad value is a one-line
    TrackerError naming the tab and the key."""
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
    zone_name = values.get("time zone", SETTING_DEFAULTS["Time Zone"][0])
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TrackerError(
            f'Settings tab: Time Zone "{zone_name}" is not a time zone; '
            "use a name like America/Chicago"
        ) from None
    return Settings(values, zone)
