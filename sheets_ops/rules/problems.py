"""Values people typed that the job cannot use: each named once, by tab and cell, with what is
wrong and how to fix it. The cycle prints them, writes them to the Health tab's Problems
lines, and doctor fails on them; meanwhile the job does what is safe (an unknown Status keeps
the clock running, an unknown Owner is routed as if blank, a bad setting takes its default).
Pure: the snapshot in, the problems out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sheets_ops.model import (
    HOLIDAYS,
    REQUESTS,
    ROUTING,
    SETTING_DEFAULTS,
    SETTINGS,
    TEAM,
    CellValue,
    RequestType,
    Status,
    TabSpec,
)
from sheets_ops.rules.clock import CalendarError, parse_days, parse_hours
from sheets_ops.rules.pilot import pilot_until
from sheets_ops.sheet import Snapshot, Tab, as_number, cell_text, column_letter, header_problems

TIMES = ("Digest Times", "Daily Summary Time", "Backup Time", "My Queue Time")
NUMBERS = (
    "Cycle Minutes",
    "Aging Refresh Minutes",
    "Due Soon Hours",
    "Escalate After Idle",
    "Carrier Follow-up Days",
    "Renewal Open Days",
    "Presented Follow-up Days",
)
CHOICES = {"Client Emails": ("Pilot", "On")}
MAX_REQUEST_PROBLEMS = 200  # a broken column names its first rows, not ten thousand
_TIME = re.compile(r"\s*([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?\s*")
_WEEKLY = re.compile(r"(?i)\s*(mon|tue|wed|thu|fri|sat|sun)\w*\s+([01]?\d|2[0-3]):[0-5]\d\s*")
STATUSES = tuple(s.value for s in Status)
TYPES = tuple(t.value for t in RequestType)
LISTED = (  # a Requests column, what it may hold, and what the job does meanwhile
    ("Status", STATUSES, "seven, so its clock keeps running"),
    ("Type", TYPES, "kinds, so it is routed as Other"),
)


@dataclass(frozen=True)
class Problem:
    """One value the job cannot use: where it is, what is wrong, how to fix it."""

    tab: str
    cell: str  # like "K7"; "" for the whole tab
    what: str
    fix: str

    @property
    def where(self) -> str:
        return f"{self.tab}!{self.cell}" if self.cell else f"{self.tab} tab"

    def line(self) -> str:
        return f"{self.where}: {self.what}; {self.fix}"


def sheet_problems(snapshot: Snapshot) -> list[Problem]:
    """Every problem in the tabs people type into."""
    return [
        *missing_tabs(snapshot),
        *settings_problems(snapshot),
        *holiday_problems(snapshot),
        *routing_problems(snapshot),
        *request_problems(snapshot),
    ]


def missing_tabs(snapshot: Snapshot) -> list[Problem]:
    """A tab of business policy deleted or renamed: its defaults apply meanwhile."""
    return [
        Problem(
            spec.name,
            "",
            "is missing (deleted or renamed), so its defaults apply",
            "run `sheets-ops init` to add it back, or rename the tab back",
        )
        for spec in (SETTINGS, ROUTING, TEAM)
        if snapshot.tab(spec.name) is None
    ]


def _usable(tab: Tab | None, spec: TabSpec) -> bool:
    return tab is not None and not header_problems(tab, spec)


def settings_problems(snapshot: Snapshot) -> list[Problem]:
    """Settings whose value the job cannot read; the default is used instead."""
    tab = snapshot.tab(SETTINGS.name)
    if tab is None or not _usable(tab, SETTINGS):
        return []
    value_col = column_letter(tab.columns()["value"])
    known = {k.lower(): k for k in SETTING_DEFAULTS}
    out = []
    for row, cells in tab.records():
        key = known.get(cell_text(cells.get("key")).lower())
        value = cell_text(cells.get("value"))
        if key is None or not value:
            continue
        wrong = setting_wrong(key, value)
        if wrong:
            default = SETTING_DEFAULTS[key][0] or "none"
            what = f'{key} "{value}" {wrong[0]}, so {default} is used'
            out.append(Problem(SETTINGS.name, f"{value_col}{row}", what, wrong[1]))
    return out


def setting_wrong(key: str, value: str) -> tuple[str, str] | None:
    """(what is wrong, how to fix it) for a setting's value, or None when it reads."""
    off = value.strip().lower() == "off"
    if key in TIMES and not off:
        parts = [p for p in re.split(r"[;,]", value) if p.strip()]
        if not parts or not all(_TIME.fullmatch(p) for p in parts):
            return "is not a time of day", "write it on the 24-hour clock, like 08:30; 13:30"
    if key in NUMBERS and as_number(value) is None:
        return "is not a number", f"write a number, like {SETTING_DEFAULTS[key][0]}"
    if key == "Archive After Days" and not off and as_number(value) is None:
        return "is not a number of days", "write a number, like 30, or Off"
    if key == "Weekly Report" and not off and not _WEEKLY.fullmatch(value):
        return "is not a day and a time", "write it like Mon 08:00, or Off"
    if key == "Renewal Reminder Days" and not re.fullmatch(r"\s*\d+(\s*[;,]\s*\d+)*\s*", value):
        return "is not a list of days", "write days before expiration, like 90; 30"
    if key == "Time Zone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            return "is not a time zone", "write an IANA name, like America/Chicago"
    if key == "Business Hours":
        try:
            parse_hours(value)
        except CalendarError:
            return "is not opening and closing times", "write them like 08:00-17:00"
    if key == "Business Days":
        try:
            parse_days(value)
        except CalendarError:
            return "is not a list of days", "write them like Mon-Fri"
    if key == "Pilot Until" and pilot_until(value) is None:
        return "is not a date", "write the pilot's last day, like 2026-12-11"
    if key in CHOICES and value.lower() not in {c.lower() for c in CHOICES[key]}:
        return f"is not one of {', '.join(CHOICES[key])}", f"write {' or '.join(CHOICES[key])}"
    return None


def holiday_problems(snapshot: Snapshot) -> list[Problem]:
    """Holidays that are not dates: the clock runs on those days."""
    tab = snapshot.tab(HOLIDAYS.name)
    if tab is None or not _usable(tab, HOLIDAYS):
        return []
    date_col = column_letter(tab.columns()["date"])
    return [
        Problem(
            HOLIDAYS.name,
            f"{date_col}{row}",
            f'"{cell_text(cells.get("date"))}" is not a date, so the clock runs that day',
            "write it like 2026-12-25",
        )
        for row, cells in tab.records()
        if cell_text(cells.get("date")) and holiday_of(cells.get("date")) is None
    ]


def holiday_of(value: CellValue) -> date | None:
    """A Holidays cell as a day, or None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(cell_text(value)[:10])
    except ValueError:
        return None


def routing_problems(snapshot: Snapshot) -> list[Problem]:
    """Routing hours that are not numbers: the default hours apply to that Type."""
    tab = snapshot.tab(ROUTING.name)
    if tab is None or not _usable(tab, ROUTING):
        return []
    columns = tab.columns()
    out = []
    for row, cells in tab.records():
        kind = cell_text(cells.get("type"))
        for column, default in (
            ("SLA", "24"),
            ("Escalate After Idle", "Settings' Escalate After Idle"),
        ):
            value = cells.get(column.lower())
            if cell_text(value) and as_number(value) is None:
                cell = f"{column_letter(columns[column.lower()])}{row}"
                typed, of = cell_text(value), kind or "this row"
                what = f'{column} "{typed}" for {of} is not a number of hours, so {default} is used'
                out.append(
                    Problem(ROUTING.name, cell, what, "write business hours as a number, like 8")
                )
    return out


def team_names(snapshot: Snapshot) -> set[str]:
    """The names on the Team tab, as written (compared without case)."""
    tab = snapshot.tab(TEAM.name)
    return {
        cell_text(v).lower()
        for v in (tab.values("Name") if tab is not None else ())
        if cell_text(v)
    }


def request_problems(snapshot: Snapshot) -> list[Problem]:
    """A Status that is not one of the seven, a Type that is not one of the kinds, an Owner
    who is not on Team."""
    tab = snapshot.tab(REQUESTS.name)
    if tab is None or header_problems(tab, REQUESTS):
        return []
    team = team_names(snapshot)
    columns = tab.columns()
    out: list[Problem] = []
    for row, cells in tab.records():
        out += _request_row(row, cells, columns, team)
        if len(out) >= MAX_REQUEST_PROBLEMS:
            break
    return out


def _request_row(
    row: int, cells: Mapping[str, CellValue], columns: Mapping[str, int], team: set[str]
) -> Iterable[Problem]:
    rid = cell_text(cells.get("id")) or f"row {row}"

    def at(column: str) -> str:
        return f"{column_letter(columns[column])}{row}"

    for column, allowed, meanwhile in LISTED:
        value = cell_text(cells.get(column.lower()))
        if value and value not in allowed:
            yield Problem(
                REQUESTS.name,
                at(column.lower()),
                f'{rid}: {column} "{value}" is not one of the {meanwhile}',
                f"pick one from the list: {', '.join(allowed)}",
            )
    status = cell_text(cells.get("status"))
    owner = cell_text(cells.get("owner"))
    if owner and team and owner.lower() not in team and status not in ("Done", "Cancelled"):
        yield Problem(
            REQUESTS.name,
            at("owner"),
            f'{rid}: Owner "{owner}" is not on the Team tab, so it is routed as if blank',
            "pick a name from the Team tab, or add them there",
        )
