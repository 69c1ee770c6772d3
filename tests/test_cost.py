"""What a cycle costs: a quiet desk is a read and no write; the workbook is read fast."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from sheets_ops.cli import main
from sheets_ops.sync.xlsx import XlsxTracker
from tests.conftest import in_a_process, make_eml


def stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


def set_status(path: Path, row: int, status: str) -> None:
    book = load_workbook(path)
    ws = book["Requests"]
    (col,) = [c.column for c in ws[1] if c.value == "Status"]
    ws.cell(row=row, column=col).value = status
    book.save(path)


WHILE_OPEN = ["In Progress", "Waiting on Client"]


def run_once(agency: Path, at: str) -> None:
    """One cycle in a process of its own, as cron runs it."""
    in_a_process(agency, "-m", "sheets_ops", "run", "--once", "--now", at)


@pytest.mark.parametrize("status", WHILE_OPEN)
def test_a_quiet_desk_is_a_read_and_no_write_until_aging_is_due(
    agency: Path, capsys: pytest.CaptureFixture[str], status: str
) -> None:
    assert main(["init"]) == 0
    (agency / "inbox").mkdir(exist_ok=True)
    for n in range(3):
        (agency / "inbox" / f"{n}.eml").write_bytes(make_eml(n))
    tracker = agency / "tracker.xlsx"
    assert main(["run", "--once", "--now", "2026-11-30T09:00"]) == 0
    set_status(tracker, 2, status)  # a CSR's edit, seen by the next cycle
    assert main(["run", "--once", "--now", "2026-11-30T09:02"]) == 0
    before = stamp(tracker)
    for minute in ("04", "09", "14"):  # business time passes, nothing else happens
        time.sleep(1.0)  # each process starts in a second of its own, as cron's do
        run_once(agency, f"2026-11-30T09:{minute}")
        assert stamp(tracker) == before, f"09:{minute} saved the workbook"
    run_once(agency, "2026-11-30T09:20")  # Aging Refresh Minutes
    assert stamp(tracker) != before
    capsys.readouterr()


def test_the_fast_reader_gives_the_values_the_writer_sees(agency: Path) -> None:
    """python-calamine reads what openpyxl reads: whole numbers as int, a date as midnight,
    an empty cell as None, text that looks like a formula as text."""
    assert main(["demo", "demo", "--now", "2026-12-01T15:00"]) == 0
    path = agency / "demo" / "tracker.xlsx"
    fast = XlsxTracker(path).read()
    book = load_workbook(path, read_only=True)
    for ws in book.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        tab = fast.tabs[ws.title]
        header = [str(v).strip() if v is not None else "" for v in rows[0]]
        while header and not header[-1]:
            header.pop()
        assert tab.header == header, ws.title
        for i, row in enumerate(tab.rows):
            slow = rows[i + 1] + [None] * max(0, len(row) - len(rows[i + 1]))
            for j, value in enumerate(row):
                assert value == slow[j] and type(value) is type(slow[j]), (ws.title, i, j)


QUIET_THEN_WRITE = """
import sys
from pathlib import Path
from sheets_ops.cli import main
HEAVY = ('openpyxl', 'pandas', 'dateparser')
assert main(['run', '--once', '--now', '2026-11-30T09:04']) == 0
print('loaded:', *[m for m in HEAVY if m in sys.modules])
Path('inbox/9.eml').write_bytes(Path(sys.argv[1]).read_bytes())
assert main(['run', '--once', '--now', '2026-11-30T09:06']) == 0
print('loaded:', *[m for m in HEAVY if m in sys.modules])
"""


def test_a_quiet_cycle_imports_none_of_the_writers_and_a_cycle_with_mail_still_writes(
    agency: Path,
) -> None:
    """openpyxl (the writer), pandas (the figures) and dateparser (dates in messages) take
    about half a quiet `run --once` to import: a quiet cycle reads with python-calamine and
    loads none of them; the next cycle, with mail, loads what it needs and saves."""
    assert main(["init"]) == 0
    (agency / "inbox").mkdir(exist_ok=True)
    (agency / "inbox" / "1.eml").write_bytes(make_eml(1))
    assert main(["run", "--once", "--now", "2026-11-30T09:00"]) == 0
    assert main(["run", "--once", "--now", "2026-11-30T09:02"]) == 0  # records what 09:00 sent
    message = agency / "later.eml"
    message.write_bytes(make_eml(2, body="Please send a certificate by December 4, 2026."))
    tracker = agency / "tracker.xlsx"
    before = stamp(tracker)
    said = in_a_process(agency, "-c", QUIET_THEN_WRITE, str(message))
    quiet, busy = [line.split()[1:] for line in said.splitlines() if line.startswith("loaded:")]
    assert quiet == []
    assert set(busy) >= {"openpyxl", "dateparser"}
    assert stamp(tracker) != before
    rows = XlsxTracker(tracker).read().tab("Requests")
    assert rows is not None and len(list(rows.records())) == 2
