"""A cycle captures every message exactly once, on every backend."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from sheets_ops.cycle import CycleResult, run_cycle
from sheets_ops.rules.message import message_id_of
from sheets_ops.sheet import TrackerError
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.memory import MemoryTracker
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.xlsx import XlsxTracker
from tests.conftest import NOW, make_eml, new_tracker
from tests.people import edit_tab, log_rows, requests, sort_requests

Drop = Callable[[str, bytes], Path]


def cycle(tracker: Tracker, inbox: FolderMailbox, now: datetime = NOW, **kw: Any) -> CycleResult:
    return run_cycle(tracker, inbox, now, **kw)


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def test_each_message_becomes_one_row_with_what_intake_knows(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("a.eml", make_eml(1, subject="Certificate for Riverside Mall", sender="jen@bl.example"))
    result = cycle(tracker, inbox)
    assert result.new == 1
    [row] = requests(tracker)
    assert row["ID"] == "REQ-000001"
    assert row["Received"] == datetime(2026, 11, 27, 8, 30)  # 14:30 UTC, in Chicago
    assert row["Channel"] == "Email"
    assert row["From"] == "jen@bl.example"
    assert row["Summary"] == "Certificate for Riverside Mall"
    assert row["Status"] == "New"
    assert message_id_of(row["Source"]) == "<msg-1@example.com>"  # and a digest
    assert files(inbox.folder) == []
    assert files(inbox.processed) == ["a.eml"]
    [log] = log_rows(tracker)
    assert (log["Request"], log["What"], log["New"]) == (
        "REQ-000001",
        "Captured",
        "Email from jen@bl.example: COI",
    )


def test_a_second_cycle_adds_no_row(tracker: Tracker, inbox: FolderMailbox, drop: Drop) -> None:
    for n in range(3):
        drop(f"{n}.eml", make_eml(n))
    assert cycle(tracker, inbox).new == 3
    for name in files(inbox.processed):  # the same mail delivered again
        (inbox.folder / name).write_bytes((inbox.processed / name).read_bytes())
    again = cycle(tracker, inbox)
    assert (again.new, again.already) == (0, 3)
    assert len(requests(tracker)) == 3
    assert files(inbox.folder) == []


def test_a_message_found_twice_in_one_fetch_is_one_request(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("a.eml", make_eml(1))
    drop("a-copy.eml", make_eml(1))
    assert cycle(tracker, inbox).new == 1
    assert len(requests(tracker)) == 1
    assert files(inbox.processed) == ["a-copy.eml", "a.eml"]


def test_a_malformed_message_is_set_aside_with_its_reason_and_the_cycle_goes_on(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("good.eml", make_eml(1))
    drop("bad.eml", b"this was saved from a chat window\nno headers here\n")
    result = cycle(tracker, inbox)
    assert (result.new, result.rejected) == (1, 1)
    assert files(inbox.rejected) == ["bad.eml", "bad.eml.reason.txt"]
    reason = (inbox.rejected / "bad.eml.reason.txt").read_text()
    assert "no email headers found" in reason
    rejected = [r for r in log_rows(tracker) if r["What"] == "Rejected message"]
    assert [(r["Old"], r["New"]) for r in rejected] == [("bad.eml", reason.strip())]


def test_500_messages_with_one_malformed_end_as_499_rows_and_1_rejection(
    tmp_path: Path, inbox: FolderMailbox, drop: Drop
) -> None:
    tracker = new_tracker("xlsx", tmp_path)
    originals = {}
    for n in range(500):
        raw = make_eml(n) if n != 250 else b"\x00\x00 not mail \x00"
        originals[f"{n:03d}.eml"] = raw
        drop(f"{n:03d}.eml", raw)
    result = cycle(tracker, inbox)
    assert (result.new, result.rejected) == (499, 1)
    rows = requests(tracker)
    assert len(rows) == 499
    assert len({r["Source"] for r in rows}) == 499
    assert [r["ID"] for r in rows] == [f"REQ-{n:06d}" for n in range(1, 500)]
    assert files(inbox.rejected) == ["250.eml", "250.eml.reason.txt"]
    assert "binary data" in (inbox.rejected / "250.eml.reason.txt").read_text()

    rerun = cycle(tracker, inbox)
    assert (rerun.new, rerun.rejected) == (0, 0)
    for name, raw in originals.items():  # every file delivered again, the bad one too
        drop(name, raw)
    redelivered = cycle(tracker, inbox)
    assert (redelivered.new, redelivered.already, redelivered.rejected) == (0, 499, 1)
    assert len(requests(tracker)) == 499
    assert sum(r["What"] == "Rejected message" for r in log_rows(tracker)) == 1


def test_a_formula_in_a_subject_is_stored_as_text(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    subjects = ['=HYPERLINK("http://x","y")', "+1 555 0100 call me", "-20% discount?", "@ceo"]
    for n, subject in enumerate(subjects):
        drop(f"{n}.eml", make_eml(n, subject=subject))
    cycle(tracker, inbox)
    assert sorted(r["Summary"] for r in requests(tracker)) == sorted(subjects)
    if isinstance(tracker, XlsxTracker):
        ws = load_workbook(tracker.path)["Requests"]
        summary = next(c for c in ws[1] if c.value == "Summary").column
        cells = [ws.cell(row=r, column=summary) for r in range(2, 6)]
        assert {c.data_type for c in cells} == {"s"}
        assert all(c.quotePrefix for c in cells)
        with zipfile.ZipFile(tracker.path) as z:
            sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet and "HYPERLINK" in sheet


def test_messages_stay_in_the_inbox_when_the_tracker_cannot_be_saved(
    xlsx_tracker: XlsxTracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("a.eml", make_eml(1))
    lock = xlsx_tracker.path.with_name(f".~lock.{xlsx_tracker.path.name}#")
    lock.write_text(",Alicia Gomez,desk-3,27.11.2026 09:12,file:///tracker.xlsx;")
    with pytest.raises(TrackerError) as e:
        cycle(xlsx_tracker, inbox)
    assert "open in LibreOffice by Alicia Gomez" in str(e.value)
    assert "no message was acknowledged" in str(e.value)
    assert files(inbox.folder) == ["a.eml"]
    assert requests(xlsx_tracker) == []
    lock.unlink()
    assert cycle(xlsx_tracker, inbox).new == 1


def test_a_crash_between_saving_and_acknowledging_duplicates_nothing(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    for n in range(3):
        drop(f"{n}.eml", make_eml(n))
    inbox.processed.write_text("a file where the processed/ folder should be")
    with pytest.raises(OSError):
        cycle(tracker, inbox)
    assert len(requests(tracker)) == 3  # saved, not yet acknowledged
    assert [p.name for p in inbox.pending()] == ["0.eml", "1.eml", "2.eml"]
    inbox.processed.unlink()
    rerun = cycle(tracker, inbox)
    assert (rerun.new, rerun.already) == (0, 3)
    assert len(requests(tracker)) == 3
    assert files(inbox.processed) == ["0.eml", "1.eml", "2.eml"]


def test_a_row_a_person_typed_without_an_id_becomes_a_manual_request(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("a.eml", make_eml(1))
    cycle(tracker, inbox)

    def phone_call(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        row: list[Any] = [None] * len(header)
        row[header.index("Summary")] = "Ray called: scraped car in the bay"
        row[header.index("From")] = "(773) 555-0108"
        return header, [*rows, row]

    edit_tab(tracker, "Requests", phone_call)
    result = cycle(tracker, inbox)
    assert result.new == 1
    manual = requests(tracker)[1]
    assert manual["ID"] == "REQ-000002"
    assert manual["Channel"] == "Manual"
    assert manual["Received"] == datetime(2026, 11, 30, 9, 0)
    assert manual["Source"] == "manual:REQ-000002"
    assert manual["From"] == "(773) 555-0108"
    assert cycle(tracker, inbox).new == 0


def test_ids_are_never_reused_after_the_newest_row_is_deleted(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("1.eml", make_eml(1))
    drop("2.eml", make_eml(2))
    cycle(tracker, inbox)
    edit_tab(tracker, "Requests", lambda header, rows: (header, rows[:1]))
    drop("3.eml", make_eml(3))
    cycle(tracker, inbox)
    assert [r["ID"] for r in requests(tracker)] == ["REQ-000001", "REQ-000003"]


def test_a_sort_between_cycles_loses_nothing(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    for n in range(5):
        drop(f"{n}.eml", make_eml(n))
    cycle(tracker, inbox)
    sort_requests(tracker, "From", reverse=True)
    for n in range(5, 8):
        drop(f"{n}.eml", make_eml(n))
    assert cycle(tracker, inbox).new == 3
    rows = requests(tracker)
    assert sorted(r["ID"] for r in rows) == [f"REQ-{n:06d}" for n in range(1, 9)]
    assert {r["ID"]: r["From"] for r in rows}["REQ-000002"] == "client1@example.com"


def test_a_dry_run_writes_nothing_and_moves_nothing(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("a.eml", make_eml(1))
    drop("bad.eml", b"")
    before = tracker.read()
    result = cycle(tracker, inbox, dry_run=True)
    assert (result.new, result.rejected) == (1, 1)
    assert result.summary().startswith("1 would add")
    assert tracker.read() == before
    assert files(inbox.folder) == ["a.eml", "bad.eml"]


def test_a_cycle_reads_once_and_writes_once_whatever_the_number_of_messages(
    inbox: FolderMailbox, drop: Drop
) -> None:
    tracker = MemoryTracker()
    from sheets_ops.model import TABS

    tracker.init(TABS)
    for n in range(40):
        drop(f"{n}.eml", make_eml(n))
    cycle(tracker, inbox)
    assert (tracker.reads, tracker.writes) == (1, 1)
    cycle(tracker, inbox)  # nothing new: nothing to write
    assert (tracker.reads, tracker.writes) == (2, 1)


def test_a_broken_requests_header_stops_the_cycle_before_any_message_moves(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    drop("a.eml", make_eml(1))
    edit_tab(
        tracker,
        "Requests",
        lambda header, rows: ([h for h in header if h != "Source"], rows),
    )
    with pytest.raises(TrackerError, match='Requests tab: required header "Source" is missing'):
        cycle(tracker, inbox)
    assert files(inbox.folder) == ["a.eml"]


def test_a_bad_time_zone_in_settings_is_named_and_the_default_stands(
    tracker: Tracker, inbox: FolderMailbox, drop: Drop
) -> None:
    def bad_zone(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        for row in rows:
            if row[0] == "Time Zone":
                row[1] = "Central"
        return header, rows

    edit_tab(tracker, "Settings", bad_zone)
    drop("a.eml", make_eml(1))
    result = cycle(tracker, inbox)
    assert result.new == 1  # the cycle goes on, on the default zone
    assert any(
        'Time Zone "Central" is not a time zone, so America/Chicago is used' in line
        for line in result.problems
    )


def test_a_typed_row_keeps_what_the_person_typed_and_it_is_not_taken_for_an_edit_later(
    tracker: Tracker, inbox: FolderMailbox, tmp_path: Path
) -> None:
    """A person types a COI as Done before its step is ticked: the review would send it back
    to In Progress, but a typed cell is theirs. The row keeps "Done", and the next cycle does
    not take that "Done" for an edit they made since."""
    from sheets_ops.sync.state import StateDir
    from tests.people import log_rows

    def phone_call(header: list[Any], rows: list[list[Any]]) -> tuple[list[Any], list[list[Any]]]:
        row: list[Any] = [None] * len(header)
        row[header.index("Summary")] = "Dana called: COI for the Elm St job"
        row[header.index("Type")] = "COI"
        row[header.index("Status")] = "Done"
        return header, [*rows, row]

    edit_tab(tracker, "Requests", phone_call)
    state = StateDir(tmp_path / "state")
    assert cycle(tracker, inbox, state=state).new == 1
    [manual] = requests(tracker)
    assert manual["Status"] == "Done"
    cycle(tracker, inbox, NOW + timedelta(hours=1), state=state)
    edits = [r for r in log_rows(tracker) if r["By"] == "sheet edit"]
    assert edits == []
