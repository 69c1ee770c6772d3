"""What people do to the tracker between cycles, done the way they do it: straight to the
workbook with openpyxl (as Excel would save it), or to the memory backend's cells."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from openpyxl import load_workbook

from sheets_ops.sheet import Tab
from sheets_ops.sync.memory import MemoryTracker
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.xlsx import XlsxTracker

Grid = tuple[list[Any], list[list[Any]]]

# The fake Sheets API behind each Google tracker under test: people edit the sheet there.
# Weak keys: a tracker's id() can come back for another object once it is gone.
FAKES: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def edit_tab(
    tracker: Tracker, title: str, change: Callable[[list[Any], list[list[Any]]], Grid]
) -> None:
    """Rewrite one tab's header and rows as a person would leave them."""
    if isinstance(tracker, MemoryTracker):
        tab = tracker.tabs[title]
        header, rows = change(list(tab.header), [list(r) for r in tab.rows])
        tracker.tabs[title] = Tab(title, [str(h) for h in header], rows)
        return
    if tracker in FAKES:
        fake = FAKES[tracker]
        grid = fake.values(title)
        header, rows = change(grid[0] if grid else [], grid[1:])
        fake.set_values(title, [header, *rows])
        return
    assert isinstance(tracker, XlsxTracker)
    wb = load_workbook(tracker.path)
    ws = wb[title]
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    header, rows = change(grid[0] if grid else [], grid[1:])
    ws.delete_rows(1, ws.max_row + 1)
    for j, value in enumerate(header, 1):
        ws.cell(row=1, column=j).value = value
    for i, row in enumerate(rows, 2):
        for j, value in enumerate(row, 1):
            ws.cell(row=i, column=j).value = value
    wb.save(tracker.path)


def requests(tracker: Tracker) -> list[dict[str, Any]]:
    """Every non-empty Requests row, by header."""
    tab = tracker.read().tabs["Requests"]
    out = []
    for row in tab.rows:
        if any(v not in (None, "") for v in row):
            out.append({h: (row[j] if j < len(row) else None) for j, h in enumerate(tab.header)})
    return out


def log_rows(tracker: Tracker) -> list[dict[str, Any]]:
    tab = tracker.read().tabs["Log"]
    return [
        {h: (row[j] if j < len(row) else None) for j, h in enumerate(tab.header)}
        for row in tab.rows
        if any(v not in (None, "") for v in row)
    ]


def set_cell(tracker: Tracker, request_id: str, column: str, value: Any) -> None:
    """A person types into one cell of the row with this ID."""

    def change(header: list[Any], rows: list[list[Any]]) -> Grid:
        i, j = header.index("ID"), header.index(column)
        for row in rows:
            if row[i] == request_id:
                row.extend([None] * (j + 1 - len(row)))
                row[j] = value
        return header, rows

    edit_tab(tracker, "Requests", change)


def sort_requests(tracker: Tracker, column: str, reverse: bool = False) -> None:
    """A person sorts Requests by a column (blanks last), as Excel's sort does."""

    def change(header: list[Any], rows: list[list[Any]]) -> Grid:
        j = header.index(column)
        filled = [r for r in rows if any(v not in (None, "") for v in r)]
        filled.sort(
            key=lambda r: str(r[j] if j < len(r) and r[j] is not None else ""), reverse=reverse
        )
        return header, filled

    edit_tab(tracker, "Requests", change)


def rename_tab(tracker: Tracker, old: str, new: str) -> None:
    if tracker in FAKES:
        FAKES[tracker].sheet(old).title = new
        return
    if isinstance(tracker, MemoryTracker):
        tab = tracker.tabs.pop(old)
        tracker.tabs[new] = Tab(new, tab.header, tab.rows)
        return
    assert isinstance(tracker, XlsxTracker)
    wb = load_workbook(tracker.path)
    wb[old].title = new
    wb.save(tracker.path)


def add_tab(tracker: Tracker, title: str, rows: list[list[Any]]) -> None:
    """A tab that another tool created, such as Google Forms' responses tab."""
    if tracker in FAKES:
        from tests.fake_sheets import Sheet

        fake = FAKES[tracker]
        sheet = Sheet(max(s.sheet_id for s in fake.sheets) + 1, title)
        sheet.grid = [list(r) for r in rows]
        fake.sheets.append(sheet)
        return
    if isinstance(tracker, MemoryTracker):
        tracker.tabs[title] = Tab(title, [str(h) for h in rows[0]], [list(r) for r in rows[1:]])
        return
    assert isinstance(tracker, XlsxTracker)
    wb = load_workbook(tracker.path)
    ws = wb.create_sheet(title)
    for row in rows:
        ws.append(row)
    wb.save(tracker.path)


def set_setting(tracker: Tracker, key: str, value: str) -> None:
    def change(header: list[Any], rows: list[list[Any]]) -> Grid:
        k, v = header.index("Key"), header.index("Value")
        for row in rows:
            if row[k] == key:
                row[v] = value
                return header, rows
        new = [None] * len(header)
        new[k], new[v] = key, value
        return header, [*rows, new]

    edit_tab(tracker, "Settings", change)
