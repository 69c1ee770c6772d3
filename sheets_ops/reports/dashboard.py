"""The Dashboard tab: a few small tables the owner reads at a glance, with charts over them.

The layout is fixed (model.DASHBOARD_*): the charts, native in the workbook and in Google
Sheets, point at fixed ranges, so rewriting the values refreshes them. "This week" runs from
Monday 00:00 to now; "Last week" is the whole week before.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sheets_ops.model import (
    DASHBOARD,
    DASHBOARD_CHARTS,
    DASHBOARD_COLUMNS,
    DASHBOARD_ROWS,
    CellValue,
    RequestType,
)
from sheets_ops.reports.metrics import BUCKETS, compute
from sheets_ops.reports.weekly import Report, before_by_type, before_from, figures, week_before
from sheets_ops.rules.clock import Calendar
from sheets_ops.sheet import Snapshot

REFRESH = timedelta(minutes=15)  # how stale the Dashboard may get; each refresh is a write
STAMP = "%Y-%m-%d %H:%M"


def updated_at(snapshot: Snapshot) -> datetime | None:
    """When the job last wrote the Dashboard (cell B2), or None."""
    tab = snapshot.tab(DASHBOARD)
    if tab is None or not tab.rows or len(tab.rows[0]) < 2:
        return None
    try:
        return datetime.strptime(str(tab.rows[0][1]).strip(), STAMP)
    except ValueError:
        return None


def due(snapshot: Snapshot, now: datetime) -> bool:
    last = updated_at(snapshot)
    return last is None or last > now or now - last >= REFRESH


def reaches_back(now: datetime) -> datetime:
    """The earliest moment the tab's figures count from: last week's Monday."""
    return week_before(now)[0]


def grid(
    snapshot: Snapshot, calendar: Calendar, now: datetime, archive: str = ""
) -> list[list[CellValue]]:
    """The whole tab, DASHBOARD_ROWS x DASHBOARD_COLUMNS, as of `now` (agency wall clock).
    `archive`: where archived requests are kept, when outside the tracker (cell C2)."""
    last_start, monday = week_before(now)
    this = compute(snapshot, calendar, monday, now)
    report = Report(this, compute(snapshot, calendar, last_start, monday))
    rows: list[list[CellValue]] = [[None] * DASHBOARD_COLUMNS for _ in range(DASHBOARD_ROWS)]

    def put(row: int, *values: CellValue) -> None:  # row is 1-based, like the sheet
        for j, value in enumerate(values):
            rows[row - 1][j] = value

    put(1, "Service desk", "written by sheets-ops; edits here are replaced")
    put(2, "Updated", now.strftime(STAMP), f"Archived requests: {archive}" if archive else None)
    baseline = before_from(snapshot)  # the figures the weekly report shows beside the week
    before = dict(baseline[1]) if baseline else {}
    put(3, "Figure", "This week so far", "Last week", "Before sheets-ops" if before else None)
    for k, (what, a, b) in enumerate(figures(report)):  # rows 4 to 14
        put(4 + k, what, a, b, before.get(what))
    age, owners, types = DASHBOARD_CHARTS
    put(age.header, "Open work by age", "Requests")
    for k, bucket in enumerate(BUCKETS):
        put(age.header + 1 + k, bucket, this.aging.get(bucket, 0))
    put(owners.header, "Open per owner", "Requests")
    load = sorted(this.load.items(), key=lambda kv: (-kv[1], kv[0]))
    slots = owners.last - owners.header
    if len(load) > slots:  # the rest, together, in the last slot
        load = [*load[: slots - 1], ("others", sum(n for _o, n in load[slots - 1 :]))]
    for k, (owner, n) in enumerate(load):
        put(owners.header + 1 + k, owner, n)
    by_type = before_by_type(snapshot)  # the baseline's median first response, per type
    said = "Before: first response" if by_type else None
    put(types.header, "Received by type", "This week so far", "Last week", said)
    for k, kind in enumerate(RequestType):
        put(
            types.header + 1 + k,
            kind.value,
            this.by_type.get(kind.value, 0),
            report.last.by_type.get(kind.value, 0),
            by_type.get(kind.value),
        )
    return rows
