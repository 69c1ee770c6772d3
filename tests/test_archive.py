"""Archiving: old Done and Cancelled rows move to Archive in one write; nothing is lost."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sheets_ops.cycle import run_cycle
from sheets_ops.model import TABS
from sheets_ops.reports.metrics import compute
from sheets_ops.sheet import Batch, Move, NewRow, Snapshot
from sheets_ops.sync.archives import Archive, GoogleArchive, WorkbookArchive
from sheets_ops.sync.google import GoogleTracker
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.tracker import Tracker
from sheets_ops.sync.xlsx import XlsxTracker
from tests.conftest import make_eml
from tests.fake_sheets import FakeSheets, Sheet
from tests.people import edit_tab, log_rows, set_setting
from tests.week import CAL

NOW = datetime(2026, 11, 30, 9, 0)  # a Monday


def rows(tracker: Tracker, tab: str) -> list[dict[str, Any]]:
    """A tab's rows; "Archive" is wherever archived requests are: the workbooks a year beside
    a workbook tracker (and what its Archive tab still holds), the Archive tab elsewhere."""
    t = history(tracker).tab(tab)
    assert t is not None
    return [{h: (r[j] if j < len(r) else None) for j, h in enumerate(t.header)} for r in t.rows]


def history_of(tracker: Tracker) -> Archive:
    if isinstance(tracker, XlsxTracker):
        return WorkbookArchive(tracker.path.parent)
    assert isinstance(tracker, GoogleTracker)
    return GoogleArchive(tracker)


def history(tracker: Tracker) -> Snapshot:
    """The tracker, with the archive outside it, as reports read them."""
    snapshot = tracker.read()
    if isinstance(tracker, XlsxTracker):
        return WorkbookArchive(tracker.path.parent).joined(snapshot)
    if isinstance(tracker, GoogleTracker):  # the Archive YYYY tabs of the same spreadsheet
        return GoogleArchive(tracker).joined(snapshot)
    return snapshot


def desk(tracker: Tracker) -> None:
    """Ten requests: 4 closed more than 30 days ago, 2 closed lately, 4 open."""
    spec = [
        (1, "Done", 60),
        (2, "Cancelled", 45),
        (3, "In Progress", None),
        (4, "Done", 31),
        (5, "Done", 10),
        (6, "New", None),
        (7, "Done", 40),
        (8, "Cancelled", 2),
        (9, "Waiting on Carrier", None),
        (10, "Needs Info", None),
    ]
    new = []
    for n, status, closed_days in spec:
        received = NOW - timedelta(days=(closed_days or 1) + 2)
        new.append(
            NewRow(
                "Requests",
                {
                    "ID": f"REQ-{n:06d}",
                    "Received": received,
                    "Channel": "Email",
                    "From": f"c{n}@client.example",
                    "Type": "Billing",
                    "Owner": "Tom",
                    "Status": status,
                    "Notes": f"note {n}",
                    "Closed": NOW - timedelta(days=closed_days) if closed_days else None,
                    "Source": f"<m{n}@client.example>",
                },
            )
        )
    tracker.write(Batch(rows=new))


def test_old_closed_rows_move_whole_and_the_count_is_equal(
    tracker: Tracker, tmp_path: Path
) -> None:
    desk(tracker)
    before = {r["ID"]: r for r in rows(tracker, "Requests")}
    figures = compute(tracker.read(), CAL, NOW - timedelta(days=90), NOW)
    result = run_cycle(tracker, FolderMailbox(tmp_path / "inbox"), NOW)
    assert result.report.rows_moved == 4
    kept = [r["ID"] for r in rows(tracker, "Requests")]
    moved = {r["ID"]: r for r in rows(tracker, "Archive")}
    assert sorted(moved) == ["REQ-000001", "REQ-000002", "REQ-000004", "REQ-000007"]
    assert sorted(kept + list(moved)) == sorted(before)  # as many after as before
    for rid, row in moved.items():  # every cell went along, a person's Notes too
        for column in ("Received", "Status", "Notes", "Closed", "Source", "Owner"):
            assert row[column] == before[rid][column], (rid, column)
    (line,) = [r for r in log_rows(tracker) if r["What"] == "Archived"]
    assert line["Old"] == "2026-11-30" and line["New"].startswith("4 requests")
    after = compute(history(tracker), CAL, NOW - timedelta(days=90), NOW)
    assert (after.received, after.closed, after.closed_in_sla, after.open) == (
        figures.received,
        figures.closed,
        figures.closed_in_sla,
        figures.open,
    )


def test_once_a_day_and_never_twice(tracker: Tracker, tmp_path: Path) -> None:
    desk(tracker)
    inbox = FolderMailbox(tmp_path / "inbox")
    run_cycle(tracker, inbox, NOW)
    # REQ-000005 (closed 10 days ago) is not due until 20 days from now
    later = run_cycle(tracker, inbox, NOW + timedelta(hours=3))
    assert later.report.rows_moved == 0
    run_cycle(tracker, inbox, NOW + timedelta(days=21))
    assert "REQ-000005" in [r["ID"] for r in rows(tracker, "Archive")]
    assert len(rows(tracker, "Archive")) == 5
    # the same moves written again (a retried write) change nothing
    tracker.write(Batch(moves=[Move("Requests", "REQ-000001", "Archive")]))
    if isinstance(tracker, XlsxTracker | GoogleTracker):  # the same copy made again
        again = history_of(tracker).add(rows(tracker, "Archive")[:2], [])
        assert again == {
            "REQ-000001",
            "REQ-000002",
        }
    assert len(rows(tracker, "Archive")) == 5 and len(rows(tracker, "Requests")) == 5


def test_rows_sorted_by_a_person_meanwhile_move_by_id(tracker: Tracker, tmp_path: Path) -> None:
    desk(tracker)
    edit_tab(tracker, "Requests", lambda h, rs: (h, list(reversed(rs))))
    run_cycle(tracker, FolderMailbox(tmp_path / "inbox"), NOW)
    assert sorted(r["Notes"] for r in rows(tracker, "Archive")) == [
        "note 1",
        "note 2",
        "note 4",
        "note 7",
    ]
    assert all(
        r["Status"] not in ("Done", "Cancelled") or r["ID"] in ("REQ-000005", "REQ-000008")
        for r in rows(tracker, "Requests")
    )


def test_archived_ids_and_messages_are_never_taken_again(tracker: Tracker, tmp_path: Path) -> None:
    tracker.write(
        Batch(
            rows=[
                NewRow(
                    "Requests",
                    {
                        "ID": "REQ-000041",
                        "Received": NOW - timedelta(days=90),
                        "Channel": "Email",
                        "Status": "Done",
                        "Closed": NOW - timedelta(days=60),
                        "Source": "<old@client.example>",
                    },
                )
            ]
        )
    )
    inbox = FolderMailbox(tmp_path / "inbox")
    run_cycle(tracker, inbox, NOW)
    assert [r["ID"] for r in rows(tracker, "Archive")] == ["REQ-000041"]
    (tmp_path / "inbox").mkdir(exist_ok=True)
    (tmp_path / "inbox" / "again.eml").write_bytes(make_eml(1, message_id="<old@client.example>"))
    (tmp_path / "inbox" / "new.eml").write_bytes(make_eml(2))
    result = run_cycle(tracker, inbox, NOW + timedelta(minutes=5))
    assert result.new == 1
    assert [r["ID"] for r in rows(tracker, "Requests")] == ["REQ-000042"]


def test_off_keeps_every_row(tracker: Tracker, tmp_path: Path) -> None:
    desk(tracker)
    set_setting(tracker, "Archive After Days", "Off")
    run_cycle(tracker, FolderMailbox(tmp_path / "inbox"), NOW)
    assert len(rows(tracker, "Requests")) == 10 and rows(tracker, "Archive") == []


def test_on_google_archiving_costs_a_few_calls_once_a_day_and_a_cycle_stays_three(
    google_tracker: Tracker, sheets_api: FakeSheets, tmp_path: Path
) -> None:
    desk(google_tracker)
    state, inbox = StateDir(tmp_path / "state"), FolderMailbox(tmp_path / "inbox")
    sheets_api.clear_calls()
    result = run_cycle(google_tracker, inbox, NOW, state=state)
    assert result.archived == 4
    assert len(sheets_api.calls_of("batchGet", "get", "batchUpdate")) <= 10
    assert len(sheets_api.values("Requests")) == 1 + 6
    assert len(sheets_api.values("Archive 2026")) == 1 + 4  # its own tabs, never read by a cycle
    (tmp_path / "inbox").mkdir(exist_ok=True)
    (tmp_path / "inbox" / "new.eml").write_bytes(make_eml(2))
    sheets_api.clear_calls()
    later = run_cycle(google_tracker, inbox, NOW + timedelta(minutes=20), state=state)
    assert later.new == 1
    assert [c.kind for c in sheets_api.calls_of("batchGet", "get", "batchUpdate")] == [
        "batchGet",
        "get",
        "batchUpdate",
    ]


def test_on_google_a_cycle_reads_as_much_with_a_long_history_as_with_none(
    google_tracker: Tracker, sheets_api: FakeSheets, tmp_path: Path
) -> None:
    """Bytes read per cycle follow the open work: 1,500 archived requests (their rows and
    Log lines moved to the Archive 2026 tabs) cost what none cost."""

    def desk_with(archived: int) -> None:
        rows = []
        for n in range(1, archived + 61):
            closed = n <= archived
            received = NOW - timedelta(days=45 if closed else 0, hours=n % 40)
            rid = f"REQ-{n:06d}"
            cells = {
                "ID": rid,
                "Received": received,
                "Channel": "Email",
                "From": f"c{n}@client.example",
                "Type": "Billing",
                "Summary": f"a billing question, number {n}",
                "Owner": "Tom",
                "Status": "Done" if closed else "In Progress",
                "Closed": received + timedelta(hours=5) if closed else None,
                "Source": f"<m{n}@client.example>",
            }
            rows.append(NewRow("Requests", cells))
            rows.append(NewRow("Log", {"When": received, "Request": rid, "What": "Captured"}))
        google_tracker.write(Batch(rows=rows))

    read: dict[int, list[int]] = {}
    for archived in (0, 1500):
        sheets_api.sheets = [Sheet(0, "Sheet1")]  # a new spreadsheet for each agency
        google_tracker.init(TABS)
        desk_with(archived)
        state, box = StateDir(tmp_path / f"state-{archived}"), tmp_path / f"inbox-{archived}"
        inbox = FolderMailbox(box)
        run_cycle(google_tracker, inbox, NOW, state=state)  # the history moves out
        run_cycle(google_tracker, inbox, NOW + timedelta(minutes=1), state=state)
        box.mkdir(exist_ok=True)
        read[archived] = []
        for minute, new in ((3, 0), (5, 5)):
            for n in range(new):
                (box / f"{n}.eml").write_bytes(make_eml(9000 + n))
            sheets_api.clear_calls()
            run_cycle(google_tracker, inbox, NOW + timedelta(minutes=minute), state=state)
            read[archived].append(sum(c.received for c in sheets_api.calls))
    for quiet, long in zip(read[0], read[1500], strict=True):
        assert long <= 1.2 * quiet, read
    assert len(sheets_api.values("Archive 2026")) == 1 + 1500  # moved out, not lost


def test_on_google_a_copy_too_big_for_one_cycle_goes_over_several_and_loses_no_line(
    google_tracker: GoogleTracker, sheets_api: FakeSheets, tmp_path: Path
) -> None:
    """Google takes a big write a few requests a cycle: a request leaves the tracker only
    once its row and every one of its Log lines are in the archive."""
    rows = []
    for n in range(1, 241):
        rid, received = f"REQ-{n:06d}", NOW - timedelta(days=50, hours=n)
        rows.append(
            NewRow(
                "Requests",
                {
                    "ID": rid,
                    "Received": received,
                    "Summary": f"a billing question about invoice {n} " * 3,
                    "Type": "Billing",
                    "Status": "Done",
                    "Closed": received + timedelta(hours=4),
                    "Source": f"<m{n}@client.example>",
                },
            )
        )
        for what in ("Captured", "First response", "sheet edit: Status"):
            rows.append(NewRow("Log", {"When": received, "Request": rid, "What": what}))
    google_tracker.write(Batch(rows=rows))
    google_tracker.chunk_bytes, google_tracker.max_chunks = 40_000, 2  # a few rows a request
    state, inbox = StateDir(tmp_path / "state"), FolderMailbox(tmp_path / "inbox")
    cycles = 0
    while len(sheets_api.values("Requests")) > 1:
        assert cycles < 30, "the copy does not end"
        run_cycle(google_tracker, inbox, NOW + timedelta(minutes=cycles), state=state)
        cycles += 1
        requests_left = {r[0] for r in sheets_api.values("Requests")[1:]}
        archived = {r[0] for r in sheets_api.values("Archive 2026")[1:]}
        lines = [r for r in sheets_api.values("Log")[1:] if str(r[1]).startswith("REQ-")]
        copied = sheets_api.values("Archive 2026 Log")[1:]
        for rid in archived - requests_left:  # gone from the tracker: whole in the archive
            assert sum(1 for r in copied if r[1] == rid) == 3, rid
        assert len({(r[1], r[2]) for r in lines} | {(r[1], r[2]) for r in copied}) == 720
    assert cycles > 2  # it did take several
    assert len(sheets_api.values("Archive 2026")) == 241
    assert len(sheets_api.values("Archive 2026 Log")) == 721  # every line once
