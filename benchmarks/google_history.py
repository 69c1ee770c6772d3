"""Bytes a cycle reads and sends on a Google tracker, by how many requests are archived.

    .venv/bin/python -m benchmarks.google_history [ARCHIVED ...]   (default: 0 10000 50000)

Each spreadsheet holds 1,000 open requests and ARCHIVED closed ones past Archive After Days
(every column filled, two Log lines each), as an earlier version left them in Requests. The
first cycles move them to the Archive YYYY tabs (timed on their own line); then it measures
a cycle with no new mail and one with 50 new messages, against the fake Sheets API of the
tests (the real gspread and google-auth clients, HTTP-level fake). Nothing is asserted.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import responses

from benchmarks.cycle_scaling import NOW, log_rows, request_row
from benchmarks.google_calls import key_file
from sheets_ops.cycle import run_cycle
from sheets_ops.model import LOG, REQUESTS, TABS
from sheets_ops.sync.google import open_google
from sheets_ops.sync.mailbox import FolderMailbox
from sheets_ops.sync.state import StateDir
from tests.conftest import make_eml
from tests.fake_sheets import FakeSheets

OPEN = 1_000
NEW = 50
EPOCH = datetime(1899, 12, 30)


def serial(value: Any) -> Any:
    """What Google holds for a moment: days since 1899-12-30."""
    if isinstance(value, datetime):
        return (value - EPOCH).total_seconds() / 86400
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return (datetime.combine(value, datetime.min.time()) - EPOCH).days
    return value


def spreadsheet(archived: int, mock: responses.RequestsMock, key: Path) -> FakeSheets:
    fake = FakeSheets()
    fake.install(mock)
    open_google(fake.key, key).init(TABS)
    header = [str(h) for h in fake.values(REQUESTS.name)[0]]
    rows: list[list[Any]] = [header]
    log: list[list[Any]] = [[c.name for c in LOG.columns]]
    for n in range(1, archived + OPEN + 1):
        row = request_row(n, closed=n <= archived)
        rows.append([serial(row.get(h)) for h in header])
        log += [[serial(v) for v in line] for line in log_rows(row)]
    fake.set_values(REQUESTS.name, rows)
    fake.set_values(LOG.name, log)
    fake.clear_calls()
    return fake


def cycle(fake: FakeSheets, key: Path, folder: Path, at: datetime, new: int) -> tuple[int, int]:
    inbox = folder / "inbox"
    inbox.mkdir(exist_ok=True)
    for n in range(new):
        (inbox / f"{at:%H%M}-{n:03d}.eml").write_bytes(
            make_eml(n, message_id=f"<g-{at:%H%M}-{n}@example.com>")
        )
    fake.clear_calls()
    tracker = open_google(fake.key, key)
    run_cycle(tracker, FolderMailbox(inbox), at, state=StateDir(folder / "state"))
    return sum(c.received for c in fake.calls), sum(c.sent for c in fake.calls)


def measure(archived: int, key: Path) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        folder = Path(tmp)
        fake = spreadsheet(archived, mock, key)
        started, at = time.perf_counter(), NOW
        for n in range(1, 301):  # the move out: a chunk a cycle, requests then their Log lines
            cycle(fake, key, folder, at, 0)
            mock.calls.reset()  # responses keeps every body it served: 90 MiB a cycle here
            at += timedelta(minutes=1)
            left = len(fake.values(REQUESTS.name)) - 1 - OPEN
            if left <= 0 and len(fake.values(LOG.name)) < 3 * OPEN:
                break
            if n % 10 == 0:
                print(
                    f"  {archived:,} archived: {n} cycles moving out, {max(left, 0):,} "
                    f"requests left ({time.perf_counter() - started:,.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
        moving = time.perf_counter() - started
        idle = cycle(fake, key, folder, at + timedelta(minutes=2), 0)
        mail = cycle(fake, key, folder, at + timedelta(minutes=4), NEW)
        print(
            f"{archived:>7,} archived  (moved out in {n} cycles, {moving:,.0f} s) | idle: read "
            f"{idle[0] / 1024:7.1f} KiB, sent {idle[1] / 1024:6.1f} KiB | {NEW} new: read "
            f"{mail[0] / 1024:7.1f} KiB, sent {mail[1] / 1024:6.1f} KiB",
            flush=True,
        )


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [0, 10_000, 50_000]
    print(f"a cycle on a Google tracker, {OPEN:,} open requests, by archived requests")
    with tempfile.TemporaryDirectory() as tmp:
        key = key_file(Path(tmp))
        for archived in sizes:
            measure(archived, key)


if __name__ == "__main__":
    main(sys.argv[1:])
