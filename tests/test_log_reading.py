"""The Log as the cycle reads it: by header, whatever order a person put the columns in, and
with the short rows Google hands back (trailing blank cells left off)."""

from __future__ import annotations

from datetime import datetime

from sheets_ops.model import LOG, CellValue
from sheets_ops.reports.notify import SUMMARY_SENT, logged_keys
from sheets_ops.rules.history import histories
from sheets_ops.sheet import Tab

HEADER = [c.name for c in LOG.columns]
LINES: list[list[CellValue]] = [
    [datetime(2026, 3, 2, 9), "REQ-0001", "Created", None, None, "job"],
    [datetime(2026, 3, 2, 10), "REQ-0001", "Status changed", "New", "Waiting on Client", "ann"],
    [datetime(2026, 3, 3, 8), "REQ-0001", "Escalated L2", None, None, "job"],
    [datetime(2026, 3, 3, 9), "REQ-0001", "Carrier chase", "2026-03-03", None, "job"],
    [datetime(2026, 3, 3, 9), "REQ-0002", "First response", None, None, "job"],
    [datetime(2026, 3, 4, 7), None, SUMMARY_SENT, "2026-03-04", None, "job"],
    [datetime(2026, 3, 4, 8), "REQ-0002", "Status changed", "New", "In Progress", None],
]


def trimmed(row: list[CellValue]) -> list[CellValue]:
    """A row as Google returns it: no cells after the last one with a value."""
    while row and row[-1] is None:
        row = row[:-1]
    return row


def shuffled(order: list[str]) -> Tab:
    at = [HEADER.index(h) for h in order]
    return Tab("Log", order, [trimmed([line[j] for j in at]) for line in LINES])


def test_the_log_reads_the_same_with_its_columns_moved_and_its_rows_trimmed() -> None:
    plain = Tab("Log", HEADER, [list(line) for line in LINES])
    moved = shuffled(["By", "New", "What", "When", "Old", "Request"])
    assert histories(moved) == histories(plain)
    assert logged_keys(moved, SUMMARY_SENT) == logged_keys(plain, SUMMARY_SENT) == {"2026-03-04"}
    one = histories(moved)["REQ-0001"]
    assert one.status_changes == [(datetime(2026, 3, 2, 10), "New", "Waiting on Client")]
    assert one.levels == {2} and one.chased == {"2026-03-03"}
    assert histories(moved)["REQ-0002"].responded


def test_a_log_without_a_column_the_reader_needs_gives_nothing_rather_than_wrong_cells() -> None:
    tab = Tab("Log", ["When", "Request", "What", "New", "By"], [["x", "REQ-0001", SUMMARY_SENT]])
    assert logged_keys(tab, SUMMARY_SENT) == set()
    assert histories(tab) == {}


def test_a_tab_picks_its_columns_in_the_order_asked_padding_short_rows() -> None:
    tab = Tab("T", ["A", " b ", "C"], [["a1", "b1", "c1"], ["a2"], []])
    assert list(tab.picked("C", "A") or ()) == [("c1", "a1"), (None, "a2"), (None, None)]
    assert list(tab.picked("B") or ()) == [("b1",), (None,), (None,)]
    assert tab.picked("A", "D") is None
