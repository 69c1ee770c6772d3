"""People's edits between cycles: seen, logged, and never mistaken for the job's own."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sheets_ops.cycle import run_cycle
from sheets_ops.sheet import Batch, NewRow
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.tracker import Tracker
from tests.conftest import make_eml
from tests.people import log_rows, requests, set_cell

MONDAY_9 = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 09:00 in Chicago
MONDAY_10 = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
MONDAY_11 = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


@pytest.fixture
def state(tmp_path: Path) -> StateDir:
    return StateDir(tmp_path / "state")


@pytest.fixture
def staffed(tracker: Tracker) -> Tracker:
    tracker.write(
        Batch(
            rows=[
                NewRow(
                    "Team",
                    {
                        "Name": "Tom Becker",
                        "Role": "CSR",
                        "On Duty": "Yes",
                        "Email": "tom@agency.example",
                    },
                )
            ]
        )
    )
    return tracker


def test_an_edit_sets_last_touched_and_is_logged_as_a_sheet_edit(
    staffed: Tracker, inbox: FolderMailbox, state: StateDir
) -> None:
    (inbox.folder / "a.eml").write_bytes(make_eml(1))
    run_cycle(staffed, inbox, MONDAY_9, state=state)
    [row] = requests(staffed)
    assert row["Owner"] == "Tom Becker" and row["Last Touched"] is None
    set_cell(staffed, "REQ-000001", "Status", "In Progress")
    set_cell(staffed, "REQ-000001", "Notes", "called the client")
    result = run_cycle(staffed, inbox, MONDAY_10, state=state)
    assert result.review.edits == 2
    [row] = requests(staffed)
    assert row["Last Touched"] == datetime(2026, 11, 30, 10, 0)
    assert row["Idle (h)"] == 0
    edits = [
        (r["What"], r["Old"], r["New"], r["By"])
        for r in log_rows(staffed)
        if r["By"] == "sheet edit"
    ]
    assert edits == [
        ("Status changed", "New", "In Progress", "sheet edit"),
        ("Notes changed", None, "called the client", "sheet edit"),
    ]
    assert [r["What"] for r in log_rows(staffed)].count("First response") == 1
    assert run_cycle(staffed, inbox, MONDAY_11, state=state).review.edits == 0


def test_the_jobs_own_owner_fill_is_not_a_persons_edit(
    staffed: Tracker, inbox: FolderMailbox, state: StateDir
) -> None:
    (inbox.folder / "a.eml").write_bytes(make_eml(1))
    run_cycle(staffed, inbox, MONDAY_9, state=state)
    assert run_cycle(staffed, inbox, MONDAY_10, state=state).review.edits == 0
    assert not [r for r in log_rows(staffed) if r["By"] == "sheet edit"]


def test_losing_the_state_loses_nothing_and_makes_up_nothing(
    staffed: Tracker, inbox: FolderMailbox, state: StateDir
) -> None:
    (inbox.folder / "a.eml").write_bytes(make_eml(1))
    run_cycle(staffed, inbox, MONDAY_9, state=state)
    set_cell(staffed, "REQ-000001", "Status", "In Progress")
    for f in state.folder.iterdir():
        f.unlink()  # STATE_DIR wiped
    result = run_cycle(staffed, inbox, MONDAY_10, state=state)
    assert result.review.edits == 0  # the sheet as it is becomes the starting point
    assert len(requests(staffed)) == 1
    set_cell(staffed, "REQ-000001", "Status", "Done")
    assert run_cycle(staffed, inbox, MONDAY_11, state=state).review.edits == 1


def test_a_failed_write_keeps_the_state_so_the_edit_is_seen_again(
    tmp_path: Path, inbox: FolderMailbox, state: StateDir
) -> None:
    from sheets_ops.sheet import TrackerError
    from tests.conftest import new_tracker

    tracker = new_tracker("xlsx", tmp_path)
    (inbox.folder / "a.eml").write_bytes(make_eml(1))
    run_cycle(tracker, inbox, MONDAY_9, state=state)
    set_cell(tracker, "REQ-000001", "Status", "In Progress")
    lock = tmp_path / ".~lock.tracker.xlsx#"
    lock.write_text(",Tom,desk,,;")
    with pytest.raises(TrackerError):
        run_cycle(tracker, inbox, MONDAY_10, state=state)
    lock.unlink()
    assert run_cycle(tracker, inbox, MONDAY_11, state=state).review.edits == 1


@pytest.mark.parametrize(
    ("saved", "read"),
    [
        (
            {"Status": "New", "Notes": "call back 09:00"},
            {"Status": "New", "Notes": "call back 09:00"},
        ),
        # an earlier version kept a date read back as midnight; a hand-edited file, a number
        ({"Client Deadline": "2026-12-03 00:00"}, {"Client Deadline": "2026-12-03"}),
        ({"Notes": 5, "Status": "New"}, {"Notes": "5", "Status": "New"}),
    ],
)
def test_the_cells_seen_last_cycle_read_back_as_text(
    tmp_path: Path, saved: dict[str, object], read: dict[str, str]
) -> None:
    (tmp_path / "seen.json").write_text(json.dumps({"REQ-000001": saved, "x": 1}), "utf-8")
    assert StateDir(tmp_path).load_seen() == {"REQ-000001": read}
