"""The Dashboard tab: small tables at a glance, native charts, refreshed every quarter hour."""

from __future__ import annotations

import zipfile
from datetime import datetime, timedelta
from pathlib import Path

from sheets_ops.cycle import run_cycle
from sheets_ops.model import ARCHIVE, DASHBOARD_COLUMNS, DASHBOARD_ROWS, TABS
from sheets_ops.reports.dashboard import grid
from sheets_ops.sheet import Batch, CellWrite
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.memory import MemoryTracker
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.xlsx import XlsxTracker
from tests.fake_sheets import FakeSheets
from tests.people import edit_tab, set_setting
from tests.week import CAL, fill_week

MONDAY = datetime(2026, 11, 23, 10, 0)  # the Monday after the worked week


def week(tracker: Tracker) -> Tracker:
    tracker.init((ARCHIVE,))  # the worked week keeps R7 in an Archive tab
    return fill_week(tracker)


def dashboard(tracker: Tracker) -> list[list[object]]:
    tab = tracker.read().tab("Dashboard")
    assert tab is not None
    return [list(tab.header), *tab.rows]


def cell(rows: list[list[object]], label: str, column: int = 1) -> object:
    row = next(r for r in rows if r and r[0] == label)
    return row[column] if column < len(row) else None


def test_the_tables_on_the_worked_week() -> None:
    tracker = MemoryTracker()
    tracker.init(TABS)
    week(tracker)
    rows = grid(tracker.read(), CAL, MONDAY)
    assert len(rows) == DASHBOARD_ROWS and {len(r) for r in rows} == {DASHBOARD_COLUMNS}
    assert rows[1] == ["Updated", "2026-11-23 10:00", None, None]
    assert rows[2] == ["Figure", "This week so far", "Last week", None]  # D: no baseline yet
    # last week: the figures worked out by hand in tests/week.py
    assert cell(rows, "Requests received", 2) == "6"
    assert cell(rows, "Requests closed", 2) == "4"
    assert cell(rows, "Closed within SLA", 2) == "50%"
    assert cell(rows, "Resolution, median", 2) == "12 h"
    assert cell(rows, "Requests received") == "0"
    # open now (Monday 10:00): R4 (28 business hours: 3.1 days), R5 (3 h) and R6 (over 7)
    ages = {r[0]: r[1] for r in rows[16:20]}
    assert ages == {"under 1 day": 1, "1 to 3 days": 0, "3 to 7 days": 1, "over 7 days": 1}
    assert rows[21] == ["Open per owner", "Requests", None, None]
    assert [r[:2] for r in rows[22:25]] == [["Alicia", 1], ["Priya", 1], ["Tom", 1]]
    assert rows[35] == ["Received by type", "This week so far", "Last week", None]
    assert rows[36] == ["COI", 0, 3, None]
    assert rows[42] == ["Other", 0, 0, None]


def test_a_cycle_writes_it_then_only_every_quarter_hour(tracker: Tracker, tmp_path: Path) -> None:
    week(tracker)
    inbox = FolderMailbox(tmp_path / "inbox")
    run_cycle(tracker, inbox, MONDAY)
    first = dashboard(tracker)
    assert first[1][:2] == ["Updated", "2026-11-23 10:00"]
    assert [r[:2] for r in first[22:25]] == [["Alicia", 1], ["Priya", 1], ["Tom", 1]]

    # a person types over it: the job's next refresh puts the figures back
    edit_tab(tracker, "Dashboard", lambda h, rows: (["oops"] * 3, rows))
    run_cycle(tracker, inbox, MONDAY + timedelta(minutes=14))
    assert dashboard(tracker)[0][0] == "oops"  # not due yet: a quarter hour is one write
    run_cycle(tracker, inbox, MONDAY + timedelta(minutes=15))
    again = dashboard(tracker)
    assert again[0][0] == "Service desk"
    assert again[1][:2] == ["Updated", "2026-11-23 10:15"]
    assert again[3:] == first[3:]


def test_the_workbook_keeps_its_charts_across_saves(tmp_path: Path) -> None:
    book = XlsxTracker(tmp_path / "tracker.xlsx")
    book.init(TABS)
    week(book)
    run_cycle(book, FolderMailbox(tmp_path / "inbox"), MONDAY)
    # a later write that does not touch the Dashboard: openpyxl drops charts it loads
    book.write(Batch(cells=[CellWrite("Requests", "R5", 6, "Notes", "called back")]))
    with zipfile.ZipFile(book.path) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        assert len(charts) == 3
        xml = z.read(charts[0]).decode()
    assert "Dashboard!$B$17:$B$20" in xml.replace("'", "")
    assert "Open work by age" in xml


def test_google_adds_the_charts_once_and_a_cycle_stays_three_calls(
    google_tracker: Tracker, sheets_api: FakeSheets, tmp_path: Path
) -> None:
    week(google_tracker)
    # R7 stays in the Archive tab (moving it out is tests/test_archive.py): charts here
    set_setting(google_tracker, "Archive Location", "Tracker")
    inbox = FolderMailbox(tmp_path / "inbox")
    sheets_api.clear_calls()
    run_cycle(google_tracker, inbox, MONDAY)
    assert [c.kind for c in sheets_api.calls_of("batchGet", "get", "batchUpdate")] == [
        "batchGet",
        "get",
        "batchUpdate",
    ]
    run_cycle(google_tracker, inbox, MONDAY + timedelta(hours=1))
    sheet = sheets_api.sheet("Dashboard")
    assert len(sheet.charts) == 3  # created by init, refreshed by the values since
    assert sheets_api.values("Dashboard")[1][:2] == ["Updated", "2026-11-23 11:00"]
    series = sheet.charts[2]["spec"]["basicChart"]["series"]
    assert [s["series"]["sourceRange"]["sources"][0]["startColumnIndex"] for s in series] == [1, 2]


def test_a_dashboard_someone_deleted_comes_back_with_its_charts(
    google_tracker: Tracker, sheets_api: FakeSheets, tmp_path: Path
) -> None:
    sheets_api.sheets = [s for s in sheets_api.sheets if s.title != "Dashboard"]
    run_cycle(google_tracker, FolderMailbox(tmp_path / "inbox"), MONDAY)
    assert len(sheets_api.sheet("Dashboard").charts) == 3
    assert sheets_api.values("Dashboard")[2] == ["Figure", "This week so far", "Last week"]


def test_the_baseline_stands_beside_the_weeks_once_taken() -> None:
    """After `sheets-ops baseline`, column D says how the figures stood before."""
    from sheets_ops.baseline import grid as baseline_grid
    from sheets_ops.rules.baseline import Baseline, Figures
    from sheets_ops.sheet import Batch

    tracker = MemoryTracker()
    tracker.init(TABS)
    week(tracker)
    taken = Baseline(MONDAY, MONDAY, overall=Figures("All requests", 40, 8.13, 31.5, 0.4, 0.2))
    taken.by_type = [Figures("COI", 12, 5.5, 20.0, 0.25, 0.1)]
    batch = Batch()
    batch.grids["Baseline"] = baseline_grid(taken, "COI hurts most")
    tracker.write(batch)
    rows = grid(tracker.read(), CAL, MONDAY)
    assert rows[2][3] == "Before sheets-ops"
    assert cell(rows, "First response, median", 3) == "8.13 h"
    assert cell(rows, "First response, p90", 3) == "31.5 h"
    assert cell(rows, "Requests closed", 3) is None  # the baseline has no such figure
    assert rows[35][3] == "Before: first response"  # and per type, a pilot's among them
    assert rows[36][:1] + rows[36][3:] == ["COI", "5.5 h"]
    assert rows[37][3] is None  # Endorsement: the baseline saw none
