"""History out of the hot path: archived requests and their Log lines leave the tracker for a
workbook a year, in bounded chunks, nothing lost or doubled, and every figure stays the same."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from sheets_ops.cli import main
from sheets_ops.cycle import run_cycle
from sheets_ops.model import TABS
from sheets_ops.sync.archives import WorkbookArchive
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.state import StateDir
from sheets_ops.sync.xlsx import XlsxTracker
from tests.conftest import make_eml
from tests.people import set_setting

NOW = datetime(2026, 3, 2, 9, 0)  # a Monday
OPEN, IN_ARCHIVE_TAB, CLOSED_IN_REQUESTS = 40, 350, 150


def closed_row(n: int) -> dict[str, Any]:
    received = NOW - timedelta(days=60 + n // 2, hours=n % 7)  # back into 2025
    return {
        "ID": f"REQ-{n:06d}",
        "Received": received,
        "Channel": "Email",
        "From": f"client{n}@example.com",
        "Client": f"Client {n % 17}",
        "Type": ("COI", "Endorsement", "Billing")[n % 3],
        "Summary": f"request {n}",
        "Owner": ("Tom Becker", "Alicia Gomez")[n % 2],
        "Status": "Done" if n % 5 else "Cancelled",
        "Notes": f"note {n}",
        "Due": received + timedelta(hours=8),
        "Closed": received + timedelta(hours=3 + n % 11),
        "Source": f"<old-{n}@example.com>",
        **TICKED,  # every close-checklist step done
    }


TICKED = dict.fromkeys(
    ("Certificate Sent", "Carrier Confirmed", "Billing Adjusted", "Client Notified"), "Yes"
)


def old_tracker(path: Path) -> set[str]:
    """A tracker as an earlier version left it: closed requests in its Archive tab and in
    Requests, open ones, two Log lines each. Returns the IDs that should leave."""
    XlsxTracker(path).init(TABS)
    book = load_workbook(path)
    requests, archive, log = book["Requests"], book["Archive"], book["Log"]
    headers = {ws.title: [c.value for c in ws[1]] for ws in (requests, archive)}
    leaving = set()
    for n in range(1, IN_ARCHIVE_TAB + CLOSED_IN_REQUESTS + OPEN + 1):
        row = closed_row(n)
        if n > IN_ARCHIVE_TAB + CLOSED_IN_REQUESTS:
            row.update(Status="In Progress", Closed=None, Received=NOW - timedelta(hours=n % 30))
        else:
            leaving.add(row["ID"])
        into = archive if n <= IN_ARCHIVE_TAB else requests
        into.append([row.get(str(h)) for h in headers[into.title]])
        log.append([row["Received"], row["ID"], "Created", None, row["Type"], "sheets-ops"])
        log.append(
            [row["Received"] + timedelta(hours=1), row["ID"], "First response", None, None, "Tom"]
        )
    log.append([NOW - timedelta(days=3), None, "sheet edit: Settings", "a", "b", "Dana"])
    book.save(path)
    return leaving


def tab_rows(path: Path, tab: str) -> list[dict[str, Any]]:
    ws = load_workbook(path, read_only=True)[tab]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, r, strict=False)) for r in rows[1:] if any(v is not None for v in r)]


def archived_ids(folder: Path) -> list[str]:
    return [
        r["ID"]
        for path in sorted(folder.glob("Archive *.xlsx"))
        for r in tab_rows(path, "Requests")
    ]


def test_an_old_tracker_moves_its_history_out_in_bounded_chunks(tmp_path: Path) -> None:
    path = tmp_path / "tracker.xlsx"
    leaving = old_tracker(path)
    before_log = tab_rows(path, "Log")
    tracker, inbox = XlsxTracker(path), FolderMailbox(tmp_path / "inbox")
    said: list[str] = []
    cycles = 0
    while tab_rows(path, "Archive") or any(
        r["Status"] in ("Done", "Cancelled") for r in tab_rows(path, "Requests")
    ):
        cycles += 1
        assert cycles <= 8, "the move does not end"
        result = run_cycle(
            tracker,
            inbox,
            NOW + timedelta(minutes=cycles),
            state=StateDir(tmp_path / "state"),
            progress=said.append,
            archive_chunk=100,
        )
        assert result.archived <= 100  # bounded: at most a chunk a cycle
    assert cycles == 5  # 500 requests, 100 a cycle
    assert any("more next cycle" in line for line in said)
    ids = archived_ids(tmp_path)
    assert sorted(ids) == sorted(leaving)  # every one, once
    assert {p.name for p in tmp_path.glob("Archive *.xlsx")} == {
        "Archive 2025.xlsx",
        "Archive 2026.xlsx",
    }  # by the year each was closed
    for p in tmp_path.glob("Archive *.xlsx"):
        year = int(p.stem.split()[1])
        assert {r["Closed"].year for r in tab_rows(p, "Requests")} == {year}
    kept = [r["ID"] for r in tab_rows(path, "Requests")]
    assert len(kept) == OPEN and not set(kept) & leaving
    archived_log = [r for p in tmp_path.glob("Archive *.xlsx") for r in tab_rows(p, "Log")]
    moved = [r for r in before_log if r["Request"] in leaving]
    assert sorted((r["Request"], r["What"]) for r in archived_log) == sorted(
        (r["Request"], r["What"]) for r in moved
    )
    left = tab_rows(path, "Log")
    assert not [r for r in left if r["Request"] in leaving]  # their lines went with them
    assert [r for r in before_log if r["Request"] not in leaving] == [
        r for r in left if r["What"] in ("Created", "First response", "sheet edit: Settings")
    ]  # the rest stayed, in order


def report(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["report", *args, "--now", NOW.isoformat()]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    "period",
    [
        ("--from", "2025-12-01", "--to", "2025-12-31"),
        ("--from", "2025-11-01", "--to", "2026-02-28"),
        ("--from", "2026-02-16", "--to", "2026-03-01"),
        (),  # last week
    ],
    ids=lambda p: " ".join(p) or "last week",
)
def test_reports_over_archived_periods_give_the_same_figures_after_the_move(
    agency: Path, capsys: pytest.CaptureFixture[str], period: tuple[str, ...]
) -> None:
    old_tracker(agency / "tracker.xlsx")
    (agency / "inbox").mkdir()
    tracker = XlsxTracker(agency / "tracker.xlsx")
    set_setting(tracker, "Archive Location", "Tracker")  # as before: the Archive tab
    assert main(["run", "--once", "--now", NOW.isoformat()]) == 0
    capsys.readouterr()
    before = report(capsys, *period)
    set_setting(tracker, "Archive Location", "")
    later = (NOW + timedelta(minutes=1)).isoformat()
    assert main(["run", "--once", "--now", later]) == 0  # all 500 move out in one cycle
    capsys.readouterr()
    assert len(archived_ids(agency)) == IN_ARCHIVE_TAB + CLOSED_IN_REQUESTS
    assert report(capsys, *period) == before
    shutil.rmtree(agency / ".sheets_ops")  # the index is a cache: rebuilt from the archive
    assert report(capsys, *period) == before


def test_a_dashboard_refresh_asks_the_small_file_not_every_archived_source(
    tmp_path: Path,
) -> None:
    """Whether a period reaches the archive is in a file of its own: a refresh of the
    Dashboard (every quarter hour) does not read the index of every archived Source."""
    path = tmp_path / "tracker.xlsx"
    old_tracker(path)
    tracker, inbox, state = XlsxTracker(path), FolderMailbox(tmp_path / "inbox"), tmp_path / "s"
    run_cycle(tracker, inbox, NOW, state=StateDir(state))  # the move, and the index
    index = state / "archive-index.json"
    assert (state / "archive-latest.json").exists() and index.exists()
    index.write_text("not read", "utf-8")  # the big file: a refresh must not need it
    later = NOW + timedelta(minutes=20)  # past the Dashboard's quarter hour
    run_cycle(tracker, inbox, later, state=StateDir(state))
    assert index.read_text("utf-8") == "not read"  # neither read (it would fail) nor rebuilt
    stamp = XlsxTracker(path).read().tab("Dashboard")
    assert stamp is not None and stamp.rows[0][1] == f"{later:%Y-%m-%d %H:%M}"


def test_archived_messages_and_ids_are_never_taken_again_even_without_state(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tracker.xlsx"
    leaving = old_tracker(path)
    tracker, inbox = XlsxTracker(path), FolderMailbox(tmp_path / "inbox")
    run_cycle(tracker, inbox, NOW, state=StateDir(tmp_path / "state"))
    assert sorted(archived_ids(tmp_path)) == sorted(leaving)
    shutil.rmtree(tmp_path / "state")
    (tmp_path / "inbox").mkdir(exist_ok=True)
    (tmp_path / "inbox" / "again.eml").write_bytes(make_eml(7, message_id="<old-7@example.com>"))
    (tmp_path / "inbox" / "new.eml").write_bytes(make_eml(9999))
    result = run_cycle(tracker, inbox, NOW + timedelta(minutes=2), state=StateDir(tmp_path / "s"))
    assert (result.new, len(result.plan.known)) == (1, 1)
    top = IN_ARCHIVE_TAB + CLOSED_IN_REQUESTS + OPEN
    assert [r["ID"] for r in tab_rows(path, "Requests")][-1] == f"REQ-{top + 1:06d}"


def test_the_archive_location_setting_chooses_the_folder_or_the_tracker(
    tmp_path: Path,
) -> None:
    for where, expect in (("history", tmp_path / "history"), ("Tracker", None)):
        folder = tmp_path / where.lower()
        folder.mkdir()
        path = folder / "tracker.xlsx"
        old_tracker(path)
        tracker = XlsxTracker(path)
        set_setting(tracker, "Archive Location", str(tmp_path / "history") if expect else where)
        run_cycle(tracker, FolderMailbox(tmp_path / "inbox"), NOW)
        if expect is None:  # the tracker's own Archive tab, as before
            assert len(tab_rows(path, "Archive")) == IN_ARCHIVE_TAB + CLOSED_IN_REQUESTS
            assert not list(folder.glob("Archive *.xlsx"))
        else:
            assert len(archived_ids(expect)) == IN_ARCHIVE_TAB + CLOSED_IN_REQUESTS
            assert tab_rows(path, "Archive") == []
    assert WorkbookArchive(tmp_path / "history").volumes().keys() == {2025, 2026}


# -- killed while moving out: every point, then the next cycle settles it ---------------------


def stamp_of(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def saving(folder: Path, name: str) -> bool:
    return any(folder.glob(f".{name}.*.sheets-ops-tmp"))


MOVE_KILL_POINTS: dict[str, Callable[[Path, tuple[int, int] | None], bool]] = {
    "while saving the archive": lambda f, _t: saving(f, "Archive 2025.xlsx"),
    "right after the archive is saved": lambda f, _t: (f / "Archive 2026.xlsx").exists(),
    "while saving the tracker": lambda f, _t: saving(f, "tracker.xlsx"),
    "right after the tracker is saved": lambda f, t: stamp_of(f / "tracker.xlsx") != t,
}


@pytest.mark.parametrize("point", [*MOVE_KILL_POINTS, "at a random moment"])
def test_a_move_killed_at_any_point_loses_and_doubles_nothing(tmp_path: Path, point: str) -> None:
    path = tmp_path / "tracker.xlsx"
    leaving = old_tracker(path)
    before_log = tab_rows(path, "Log")
    (tmp_path / "inbox").mkdir()
    env = {
        **os.environ,
        "TRACKER": str(path),
        "MAILBOX": str(tmp_path / "inbox"),
        "STATE_DIR": str(tmp_path / "state"),
    }
    cli = [sys.executable, "-m", "sheets_ops", "run", "--once", "--now"]
    process = subprocess.Popen([*cli, NOW.isoformat()], env=env, stderr=subprocess.PIPE)
    tracker_was = stamp_of(path)
    deadline = time.monotonic() + 60
    hit = False
    while process.poll() is None and time.monotonic() < deadline:
        if point == "at a random moment":
            time.sleep(random.Random(len(leaving)).uniform(0.8, 2.0))
            hit = process.poll() is None
        else:
            with contextlib.suppress(OSError):
                hit = MOVE_KILL_POINTS[point](tmp_path, tracker_was)
        if hit:
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    process.wait(60)
    assert hit or point == "at a random moment", f"the cycle ended before {point}"
    load_workbook(path, read_only=True).close()  # the tracker is whole after the kill
    later = (NOW + timedelta(minutes=2)).isoformat()
    done = subprocess.run([*cli, later], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    assert sorted(archived_ids(tmp_path)) == sorted(leaving)  # each once
    still = [r["ID"] for t in ("Requests", "Archive") for r in tab_rows(path, t)]
    assert not set(still) & leaving and len(still) == OPEN
    archived_log = [r for p in tmp_path.glob("Archive *.xlsx") for r in tab_rows(p, "Log")]
    lines = [(r["Request"], r["What"]) for r in archived_log]
    lines += [(r["Request"], r["What"]) for r in tab_rows(path, "Log") if r["Request"] in leaving]
    assert sorted(lines) == sorted(  # every Log line once, in the archive
        (r["Request"], r["What"]) for r in before_log if r["Request"] in leaving
    )
